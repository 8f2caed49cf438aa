"""One request to the SMS gateway: Kannel's HTTP ``sendsms`` interface.

The answer is sorted into what the sender must do with the message:

- ``accepted``: 2xx (Kannel answers ``0: Accepted for delivery`` or ``3: Queued for later
  delivery``): the gateway has it; delivery reports follow to ``dlr_url``.
- ``refused``: 4xx (a number it may not send to, a bad request): never retried.
- ``unavailable``: the connection was refused or the gateway answered 5xx: it does not have
  the message, so the sender tries again later.
- ``unknown``: the request was sent but no answer came back (a timeout, a reset): the gateway
  may have it. The sender does not send it again: nobody gets a message twice.
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
        outcome = UNAVAILABLE if error.code >= 500 else REFUSED
        return Answer(outcome, f"{error.code} {body}")
    except urllib.error.URLError as error:
        # urllib wraps only what fails while connecting and writing the request: the gateway
        # has no whole request (a refused or dropped connection, a timeout to connect), so it
        # does not have the message.
        return Answer(UNAVAILABLE, f"unreachable: {error.reason}")
    except (TimeoutError, ConnectionResetError, http.client.HTTPException) as error:
        # While waiting for the answer: the request went out, the gateway may have it.
        return Answer(UNKNOWN, f"no answer: {error!r}")
