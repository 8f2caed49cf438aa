"""The ingest's one read, and the lab's part of it, name only columns the models have: every
part is built here, each branch of it, without a scan, and each column it names is looked up in
its model. A field renamed in a model fails the read's declarations where they are made (at the
engine's import), naming the model and the field, rather than in the first scan after a deploy.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import pytest
from django.apps import apps
from django.db.models import Model

from doorstep.core import sql
from doorstep.lab.actions import retests
from doorstep.sampling import hooks
from doorstep.sampling.ingest import lookups, world
from doorstep.sampling.models import Tube, TubeMember

# Every part and clause of the read, when a batch names all it can: events (one a count), a
# lane, tubes, people added to them and boxes, in a user's towns.
PARTS = {
    "seen",
    "checked",
    "tubes",
    "members",
    "boxes",
    "rounds",
    "people",
    "sampled",
    "zones",
    "walk_ins",
    "orders",
}
CLAUSES = {"base", "camp", "named", "people", "walk_ins"}

QUALIFIED = re.compile(r"\b([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\b")
NAMED_TABLE = re.compile(r"\b(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)(?:\s+([a-z_][a-z0-9_]*))?")
WORD = re.compile(r"\b[a-z_][a-z0-9_]*\b")


def full_read() -> sql.Read:
    keys = world.Keys(
        uids=[uuid.uuid4()],
        lanes={"L01"},
        tubes={"2112250001"},
        adding_to={"2112250001"},
        boxes={"BOX0001"},
        counts=True,
        person_codes={"P0001"},
        numbers={"110101199003071234"},
    )
    access = lookups.Access(
        scan_lanes=None, scan_sites=None, towns=frozenset({1}), communities=None
    )
    return world._read(keys, access, running={1}, lane_ids=[1])


def fragments(read: sql.Read) -> list[tuple[str, str]]:
    """Each clause's and part's SQL as written, without the wrapping ``Read.run`` adds."""
    return [(name, text) for name, text, _ in read.prelude] + [
        (part.name, part.select()) for part in read.parts
    ]


def declared(*modules: ModuleType) -> dict[str, sql.Table | sql.Derived]:
    """The read's declarations by alias; an alias means one thing in the whole read."""
    found: dict[str, sql.Table | sql.Derived] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, sql.Table | sql.Derived):
                seen = found.setdefault(value.alias, value)
                assert seen.name == value.name, f"alias {value.alias} names two things"
    return found


def model_columns(table: str) -> set[str]:
    """The columns of the model whose table this is, read off the model, not the declaration."""
    models: list[type[Model]] = [m for m in apps.get_models() if m._meta.db_table == table]
    assert models, f"no model has the table {table}"
    return {f.column for f in models[0]._meta.concrete_fields}


def columns_of(thing: sql.Table | sql.Derived) -> set[str]:
    return model_columns(thing.name) if isinstance(thing, sql.Table) else set(thing.names)


def test_every_part_of_the_read_is_built_from_its_branches() -> None:
    assert isinstance(hooks.retests, retests.LabRetestBook)
    read = full_read()
    assert {p.name for p in read.parts} == PARTS
    assert {name for name, _, _ in read.prelude} == CLAUSES


def test_every_column_the_read_names_is_a_column_of_its_model() -> None:
    """Each ``alias.column`` of every part is a column the model of that alias has now, and
    each table a FROM or JOIN names sits under the alias declared for it."""
    aliases = declared(world, retests)
    problems = []
    for name, text in fragments(full_read()):
        for table, alias in NAMED_TABLE.findall(text):
            thing = aliases.get(alias or table)
            if thing is None or thing.name != table:
                problems.append(f"{name}: {table} {alias} is not declared")
        for alias, column in QUALIFIED.findall(text):
            thing = aliases.get(alias)
            if thing is None:
                problems.append(f"{name}: {alias}.{column}: no declared alias {alias}")
            elif column not in columns_of(thing):
                problems.append(f"{name}: {alias}.{column}: {thing!r} has no column {column}")
    assert not problems, "\n".join(problems)


def test_no_part_names_a_column_without_its_alias() -> None:
    """A bare column name is text the declarations never saw: outside ``alias.column`` a
    column's name may only name a clause's own output (``… AS id``)."""
    everything = set().union(*(columns_of(t) for t in declared(world, retests).values()))
    problems = []
    for name, text in fragments(full_read()):
        text = re.sub(r"'[^']*'", "", QUALIFIED.sub("", text))
        text = re.sub(r"\bAS\s+[a-z_][a-z0-9_]*", "", text)
        text = NAMED_TABLE.sub("", text)
        bare = set(WORD.findall(text)) & everything
        if bare:
            problems.append(f"{name}: {sorted(bare)} in {text}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_the_whole_read_runs_on_this_database() -> None:
    """The text the declarations built is one statement this database accepts (no scan: the
    database is empty, so every part comes back empty)."""
    assert full_read().run() == {name: [] for name in PARTS}


def fresh(module: ModuleType) -> ModuleType:
    """The module's code run again into a copy (the original, which others hold, untouched):
    what its import would do with the models as they are now."""
    spec = importlib.util.spec_from_file_location(f"{module.__name__}_copy", module.__file__)
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = copy  # its dataclasses look their module up while it runs
    try:
        spec.loader.exec_module(copy)
    finally:
        del sys.modules[spec.name]
    return copy


@contextmanager
def field_renamed(
    model: type[Model], name: str, to: str, column: str | None = None
) -> Iterator[None]:
    """The model's field ``name`` as if renamed to ``to`` (its column ``column``, else the
    new attname), for the duration."""
    field = model._meta.get_field(name)
    was = field.name, field.attname, field.column
    attname = to + field.attname.removeprefix(field.name)
    field.name, field.attname, field.column = to, attname, column or attname
    model._meta._expire_cache()
    try:
        yield
    finally:
        field.name, field.attname, field.column = was
        model._meta._expire_cache()


def test_a_field_renamed_in_a_model_fails_the_engine_at_import_naming_it() -> None:
    assert fresh(world).MEMBER_COLUMNS[1] == "member.resident_id"
    with (
        field_renamed(TubeMember, "resident", "person"),
        pytest.raises(sql.ColumnError, match=r"^sampling\.TubeMember has no field “resident_id”"),
    ):
        fresh(world)


def test_a_field_renamed_in_a_model_fails_the_labs_part_at_import_naming_it() -> None:
    with (
        field_renamed(Tube, "code", "barcode"),
        pytest.raises(sql.ColumnError, match=r"^sampling\.Tube has no field “code”"),
    ):
        fresh(retests)


def test_a_column_renamed_under_a_field_is_followed_by_the_read() -> None:
    with field_renamed(TubeMember, "resident", "resident", column="resident_ref"):
        assert fresh(world).MEMBER_COLUMNS[1] == "member.resident_ref"


def test_a_name_that_is_no_column_is_refused_with_what_to_do() -> None:
    tube = sql.Table(Tube, "tube")
    with pytest.raises(
        sql.ColumnError, match=r"^sampling\.Tube has no field “barcode”.*its fields"
    ):
        tube.c.barcode  # noqa: B018
    # A reverse relation is a field of the model, but no column of its table.
    with pytest.raises(
        sql.ColumnError, match=r"^sampling\.Tube has no column for the field “members”"
    ):
        tube.c.members  # noqa: B018


def test_the_labs_part_reads_the_engine_only_by_columns_the_engine_declares() -> None:
    without_id = sql.Derived("people", "person", ["resident_id"])
    with pytest.raises(sql.ColumnError, match="people declares no column “id”"):
        retests.LabRetestBook().orders_part(world.CAMP, without_id, world.WALK_INS)


def test_a_clause_gives_each_declared_column_a_value() -> None:
    with pytest.raises(sql.ColumnError, match="people declares 10 columns"):
        world.PEOPLE.select(world.RESIDENT.c.id)
