"""The hot path's hand-written SQL (``core.sql``): lists of keys reach the database as the
same values on both databases, whatever characters they hold (on PostgreSQL as the text of an
array, which the project builds itself)."""

from __future__ import annotations

import pytest

from doorstep.core import sql

pytestmark = pytest.mark.django_db

AWKWARD = ['say "hi"', "back\\slash", "a,b", "{braces}", "NULL", "", " spaced ", "张三", "'"]


def _matching(values: list[object], candidates: list[object], kind: str) -> list[object]:
    rows = ", ".join(["(%s)"] * len(candidates))
    where, params = sql.any_of("v", values, kind)
    found = sql.fetch(
        f"WITH t(v) AS (VALUES {rows}) SELECT v FROM t WHERE {where}", [*candidates, *params]
    )
    return sorted(v for (v,) in found)


def test_text_keys_with_quotes_backslashes_commas_and_braces_match_themselves() -> None:
    assert _matching(AWKWARD, [*AWKWARD, "other"], "text") == sorted(AWKWARD)


def test_a_key_list_matches_only_its_own_values() -> None:
    assert _matching(["a,b"], ["a", "b", "a,b"], "text") == ["a,b"]
    assert _matching([], ["a"], "text") == []


def test_number_keys_match_as_numbers() -> None:
    assert _matching([3, 10_000_000_000], [1, 3, 10_000_000_000], "bigint") == [3, 10_000_000_000]


def test_the_array_text_escapes_what_postgresql_would_misread() -> None:
    assert sql.array([1, None, True, 'a"b', "c\\d", "NULL"]) == '{1,NULL,t,"a\\"b","c\\\\d","NULL"}'
