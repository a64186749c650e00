"""audit linker: no wait when every id up to the sequence is committed (issue 19, 19-audit-6)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 16:30:00.000000

``dpa_audit_link`` (migration 0019) waited, after locking the chain head, for every audited
writer in flight — even when none of them could hold an id the call was about to link. Now it
first counts the committed events between the head and the sequence's last value L: when
all ``L - head`` of them are there, every id up to L is committed and visible, so no writer in
flight holds one and the wait (and the scan of ``pg_locks`` it needs) is skipped. When any id
is missing — a writer still in flight, or a rolled-back one — it waits exactly as before. The
steps, their order and the hash are otherwise unchanged. SQLite: nothing.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The writer mark's advisory lock class ("AUDT"), as ``audit_link._MARK_CLASS``.
_MARK_CLASS = 0x41554454

_FUNCTION = f"""
CREATE OR REPLACE FUNCTION dpa_audit_link(p_until bigint, p_lock_timeout_ms integer,
                                          p_limit integer)
RETURNS integer LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_upto bigint;
    v_last_id bigint;
    v_hash text;
    v_present bigint;
    v_ids bigint[] := '{{}}';
    v_prevs text[] := '{{}}';
    v_hashes text[] := '{{}}';
    r record;
BEGIN
    -- The link is re-derivable from the committed events (a lost link is redone with the
    -- same hashes), so its commit need not wait for the disk.
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM set_config('lock_timeout', p_lock_timeout_ms::text || 'ms', true);
    SELECT last_value INTO v_upto FROM audit_event_id_seq;
    SELECT last_event_id, last_hash INTO v_last_id, v_hash
      FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    IF v_last_id >= p_until THEN
        RETURN 0;
    END IF;
    -- Every id up to L committed and visible (none missing)? Then no writer holding an id in
    -- the range is still in flight, and there is nobody to wait for (issue 19, 19-audit-6).
    SELECT count(*) INTO v_present FROM audit_event AS e
     WHERE e.id > v_last_id AND e.id <= v_upto;
    IF v_present <> v_upto - v_last_id THEN
        PERFORM count(pg_advisory_xact_lock_shared({_MARK_CLASS}, objid::text::int))
          FROM pg_locks
         WHERE locktype = 'advisory' AND classid = {_MARK_CLASS}::oid AND objsubid = 2
           AND mode = 'ExclusiveLock' AND granted
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database());
    END IF;
    FOR r IN
        SELECT e.id,
               '[' || to_json(to_char(e.occurred_at AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))::text
               || ',' || to_json(e.actor_type)::text
               || ',' || coalesce(e.actor_id::text, 'null')
               || ',' || to_json(e.action)::text
               || ',' || to_json(e.entity_type)::text
               || ',' || to_json(e.entity_id)::text
               || ',' || to_json(e.client_ip)::text
               || ',' || to_json(e.details)::text || ',' AS body
          FROM audit_event AS e
         WHERE e.id > v_last_id AND e.id <= v_upto AND e.hash IS NULL
         ORDER BY e.id
         LIMIT p_limit
    LOOP
        v_prevs := v_prevs || v_hash;
        v_hash := encode(sha256(convert_to(r.body || to_json(v_hash)::text || ']', 'UTF8')),
                         'hex');
        v_ids := v_ids || r.id;
        v_hashes := v_hashes || v_hash;
    END LOOP;
    IF cardinality(v_ids) = 0 THEN
        RETURN 0;
    END IF;
    UPDATE audit_event AS e SET prev_hash = v.p, hash = v.h
      FROM unnest(v_ids, v_prevs, v_hashes) AS v(id, p, h)
     WHERE e.id = v.id;
    UPDATE audit_chain_head
       SET last_hash = v_hash, last_event_id = v_ids[cardinality(v_ids)],
           event_count = event_count + cardinality(v_ids)
     WHERE id = 1;
    RETURN cardinality(v_ids);
END
$fn$
"""



def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        import importlib.util
        from pathlib import Path

        path = Path(__file__).with_name("0019_audit_link_function.py")
        spec = importlib.util.spec_from_file_location("_audit_link_0019", path)
        previous = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(previous)
        op.execute(previous._FUNCTION)
