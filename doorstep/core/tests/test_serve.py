"""`doorstep serve` starts the production server on the embedded database and serves pages."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

DOORSTEP = str(Path(sys.executable).parent / "doorstep")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def test_serve_answers_the_sign_in_page_and_static_files(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"DOORSTEP_HOME": str(tmp_path), "DOORSTEP_SECRET_KEY": "serve-test-" + "s" * 40})
    subprocess.run([DOORSTEP, "migrate", "-v0"], env=env, check=True)
    port = _free_port()
    server = subprocess.Popen(
        [DOORSTEP, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/login/")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the server did not answer within 30 s"
                time.sleep(0.2)
        css_status, css = _get(f"http://127.0.0.1:{port}/static/doorstep/doorstep.css")
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert status == 200 and b'name="password"' in body
    assert css_status == 200 and b"--brand" in css


def test_serve_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DOORSTEP_SECRET_KEY"}}
    env["DOORSTEP_HOME"] = str(tmp_path)
    result = subprocess.run(
        [DOORSTEP, "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "DOORSTEP_SECRET_KEY is not set" in result.stderr
