"""The JSON API for devices and integrations, at /api/v1/ (OpenAPI at /api/v1/openapi.json).

It calls the same actions as the pages. Bodies that are not JSON or not the documented envelope
are 400, a bad or missing token 401; otherwise every event or result gets its own answer.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.security import HttpBearer

from doorstep.api import events_schema
from doorstep.api.models import ApiToken, digest
from doorstep.campaigns.models import Campaign
from doorstep.campaigns.queries import running_in_many
from doorstep.command import zoning
from doorstep.core import outage
from doorstep.core.models import User
from doorstep.core.roles import Can
from doorstep.core.ttl import Ttl
from doorstep.lab.actions import results as lab_results
from doorstep.sampling import ingest
from doorstep.sampling.ingest.combine import combiner
from doorstep.sampling.models import Lane
from doorstep.sampling.queries import lane_pools, scan_lanes
from doorstep.territory.scoping import communities_for, scoped

# A token's user and lane, by the token's digest, for settings.CACHE_SECONDS: a revoked token
# or a deactivated user stops working on every process within that time.
_tokens: Ttl[str, tuple[User, int | None] | None] = Ttl("device tokens")


def _token(key_digest: str) -> tuple[User, int | None] | None:
    found = (
        ApiToken.objects.filter(key_digest=key_digest, revoked_at__isnull=True)
        .select_related("user")
        .first()
    )
    if found is None or not found.user.is_active:
        return None
    return found.user, found.lane_id


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        key = digest(token)
        found = _tokens.get(key, lambda: _token(key))
        if found is None:
            return None
        user, lane = found
        request.user = user
        request.token_lane = lane  # type: ignore[attr-defined]
        return user


class DeviceApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        """The document, with the device events typed one by one (``events_schema``)."""
        return events_schema.document(super().get_openapi_schema(**kwargs))  # type: ignore[return-value]


api = DeviceApi(
    title="Doorstep device API",
    version="1",
    description=(
        "Scan events from lanes, box custody and lab results. Authenticate with "
        "`Authorization: Bearer <token>` (`doorstep create-token USERNAME`)."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url="/docs",
)


class ErrorOut(Schema):
    error: str


class AnswerError(Schema):
    code: str
    message: str


class EventAnswer(Schema):
    id: str
    status: str
    error: AnswerError | None = None
    # tube.add: the person's masked name, when the scan names someone on the roster or a walk-in.
    person: str | None = None
    # tube.open: the pool the tube was opened with (the lane's zone rule when none was sent).
    pool: str | None = None
    capacity: int | None = None


class EventsIn(Schema):
    events: list[Any]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "events": [
                        {
                            "id": "5b0f3c1e-8a52-4c7e-9d5e-0b6a1f1c9a01",
                            "type": "tube.open",
                            "at": "2021-12-25T09:12:03+08:00",
                            "lane": "K7Q4MX",
                            "tube": "2112250001",
                            "pool": 10,
                        },
                        {
                            "id": "5b0f3c1e-8a52-4c7e-9d5e-0b6a1f1c9a02",
                            "type": "tube.add",
                            "at": "2021-12-25T09:12:20+08:00",
                            "tube": "2112250001",
                            "person": "K7QM9XD46",
                        },
                    ]
                }
            ]
        }
    }


class EventsOut(Schema):
    results: list[EventAnswer]


class ResultRow(Schema):
    tube: str
    result: str
    ct: float | str | None = None
    tested_at: str | None = None
    correction: bool = False
    reason: str = ""


class ResultsIn(Schema):
    results: list[Any]


class ResultAnswer(Schema):
    tube: str
    status: str
    error: AnswerError | None = None


class ResultsOut(Schema):
    results: list[ResultAnswer]


class LaneOut(Schema):
    code: str
    name: str
    site: str
    community: str
    pool: str


class LiftOut(Schema):
    building_id: int
    building: str
    community: str
    zone: str
    lifts_to: str | None
    last_positive: str | None
    clear_since: str
    days_clear: int
    last_round: str | None
    untested_last_round: int | None
    open_retests: int
    can_lift: bool
    why_not: list[str]


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    message = (
        f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid"))
    )
    return api.create_response(
        request,
        {
            "error": _("The body is not the documented envelope (%(problem)s).")
            % {"problem": message}
        },
        status=400,
    )


@api.exception_handler(AuthenticationError)
def _unauthorised(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {
            "error": _(
                "Missing or unknown token: send Authorization: Bearer <token> from `doorstep create-token`."
            )
        },
        status=401,
    )


@api.exception_handler(DatabaseError)
def _database_down(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The database is not answering (restarting, failing over, or this connection reaches a
    standby now): nothing of the request was committed, and the same events may be sent again,
    which is safe. Any other database error is a fault to report (500)."""
    if not outage.unavailable(exc):
        raise exc
    outage.drop_connections()
    response = api.create_response(
        request,
        {
            "error": _(
                "The database is not answering; nothing of this request was recorded. Send it again in a few seconds: resending the same ids is safe."
            )
        },
        status=503,
    )
    response["Retry-After"] = str(outage.RETRY_AFTER_SECONDS)
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if exc.status_code == 400:
        message = _('The body is not JSON. Send {"events": [...]} as application/json.')
    return api.create_response(request, {"error": message}, status=exc.status_code)


def _too_many(n: int, limit: int) -> None:
    if n > limit:
        raise HttpError(
            413,
            _("At most %(limit)s items per request; this one has %(n)s. Split it.")
            % {"limit": limit, "n": n},
        )


@api.get(
    "/lanes", response={200: list[LaneOut], 401: ErrorOut}, summary="Lanes this token may work"
)
def lanes(request: HttpRequest) -> list[dict[str, str]]:
    user: User = request.auth  # type: ignore[attr-defined]
    if not user.can(Can.SCAN):
        return []
    allowed = scan_lanes(user, getattr(request, "token_lane", None))
    found = [
        lane
        for lane in scoped(user, Lane.objects.select_related("site__community"), "site__community")
        if allowed is None or lane.pk in allowed
    ]
    running = running_in_many({lane.site.community_id for lane in found})
    pools = lane_pools({(c.pk, community) for community, c in running.items()})
    return [
        {
            "code": lane.code,
            "name": lane.name,
            "site": lane.site.name,
            "community": lane.site.community.name,
            "pool": pools.get((running[lane.site.community_id].pk, lane.site.community_id), "")
            if lane.site.community_id in running
            else "",
        }
        for lane in found
    ]


@api.post(
    "/events",
    response={200: EventsOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 413: ErrorOut},
    summary="Scan and custody events, answered one by one",
    exclude_none=True,
)
def post_events(request: HttpRequest, body: EventsIn) -> dict[str, Any]:
    user: User = request.auth  # type: ignore[attr-defined]
    if not (user.can(Can.SCAN) or user.can(Can.RECEIVE_SPECIMENS)):
        raise HttpError(
            403, _("This token's user may not send scan events (registrars and the lab do).")
        )
    _too_many(len(body.events), ingest.MAX_EVENTS)
    apply = combiner.apply if settings.GROUP_COMMIT else ingest.apply
    return {
        "results": apply(
            user,
            list(body.events),
            timezone.now(),
            token_lane=getattr(request, "token_lane", None),
        )
    }


@api.post(
    "/results",
    response={200: ResultsOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 413: ErrorOut},
    summary="Lab results, answered row by row",
    exclude_none=True,
)
def post_results(request: HttpRequest, body: ResultsIn) -> dict[str, Any]:
    user: User = request.auth  # type: ignore[attr-defined]
    if not user.can(Can.RECORD_RESULTS):
        raise HttpError(403, _("Only the lab sends results."))
    _too_many(len(body.results), ingest.MAX_EVENTS)
    return {"results": lab_results.record(user, list(body.results))}


@api.get(
    "/campaigns/{campaign}/lift",
    response={200: list[LiftOut], 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Can these zones lift? The lifting rule's answer with its evidence",
)
def lift(
    request: HttpRequest, campaign: int, community: int | None = None
) -> list[dict[str, object]]:
    """The round's sealed and controlled buildings in the token user's communities (or one
    of them), each with the answer the Zones page gives and the figures behind it."""
    user: User = request.auth  # type: ignore[attr-defined]
    if not user.can(Can.VIEW_CAMPAIGNS):
        raise HttpError(403, _("This token's user may not read campaigns."))
    mine = communities_for(user)
    found = Campaign.objects.filter(pk=campaign, buildings__community__in=mine).distinct().first()
    if found is None:
        raise HttpError(404, _("No round %(id)s in your communities.") % {"id": campaign})
    ids = mine.filter(pk=community) if community is not None else mine
    answers = zoning.evidence(
        found, timezone.now(), communities=list(ids.values_list("pk", flat=True))
    )
    return [a.as_json() for a in answers]
