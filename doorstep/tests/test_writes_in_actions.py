"""Every database write goes through an action (the style's convention 2).

A view, a page's helper or a query module that writes on its own escapes what an action
promises: its own transaction, ``update_fields``, the counters moved, the side effects sent on
commit. So a module may write only if it is an actions module (``<app>/actions.py`` or
``<app>/actions/*.py``) or one of the few engines below, each with its reason. The check reads
the source with ``ast``, like ``test_layers``, so a write is found without running it.

What counts as a write: the ORM's ``save``, ``delete``, ``create``, ``bulk_create``,
``bulk_update``, ``get_or_create``, ``update_or_create`` and a queryset's ``update`` (named
fields, no positional argument: ``dict.update(other)``, ``set.update(items)`` and
``Counter.update(items)`` pass one); ``save`` and ``delete`` only without positional arguments
(``workbook.save(buffer)`` and ``cache.delete(key)`` are not the database's); a ``ModelForm``'s
``save()`` is a write like any other. Raw SQL: any ``execute`` or ``executemany`` (a cursor's
or ``core.sql``'s) and ``core.sql.fetch`` of a statement that says INSERT, UPDATE or DELETE, or
whose text the check cannot read from the module's constants; and the write primitives
``core.bulk`` and ``core.counters.add``. A name that holds a dict (a display, ``dict()``,
an annotation, an assignment by key) is not a queryset: its ``update(a=1)`` is Python's.
Not found: a many-to-many manager's ``add``/``remove``/``set`` (they read like a set's), and a
write reached through a name the check cannot see (``getattr``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Not the running product: the tests, the migrations (data migrations write through
# ``apps.get_model`` by design) and the test kit, which builds rows the quickest way.
SKIPPED_PARTS = {"tests", "migrations", "testing"}
SKIPPED = {
    "conftest.py": "the tests' personas",
    "testing_env.py": "the tests' environment",
    # The demo fills every app with a made-up town in bulk, on an empty database, before anyone
    # signs in: nothing to keep consistent with, and nothing imports it but the simulator.
    "demo": "the demo town's builder",
    "simulate": "rehearses a day on a throwaway database, casting its staff like the demo",
    # Its ``save``s are its state files and its SQL drives the PostgreSQL servers (promotion,
    # replication, backups), not the product's rows; it imports no app.
    "ha": "the database cluster's machinery",
    "smsgw": "a stand-in SMS gateway (Kannel) with its own state; it imports no app",
}
# Django's admin saves through ``ModelAdmin`` for the superuser whether or not a module here
# overrides a step of it; the overrides are the admin's path, not the product's.
SKIPPED_NAMES = {"admin.py": "Django's admin"}

# Modules that write without being actions, and why.
ENGINES = {
    "sampling/ingest/store.py": "the ingest engine's writer: a batch of scans in a few statements",
    "sampling/tally.py": "the counters' fold, off the request on its own timer",
    "core/bulk.py": "multi-row INSERT and UPDATE, the primitive the actions and engines call",
    "core/counters.py": "counter rows moved by UPDATE field = field + delta, for the actions",
    "core/sql.py": "hand-written SQL through Django's connection, for the engines",
    "core/limits.py": "the rate limits' try log: counted before the action it guards, kept when it refuses",
    "notices/sender.py": "the outbox's sender, a worker that claims and marks messages off the request",
    "canvass/counters.py": "door to door's counters: the fold's set-based part, the recount, "
    "the tasks opened with a round; called by the fold and the actions, in their transactions",
    "closing/erase.py": "the erase of a town: one transaction over every app's tables, checked by "
    "a scan of every column before it commits, then the files, the compaction and the certificate",
}

# Writes still outside actions, each to move; the test fails on any other. An entry that no
# longer writes fails too, so the list only shrinks.
PENDING = {}

ORM_WRITES = {"bulk_create", "bulk_update", "get_or_create", "update_or_create", "create"}
WITHOUT_POSITIONAL = {"save", "delete"}
RAW = {"execute", "executemany", "executescript"}
WRITE_SQL = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
# The write primitives, by the module that holds them: (module, function).
PRIMITIVES = {
    ("doorstep.core.bulk", "insert"),
    ("doorstep.core.bulk", "update"),
    ("doorstep.core.bulk", "add"),
    ("doorstep.core.counters", "add"),
}


@dataclass(frozen=True)
class Write:
    line: int
    call: str


def _strings(tree: ast.AST) -> dict[str, str]:
    """Names bound to string constants anywhere in the module, so ``sql.fetch(STATEMENT)``
    can be read; a name bound twice keeps both texts."""
    texts: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        text = _text(value, {})
        if isinstance(target, ast.Name) and text is not None:
            texts[target.id] = texts.get(target.id, "") + " " + text
    return texts


def _text(node: ast.AST, names: dict[str, str]) -> str | None:
    """The SQL text of an argument, as far as constants tell it; None if unknown."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(_text(v, names) or "" for v in node.values)
    if isinstance(node, ast.FormattedValue):
        return _text(node.value, names)
    if isinstance(node, ast.BinOp):
        left, right = _text(node.left, names), _text(node.right, names)
        return None if left is None and right is None else f"{left or ''} {right or ''}"
    if isinstance(node, ast.Name):
        return names.get(node.id)
    return None


MAPPINGS = {"dict", "defaultdict", "Counter", "OrderedDict", "asdict", "model_to_dict"}


def _mappings(tree: ast.AST) -> set[str]:
    """Names that hold a dict (or a Counter): bound to a dict display or to a call that makes
    one, annotated as one, or assigned by key. Their ``update(a=1)`` is Python's."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            for target in targets:
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    names.add(target.value.id)  # x["key"] = ...: a mapping
                if isinstance(target, ast.Name) and (
                    isinstance(value, ast.Dict | ast.DictComp)
                    or (isinstance(value, ast.Call) and _dotted(value.func) in MAPPINGS)
                    or (isinstance(node, ast.AnnAssign) and _is_mapping(node.annotation))
                ):
                    names.add(target.id)
        elif isinstance(node, ast.arg) and node.annotation and _is_mapping(node.annotation):
            names.add(node.arg)
    return names


def _is_mapping(annotation: ast.AST) -> bool:
    base = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    return _dotted(base).rpartition(".")[2] in MAPPINGS | {"Mapping", "MutableMapping"}


def _modules(tree: ast.AST) -> dict[str, str]:
    """Local names of the project's modules and functions: ``bulk`` → ``doorstep.core.bulk``,
    ``add`` → ``doorstep.core.counters.add``."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = alias.name
    return names


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{_dotted(node.func)}()"
    if isinstance(node, ast.Subscript):
        return f"{_dotted(node.value)}[]"
    return "…"


def writes(source: str) -> list[Write]:
    """The database writes in a module's source."""
    tree = ast.parse(source)
    strings, modules, mappings = _strings(tree), _modules(tree), _mappings(tree)
    found: list[Write] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name):
            where = modules.get(func.id, "").rpartition(".")
            if (where[0], where[2]) in PRIMITIVES:
                found.append(Write(node.lineno, f"{func.id}()"))
            continue
        if not isinstance(func, ast.Attribute):
            continue
        name, receiver = func.attr, _dotted(func.value)
        owner = modules.get(receiver, "") if isinstance(func.value, ast.Name) else ""
        positional = bool(node.args)
        if (
            name in ORM_WRITES
            or (name in WITHOUT_POSITIONAL and not positional)
            or (name == "update" and not positional and node.keywords and receiver not in mappings)
            or (owner, name) in PRIMITIVES
        ):
            found.append(Write(node.lineno, f"{receiver}.{name}()"))
        elif name in RAW or (owner == "doorstep.core.sql" and name == "fetch"):
            text = _text(node.args[0], strings) if node.args else None
            if text is None or WRITE_SQL.search(text):
                found.append(Write(node.lineno, f"{receiver}.{name}()"))
    return sorted(found, key=lambda w: w.line)


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _skipped(path: Path) -> bool:
    parts = path.relative_to(ROOT).parts
    return bool(SKIPPED_PARTS & set(parts)) or parts[0] in SKIPPED or parts[-1] in SKIPPED_NAMES


def is_action(name: str) -> bool:
    parts = name.split("/")
    return parts[-1] == "actions.py" or (len(parts) > 1 and parts[-2] == "actions")


def _offenders() -> dict[str, list[Write]]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        name = _name(path)
        if _skipped(path) or is_action(name) or name in ENGINES:
            continue
        if hits := writes(path.read_text(encoding="utf-8")):
            found[name] = hits
    return found


def test_only_actions_and_the_engines_write():
    offenders = _offenders()
    wrong = [
        f"doorstep/{name}:{w.line}: {w.call}"
        for name, hits in offenders.items()
        if name not in PENDING
        for w in hits
    ]
    assert wrong == [], (
        "These write to the database outside an actions module: move each write into an "
        "action function of the app's actions (<app>/actions.py or <app>/actions/), which owns "
        "its transaction, and call it from here.\n" + "\n".join(wrong)
    )


def test_the_pending_list_only_shrinks():
    offenders = _offenders()
    done = [
        f"doorstep/{name}: no longer writes; drop it" for name in PENDING if name not in offenders
    ]
    assert done == []


def test_every_engine_named_exists_and_writes():
    """An engine that stopped writing, or moved, would leave a hole in the list."""
    idle = [name for name in ENGINES if not writes((ROOT / name).read_text(encoding="utf-8"))]
    assert idle == []


@pytest.mark.parametrize(
    "source",
    [
        "Site.objects.create(name='x')",
        "HomeStop.objects.filter(pk=1).update(done_at=now)",
        "rows.update(**moves)",
        "task.save(update_fields=['status'])",
        "form.save()",
        "Lane.objects.filter(pk=1).delete()",
        "HomeTask.objects.get_or_create(campaign_id=1)",
        "Tube.objects.bulk_update(tubes, ['state'])",
        "with connection.cursor() as c:\n    c.execute(statement)",
        "from doorstep.core import sql\nsql.execute(f'UPDATE {table} SET n = n + 1')",
        "from doorstep.core import sql\nsql.fetch('UPDATE tube SET x = 1 RETURNING id')",
        "from doorstep.core import sql\nSTATEMENT = 'DELETE FROM t'\nsql.fetch(STATEMENT)",
        "from doorstep.core import sql\nsql.fetch(statement)",
        "from doorstep.core import bulk\nbulk.insert(Tube, ('code',), rows)",
        "from doorstep.core.counters import add\nadd(LaneTally, {'lane_id': 1}, {'n': 1})",
    ],
)
def test_a_write_is_found(source: str):
    assert writes(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "context.update(other)",
        "seen.update(ids)",
        "counts.update(Counter(codes))",
        "workbook.save(buffer)",
        "cache.delete(key)",
        "from doorstep.core import sql\nsql.fetch('SELECT id FROM tube')",
        "people.add(resident)",
        "with connection.cursor() as c:\n    c.execute(f'ANALYZE {table}')",
        "context: dict[str, object] = {}\ncontext.update(rows=rows)",
        "event = {k: v for k, v in e.items()}\nevent.update(id=1)",
        "Site.objects.filter(pk=1).exists()",
    ],
)
def test_a_read_or_a_python_update_is_not_a_write(source: str):
    assert writes(source) == []
