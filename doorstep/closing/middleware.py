"""The phones learn which towns are erased (``closing.offline``).

On an offline page (the lane page, the door-to-door pages) and on the service worker's script,
the answer names the erased towns; an offline page of an erased town is answered with the page
that says its data is erased, and the phone deletes its copies. Other pages are untouched and
cost nothing. Put it after ``CSPMiddleware`` (the erased page keeps the policy) and before
``NoStore``."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from doorstep.closing import offline as erased_offline
from doorstep.core import offline


class ErasedTowns:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not offline.names_towns(response):
            return response
        erased = erased_offline.erased_towns()
        if not erased:
            return response
        town = response.get(offline.TOWN, "")
        if town.isdigit() and int(town) in erased:
            response = erased_offline.erased_page(request, int(town), erased)
        response[offline.ERASED] = erased_offline.header(erased)
        return response
