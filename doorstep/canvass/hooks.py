"""Where the apps above door to door hear of what a tap found.

A household found with a special need (dialysis, an exam, a birth) goes on the community's
list of requests in the tap's own transaction. That list is the assistance app's, above this
one: it registers a listener here (``assistance/signals.py``), and ``outcomes`` calls every
listener with the user and the visit.
"""

from __future__ import annotations

from collections.abc import Callable

from doorstep.canvass.models import Visit
from doorstep.core.models import User

NeedListener = Callable[[User, Visit], object]
_need_listeners: list[NeedListener] = []


def register_need_listener(listener: NeedListener) -> None:
    if listener not in _need_listeners:
        _need_listeners.append(listener)


def need_found(user: User, visit: Visit) -> None:
    for listener in _need_listeners:
        listener(user, visit)
