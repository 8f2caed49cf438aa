"""The real SMS gateway for tests: the session's ``kannel`` fixture, and a receiver of delivery
reports for tests that check Kannel itself.

The root conftest imports the fixture (``from doorstep.smsgw.testing import kannel``), so any
test can ask for it: a :class:`~doorstep.smsgw.kannel.Gateway` that is up, with numbers
starting with :data:`FAILING_PREFIX` refused (sendsms ``403 Not routable. Do not try again.``
and a delivery report of type 16). One gateway serves the whole session, so a test uses
numbers of its own and reads what reached them (``kannel.wait_received(number)``); a test
that stops a part starts it again before it ends. Each test run (the SQLite and the PostgreSQL
suite run side by side) has its own gateway on its own ports.

A machine without Kannel fails the session with the package names, never skips it.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

import pytest

from doorstep.smsgw.kannel import Gateway, Missing, NotReady

# Numbers starting with it cannot be routed: sendsms refuses them. A real prefix of China
# Telecom's, so a number with it passes Doorstep's own checks of a mobile number.
FAILING_PREFIX = "1990"


def gateway_for_tests(folder: Path) -> Gateway:
    """A gateway in ``folder``, up, tied to this process (it dies with it); a failure of the
    test, never a skip, when Kannel is missing or does not start."""
    gateway = Gateway(folder, failing_prefix=FAILING_PREFIX, tied=True)
    try:
        gateway.up()
    except Missing as exc:
        pytest.fail(f"{exc} (.ci/run installs them)", pytrace=False)
    except NotReady as exc:
        gateway.down()
        pytest.fail(f"Kannel did not start in {folder}: {exc}", pytrace=False)
    return gateway


@pytest.fixture(scope="session")
def kannel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """Kannel (bearerbox, smsbox, the fake SMS centre) for the session; its sendsms URL is
    ``kannel.sendsms_url``. Stopped, every process of it, when the session ends."""
    gateway = gateway_for_tests(tmp_path_factory.mktemp("kannel"))
    try:
        yield gateway
    finally:
        gateway.down()


class DlrReceiver:
    """A tiny HTTP server on a free loopback port that keeps every GET it gets: what a
    ``dlr-url`` reaches. Each report is the query string as a dict."""

    def __init__(self) -> None:
        self.reports: list[dict[str, str]] = []
        received = self.reports

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = urllib.parse.urlsplit(self.path).query
                received.append(dict(urllib.parse.parse_qsl(query, keep_blank_values=True)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> DlrReceiver:
        self.thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, **fixed: str) -> str:
        """A ``dlr-url`` asking Kannel for the report's type (``%d``), receiver (``%p``) and
        SMS centre reply (``%A``), with ``fixed`` parameters (the caller's own message id)
        passed through as they are."""
        port = self.server.server_address[1]
        own = urllib.parse.urlencode(fixed)
        return f"http://127.0.0.1:{port}/dlr?{own}&type=%d&to=%p&reply=%A"

    def wait(self, count: int, timeout: float = 15, **match: str) -> list[dict[str, str]]:
        """The reports whose parameters include ``match``, once there are ``count``."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in list(self.reports) if match.items() <= r.items()]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)
