"""A database that does not answer (a primary that died, a failover under way, a connection
that reaches a standby now) is a 503 that says what to do, on pages as on the API, and the
connection is dropped so that the next request finds the new primary. Any other failure stays
a plain 500. The multi-host DATABASE_URL that lets Doorstep follow the primary is read into
Django's settings as libpq takes it."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from django.db import DatabaseError, InternalError, OperationalError, connection
from django.db.backends.utils import CursorWrapper
from django.test import Client

from doorstep import settings as doorstep_settings
from doorstep import testing_env
from doorstep.core import outage
from doorstep.core.roles import Role
from doorstep.testing import make_user


@pytest.fixture(scope="module")
def postgres_port() -> Any:
    """A PostgreSQL server to talk to directly: the suite's own when it runs on PostgreSQL, else
    a throwaway one for these tests (nothing has to listen on 5432)."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql" and "," not in str(settings["HOST"]):
        yield int(settings["PORT"] or 5432)
        return
    server = testing_env.Throwaway.start()
    try:
        yield server.port
    finally:
        server.stop()


def _database_down(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def down(self: Any, sql: str, params: Any = None) -> None:
        raise error

    monkeypatch.setattr(CursorWrapper, "execute", down)


@pytest.mark.django_db(transaction=True)
def test_a_page_whose_database_is_down_is_a_503_that_says_to_try_again(
    community: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    commander = make_user(Role.COMMANDER, community)
    client = Client(raise_request_exception=False)
    client.force_login(commander)
    connection.ensure_connection()
    _database_down(monkeypatch, OperationalError("server closed the connection unexpectedly"))
    response = client.get("/command/", headers={"Accept-Language": "en"})
    assert response.status_code == 503 and response["Retry-After"] == "5"
    page = response.content.decode()
    assert "Try again in a few seconds" in page and "nothing of this request was recorded" in page
    assert 'href="/command/"' in page  # "Try again" reloads the same page
    assert connection.connection is None  # dropped: the next request connects afresh
    monkeypatch.undo()
    assert client.get("/command/").status_code in {200, 302}


@pytest.mark.django_db(transaction=True)
def test_any_other_database_failure_is_still_a_server_error(
    community: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(make_user(Role.COMMANDER, community))
    _database_down(monkeypatch, DatabaseError("a bug of ours"))
    response = client.get("/command/")
    assert response.status_code == 500 and "Retry-After" not in response


def test_a_standby_refusing_a_write_is_an_outage_not_a_fault(postgres_port: int) -> None:
    """A connection kept open to a node that was demoted reaches a standby: PostgreSQL refuses
    the write (SQLSTATE 25006), which must read as "not the primary", like a lost connection."""
    with psycopg.connect(
        host="127.0.0.1",
        port=postgres_port,
        user="postgres",
        dbname="postgres",
        autocommit=True,
    ) as raw:
        raw.execute("SET default_transaction_read_only = on")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as caught:
            raw.execute("CREATE TABLE doorstep_probe (n int)")
    # As Django's PostgreSQL backend hands it on: its own class, the driver's error as cause.
    wrapped = InternalError(*caught.value.args)
    wrapped.__cause__ = caught.value
    assert outage.unavailable(wrapped)
    assert outage.unavailable(OperationalError("could not connect"))
    assert not outage.unavailable(DatabaseError("duplicate key"))
    assert not outage.unavailable(ValueError("not a database error"))


def test_a_database_url_may_list_every_node_of_a_cluster() -> None:
    config = doorstep_settings._postgres(
        "postgres://doorstep@db1:5432,db2:5433,db3/campaign?target_session_attrs=read-write",
        "DATABASE_URL",
    )
    assert (config["HOST"], config["PORT"], config["NAME"]) == (
        "db1,db2,db3",
        "5432,5433,5432",
        "campaign",
    )
    assert config["USER"] == "doorstep"
    options = config["OPTIONS"]
    assert options["target_session_attrs"] == "read-write"  # type: ignore[index]
    assert options["tcp_user_timeout"] > 0  # type: ignore[index]


def test_libpq_follows_the_listed_hosts_to_the_one_that_answers(postgres_port: int) -> None:
    """The first node listed is down: the connection goes to the next, as after a failover."""
    config = doorstep_settings._postgres(
        f"postgres://postgres@127.0.0.1:1,127.0.0.1:{postgres_port}/postgres"
        "?target_session_attrs=read-write",
        "DATABASE_URL",
    )
    options = {k: v for k, v in config["OPTIONS"].items() if k != "prepare_threshold"}  # type: ignore[union-attr]
    with psycopg.connect(
        host=config["HOST"], port=config["PORT"], user="postgres", dbname="postgres", **options
    ) as raw:
        assert raw.info.port == postgres_port
