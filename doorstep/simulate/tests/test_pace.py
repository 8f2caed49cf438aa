"""A running round's forecast: each site's pace over the last hour, the people left (the
dashboard's untested), when it finishes at that pace and with one more lane; on the page too."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from doorstep.command import dashboard
from doorstep.core.models import User
from doorstep.sampling.models import TubeMember
from doorstep.simulate import plan
from doorstep.simulate.run import Rehearsal
from doorstep.testing import client_for

pytestmark = pytest.mark.django_db


def test_the_pace_of_a_running_round() -> None:
    start = dt.datetime(2026, 12, 5, 7, tzinfo=dt.UTC)
    with Rehearsal(600, 12, 12, seed=5, start=start, progress=str) as rehearsal:
        rehearsal.advance(120)
        campaign = rehearsal.setup.campaign
        now = rehearsal.clock.now()
        rows = plan.pace(campaign, now)
        untested = {r.community_id: r.untested for r in dashboard.coverage(campaign)[0]}
        assert len(rows) == 12
        for row in rows:
            assert row.lanes == 2  # one pooling lane and the home-sampling pair's
            swabs = TubeMember.objects.filter(
                campaign=campaign,
                tube__site=row.site,
                added_at__gt=now - dt.timedelta(hours=1),
                added_at__lte=now,
            ).count()
            assert row.per_hour == swabs
            assert row.left == untested[row.site.community_id]  # one site a community
            if row.per_hour:
                assert row.finish == now + dt.timedelta(hours=row.left / row.per_hour)
                assert row.finish_one_more == now + dt.timedelta(
                    hours=row.left / (row.per_hour * 3 / 2)
                )
        assert any(r.per_hour for r in rows)

        commander = User.objects.get(username=f"sim-commander-{rehearsal.setup.town.pk}")
        page = client_for(commander).get(reverse("simulate:pace", args=[campaign.pk]))
        assert page.status_code == 200
        html = page.content.decode()
        assert html.count("data-finish") == 12
        assert rows[0].site.name in html
