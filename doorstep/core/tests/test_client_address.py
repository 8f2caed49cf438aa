"""What a node owes the edge (``core.middleware.Edge``): the health check under any Host, each
resident's own address for the limits, and a lane node that refuses the residents' pages however
their path is spelled."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.urls import reverse

from doorstep.core.middleware import Edge, trusted_proxies
from doorstep.core.models import Attempt
from doorstep.territory import secret


def _seen(remote: str, forwarded: str | None, trusted: str) -> str:
    from django.test import RequestFactory

    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/", **meta)
    with override_settings(TRUSTED_PROXIES=trusted):
        Edge(lambda r: None)(request)  # type: ignore[arg-type,return-value]
    return str(request.META["REMOTE_ADDR"])


def test_the_proxys_last_entry_is_the_client_and_nothing_else_is_believed():
    proxy = "127.0.0.1"
    assert _seen("127.0.0.1", "10.1.2.3", proxy) == "10.1.2.3"
    # What the client wrote itself comes before the proxy's own entry, and is ignored.
    assert _seen("127.0.0.1", "6.6.6.6, 10.1.2.3", proxy) == "10.1.2.3"
    # From anywhere but the proxy, the header is the client's word only.
    assert _seen("10.9.9.9", "6.6.6.6", proxy) == "10.9.9.9"
    # With no proxy configured, nobody is believed.
    assert _seen("127.0.0.1", "6.6.6.6", "") == "127.0.0.1"
    assert _seen("127.0.0.1", None, proxy) == "127.0.0.1"
    # Networks, and an IPv4 peer written as IPv6; a garbled entry changes nothing.
    assert _seen("10.0.0.12", "10.1.2.3", "10.0.0.0/24, 192.0.2.1") == "10.1.2.3"
    assert _seen("::ffff:10.0.0.12", "2001:db8::5", "10.0.0.0/24") == "2001:db8::5"
    assert _seen("10.0.0.12", "not-an-address", "10.0.0.0/24") == "10.0.0.12"


def test_a_proxy_setting_that_is_not_an_address_is_refused_by_name():
    with pytest.raises(ImproperlyConfigured, match="'edge1' is not an address"):
        trusted_proxies("10.0.0.11, edge1")


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["doorstep.example"])
def test_the_health_check_answers_under_any_host():
    """The edge asks with its own Host: the host check must not take every node out."""
    response = Client().get("/healthz/", HTTP_HOST="edge-health-check")
    assert (response.status_code, response.content) == (200, b"ok")
    assert Client().get("/login/", HTTP_HOST="edge-health-check").status_code == 400


@pytest.mark.django_db
def test_a_lane_node_refuses_the_residents_pages_however_spelled():
    client = Client()
    with override_settings(NODE_ROLE="lanes"):
        for path in ["/status/", "/status%2Fme/", "/%73tatus/me/", "/needs/%61sk/"]:
            assert client.get(path).status_code == 421, path
        assert client.get("/login/").status_code == 200
    with override_settings(NODE_ROLE="residents"):
        assert client.get("/status%2Fme/").status_code == 200
        assert client.get("/login/").status_code == 421
    assert client.get("/status/").status_code == 200


@pytest.mark.django_db
def test_residents_behind_one_proxy_are_limited_apart():
    """Two residents' failed look-ups through the proxy count against two addresses: one
    resident at the address limit does not lock out the other."""
    with override_settings(TRUSTED_PROXIES="127.0.0.1"):
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
