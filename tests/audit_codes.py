"""Every audit action code, entity type and details key the package can write, found in the
source (``audit.record``, ``record_on``), so a test can require a label for
each: the audit viewer shows labels, never codes.

An action given as a variable is followed: a module constant, both branches of ``a if c else
b``, the values of a dict it is looked up in, and, for a parameter of the enclosing function,
the argument every call of that function passes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dpa_panel"
_APPEND_FUNCS = {"record": 2, "record_on": 2}  # name -> index of action
_SKIP = {"loadtest.py"}  # its ``record`` is a timing recorder, not the audit trail


@dataclass
class Found:
    actions: set[str] = field(default_factory=set)
    entities: set[str] = field(default_factory=set)
    detail_keys: set[str] = field(default_factory=set)
    unresolved: list[str] = field(default_factory=list)


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


class _Module:
    def __init__(self, path: Path):
        self.path = path
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.constants: dict[str, ast.expr] = {}
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                self.constants[node.targets[0].id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if node.value is not None:
                    self.constants[node.target.id] = node.value
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(self.tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent

    def enclosing_function(self, node: ast.AST):
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None


def _modules() -> list[_Module]:
    return [_Module(p) for p in sorted(PACKAGE.rglob("*.py")) if p.name not in _SKIP]


def _strings(expr, module: _Module, modules, node, depth=0) -> set[str] | None:
    """The string values ``expr`` can take, or ``None`` when they cannot be followed."""
    if depth > 4:
        return None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        a = _strings(expr.body, module, modules, node, depth + 1)
        b = _strings(expr.orelse, module, modules, node, depth + 1)
        return None if a is None or b is None else a | b
    if isinstance(expr, ast.Attribute):  # mi.ENTITY: a constant of another module
        for other in modules:
            if expr.attr in other.constants:
                return _strings(other.constants[expr.attr], other, modules, node, depth + 1)
        return None
    if isinstance(expr, ast.Subscript):  # REFUSAL_AUDIT_ACTIONS[err.key]
        mapping = expr.value
        if isinstance(mapping, ast.Name) and mapping.id in module.constants:
            mapping = module.constants[mapping.id]
        elif isinstance(mapping, ast.Attribute):
            for other in modules:
                if mapping.attr in other.constants:
                    mapping = other.constants[mapping.attr]
                    break
        if isinstance(mapping, ast.Dict):
            values = set()
            for value in mapping.values:
                got = _strings(value, module, modules, node, depth + 1)
                if got is None:
                    return None
                values |= got
            return values
        return None
    if isinstance(expr, ast.Name):
        func = module.enclosing_function(node)
        if func is not None:
            # A local assignment in the function: follow its value.
            for stmt in ast.walk(func):
                if isinstance(stmt, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == expr.id for t in stmt.targets
                ):
                    return _strings(stmt.value, module, modules, stmt, depth + 1)
            params = [a.arg for a in func.args.posonlyargs + func.args.args]
            kwonly = [a.arg for a in func.args.kwonlyargs]
            if expr.id in params or expr.id in kwonly:
                return _from_callers(func, expr.id, params, modules, depth)
        if expr.id in module.constants:
            return _strings(module.constants[expr.id], module, modules, node, depth + 1)
        for other in modules:  # a constant imported from another module
            if expr.id in other.constants:
                return _strings(other.constants[expr.id], other, modules, node, depth + 1)
    return None


def _from_callers(func, param: str, params: list[str], modules, depth) -> set[str] | None:
    index = params.index(param) if param in params else None
    if index is not None and params and params[0] in ("self", "cls"):
        index -= 1
    values: set[str] = set()
    calls = 0
    for module in modules:
        for call in ast.walk(module.tree):
            if not (isinstance(call, ast.Call) and _name(call.func) == func.name):
                continue
            arg = next((k.value for k in call.keywords if k.arg == param), None)
            if arg is None and index is not None and index < len(call.args):
                arg = call.args[index]
            if arg is None:
                continue
            calls += 1
            got = _strings(arg, module, modules, call, depth + 1)
            if got is None:
                return None
            values |= got
    return values if calls else None


def collect() -> Found:
    found = Found()
    modules = _modules()
    for module in modules:
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Call):
                continue
            index = _APPEND_FUNCS.get(_name(node.func) or "")
            if index is None:
                continue
            args = {i: a for i, a in enumerate(node.args)}
            kw = {k.arg: k.value for k in node.keywords}
            where = f"{module.path.relative_to(PACKAGE.parent)}:{node.lineno}"
            action = kw.get("action", args.get(index))
            if action is None:
                continue  # not an audit append (no action argument)
            values = _strings(action, module, modules, node)
            if values is None:
                found.unresolved.append(f"{where} action {ast.unparse(action)}")
            else:
                found.actions |= values
            entity = kw.get("entity_type", args.get(index + 1))
            if entity is not None:
                values = _strings(entity, module, modules, node)
                if values is None:
                    found.unresolved.append(f"{where} entity {ast.unparse(entity)}")
                else:
                    found.entities |= {v for v in values if v}
            details = kw.get("details", args.get(index + 3))
            if isinstance(details, ast.Dict):
                found.detail_keys |= {
                    k.value for k in details.keys if isinstance(k, ast.Constant)
                }
    return found
