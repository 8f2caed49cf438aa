"""One request to the SMS gateway: Kannel's HTTP ``sendsms`` interface.

The answer is sorted into what the sender must do with the message:

- ``accepted``: 2xx (Kannel answers ``0: Accepted for delivery`` or ``3: Queued for later
  delivery``): the gateway has it; delivery reports follow to ``dlr_url``.
- ``refused``: 4xx saying the number cannot be sent to (``Not routable``, denied): never
  retried.
- ``unavailable``: the connection was refused or dropped, the gateway answered 503, or a 4xx
  that refuses Doorstep itself (a wrong password): it does not have the message, so the sender
  tries again later.
- ``unknown``: the request was sent but no answer came back (a timeout, a reset, a proxy's 502
  or 504): the gateway may have it. The sender does not send it again: nobody gets a message twice.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

ACCEPTED, REFUSED, UNAVAILABLE, UNKNOWN = "accepted", "refused", "unavailable", "unknown"
# Kannel's delivery-report bits: delivered to the phone, failed at the phone, buffered,
# accepted by the carrier, refused by the carrier. All five, so the message's whole life shows.
DLR_MASK = 31
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Answer:
    outcome: str
    reply: str


def _gsm_only(text: str) -> bool:
    return all(ord(c) < 128 for c in text)


def send(sendsms_url: str, phone: str, text: str, dlr_url: str, timeout: float = 10.0) -> Answer:
    """Hand one message to the gateway. ``sendsms_url`` carries the username and password."""
    params = {
        "to": phone,
        "text": text,
        "charset": "UTF-8",
        # UCS-2 for Chinese; plain GSM text (160 characters a part) for English.
        "coding": "0" if _gsm_only(text) else "2",
        "dlr-mask": str(DLR_MASK),
        "dlr-url": dlr_url,
    }
    joiner = "&" if urllib.parse.urlsplit(sendsms_url).query else "?"
    url = sendsms_url + joiner + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(200).decode("utf-8", "replace").strip()
            return Answer(ACCEPTED, f"{response.status} {body}")
    except urllib.error.HTTPError as error:
        body = error.read(200).decode("utf-8", "replace").strip()
        return Answer(_outcome(error.code, body), f"{error.code} {body}")
    except urllib.error.URLError as error:
        # urllib wraps only what fails while connecting and writing the request: the gateway
        # has no whole request (a refused or dropped connection, a timeout to connect), so it
        # does not have the message.
        return Answer(UNAVAILABLE, f"unreachable: {error.reason}")
    except (TimeoutError, ConnectionResetError, http.client.HTTPException) as error:
        # While waiting for the answer: the request went out, the gateway may have it.
        return Answer(UNKNOWN, f"no answer: {type(error).__name__}")
    except ValueError:
        return Answer(UNAVAILABLE, "DOORSTEP_SMS_URL is not an http:// URL")


# What Kannel says when it will never send to this number: the message has failed. Any other
# 4xx is the gateway refusing Doorstep itself (a wrong password, no sender set): every message
# would fail alike, so they wait in the queue, and the alert shows the answer, until the
# operator fixes it.
_NUMBER_REFUSED = ("not routable", "denied", "black", "white", "receiver")


def _outcome(code: int, body: str) -> str:
    if code in (502, 504):
        # A proxy in front of the gateway gave up after passing the request on: it may have it.
        return UNKNOWN
    if code >= 500:
        return UNAVAILABLE
    if any(words in body.lower() for words in _NUMBER_REFUSED):
        return REFUSED
    return UNAVAILABLE
