"""audit linker in one statement (issue 19, decision 19-audit-5): ``dpa_audit_link`` (PostgreSQL)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 12:30:00.000000

The PostgreSQL linker (``services/audit_link.py``) read the unlinked events, hashed them in
Python and wrote the hashes back: three round trips after every audited commit, more than the
audited transaction itself. This function does the same steps inside the server, in one
statement (one round trip, one transaction):

1. remember the sequence's last value L (before anything else: an older L only links less);
2. lock the chain head; stop at once when the head already reached ``p_until``;
3. wait for every audited writer in flight now (its writer mark, an advisory lock taken before
   it drew its id) to end — the lock manager's view, read after L;
4. hash the committed unlinked events after the head up to L, in id order, with the published
   hash definition: SHA-256 of the UTF-8 JSON array [time, actor_type, actor_id, action,
   entity_type, entity_id, client_ip, details, prev_hash] (``to_json`` quotes strings exactly
   as Python's JSON encoder with ``ensure_ascii=False``; the time is the canonical UTC text);
5. write ``prev_hash``/``hash`` and move the head; at most ``p_limit`` events per call.

``audit verify`` still recomputes every hash in Python, so any difference between this
function and ``audit.compute_hash`` shows up as a broken chain (tests/test_audit_append.py
links awkward text here and verifies it there). SQLite: nothing (it links in the writer's
transaction).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
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
    PERFORM count(pg_advisory_xact_lock_shared({_MARK_CLASS}, objid::text::int))
      FROM pg_locks
     WHERE locktype = 'advisory' AND classid = {_MARK_CLASS}::oid AND objsubid = 2
       AND mode = 'ExclusiveLock' AND granted
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database());
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
        op.execute("DROP FUNCTION IF EXISTS dpa_audit_link(bigint, integer, integer)")
