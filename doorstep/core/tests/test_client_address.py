"""Behind the edge proxy, each resident's own address is what the limits count."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from doorstep.core.middleware import ClientAddress
from doorstep.core.models import Attempt
from doorstep.territory import secret


def _seen(remote: str, forwarded: str | None, trusted: frozenset[str]) -> str:
    from django.test import RequestFactory

    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/", **meta)
    with override_settings(TRUSTED_PROXIES=trusted):
        ClientAddress(lambda r: None)(request)  # type: ignore[arg-type,return-value]
    return str(request.META["REMOTE_ADDR"])


def test_the_proxys_last_entry_is_the_client_and_nothing_else_is_believed():
    proxy = frozenset({"127.0.0.1"})
    assert _seen("127.0.0.1", "10.1.2.3", proxy) == "10.1.2.3"
    # What the client wrote itself comes before the proxy's own entry, and is ignored.
    assert _seen("127.0.0.1", "6.6.6.6, 10.1.2.3", proxy) == "10.1.2.3"
    # From anywhere but the proxy, the header is the client's word only.
    assert _seen("10.9.9.9", "6.6.6.6", proxy) == "10.9.9.9"
    # With no proxy configured, nobody is believed.
    assert _seen("127.0.0.1", "6.6.6.6", frozenset()) == "127.0.0.1"
    assert _seen("127.0.0.1", None, proxy) == "127.0.0.1"


@pytest.mark.django_db
def test_residents_behind_one_proxy_are_limited_apart():
    """Two residents' failed look-ups through the proxy count against two addresses: one
    resident at the address limit does not lock out the other."""
    with override_settings(TRUSTED_PROXIES=frozenset({"127.0.0.1"})):
        client = Client(REMOTE_ADDR="127.0.0.1")
        for n in range(secret.BY_ADDRESS.tries + 1):
            client.post(
                reverse("command:me"),
                {"code": f"WRONG{n}", "document": "00000X"},
                HTTP_X_FORWARDED_FOR="10.0.0.1",
            )
        kept = client.post(
            reverse("command:me"),
            {"code": "WRONG-A", "document": "00000X"},
            HTTP_X_FORWARDED_FOR="10.0.0.2",
        )
        assert kept.status_code == 200
        refused = client.post(
            reverse("command:me"),
            {"code": "WRONG-B", "document": "00000X"},
            HTTP_X_FORWARDED_FOR="10.0.0.1",
        )
        assert refused.status_code == 429
    # The address limit's tries: the first address's, and the second's one.
    assert (
        Attempt.objects.filter(kind=secret.BY_ADDRESS.kind).count() == secret.BY_ADDRESS.tries + 1
    )
