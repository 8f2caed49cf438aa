"""The baselines of the ingest benchmark, beside Doorstep's own URLs: a bare view, and a view
that inserts the request's body as one row in one transaction (what any write costs here)."""

from __future__ import annotations

import uuid

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from doorstep.urls import urlpatterns as doorstep_urls

TABLE = "bench_insert"


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b'{"results": []}', content_type="application/json")


@csrf_exempt
def insert(request: HttpRequest) -> HttpResponse:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (id, body) VALUES (%s, %s)",
            [uuid.uuid4().hex, request.body.decode()],
        )
    return HttpResponse(b'{"results": []}', content_type="application/json")


urlpatterns = [path("bench/bare", bare), path("bench/insert", insert), *doorstep_urls]
