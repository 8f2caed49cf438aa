"""The PostgreSQL a run of the suite starts for itself when given none (``pytest --postgres``,
``make test-postgres``): it starts on a port of its own, answers, and is stopped and removed
when the run lets go of it, whether the tests pass, fail, or the run is killed outright."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from doorstep.testing_env import Throwaway

ROOT = Path(__file__).resolve().parent.parent.parent
# A run of its own in a folder of its own, with the plugin alone and no Django.
PYTEST = [sys.executable, "-m", "pytest", "-c", os.devnull, "-p", "doorstep.testing_env"]
PYTEST += ["-p", "no:cacheprovider", "-p", "no:django", "--postgres", "test_probe.py"]


def _answers(port: int) -> bool:
    try:
        with psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=2
        ):
            return True
    except psycopg.OperationalError:
        return False


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _postmaster(root: Path) -> int:
    return int((root / "data" / "postmaster.pid").read_text().split()[0])


def _gone(root: Path, port: int, postmaster: int) -> bool:
    """The keeper stops the server, then removes the folder: wait for it (a run killed
    outright is cleaned up after it has gone, not before)."""
    for _ in range(300):
        if not root.exists() and not _running(postmaster):
            break
        time.sleep(0.1)
    return not root.exists() and not _running(postmaster) and not _answers(port)


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_the_server_starts_on_a_port_of_its_own_answers_and_is_removed_when_let_go():
    server = Throwaway.start()
    postmaster = _postmaster(server.root)
    try:
        assert server.port != 5432
        assert server.url == f"postgres://postgres@127.0.0.1:{server.port}/doorstep"
        assert (server.root / "data" / "PG_VERSION").exists()
        with psycopg.connect(
            host="127.0.0.1", port=server.port, user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute("CREATE DATABASE doorstep")
            assert connection.execute("SELECT current_user").fetchone() == ("postgres",)
        with psycopg.connect(server.url) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
    finally:
        server.stop()
    assert not server.root.exists()
    assert not _running(postmaster)
    assert not _answers(server.port)


def test_a_run_killed_outright_still_has_its_server_stopped_and_removed():
    program = textwrap.dedent(
        """
        import os, signal
        from doorstep.testing_env import Throwaway
        server = Throwaway.start()
        pid = (server.root / "data" / "postmaster.pid").read_text().split()[0]
        print(server.port, server.root, pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", program],
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == -9, run.stderr
    port, root, postmaster = run.stdout.split()
    assert _gone(Path(root), int(port), int(postmaster))


def test_pytest_postgres_runs_a_failing_suite_on_its_own_server_and_removes_it(tmp_path):
    """The plugin's way in: DATABASE_URL is set before the tests run, the header names the
    server, and a failing run still removes it."""
    (tmp_path / "test_probe.py").write_text(
        textwrap.dedent(
            """
            import os
            from pathlib import Path

            import psycopg

            def test_probe():
                url = os.environ["DATABASE_URL"]
                Path("url").write_text(url)
                with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres") as connection:
                    data = Path(connection.execute("SHOW data_directory").fetchone()[0])
                Path("pid").write_text((data / "postmaster.pid").read_text().split()[0])
                assert False, "a failing test"
            """
        )
    )
    env = _environment()
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run(
        PYTEST,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout + run.stderr
    header = next(line for line in run.stdout.splitlines() if line.startswith("database:"))
    url = (tmp_path / "url").read_text()
    port = int(url.split(":")[-1].split("/")[0])
    assert header.startswith(f"database: a throwaway PostgreSQL on 127.0.0.1:{port} in ")
    assert port != 5432
    postmaster = int((tmp_path / "pid").read_text())
    assert _gone(Path(header.rsplit(" in ", 1)[1]), port, postmaster)


def test_a_database_url_given_is_used_and_nothing_is_started(tmp_path):
    (tmp_path / "test_probe.py").write_text(
        "import os\n\ndef test_probe():\n    assert os.environ['DATABASE_URL'] == 'given'\n"
    )
    env = _environment()
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["DATABASE_URL"] = "given"
    run = subprocess.run(
        PYTEST,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "throwaway" not in run.stdout
