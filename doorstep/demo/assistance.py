"""The demo's special needs: the morning's requests in the first community."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from doorstep.assistance import actions
from doorstep.assistance.models import Source
from doorstep.core.models import User
from doorstep.territory.models import Community, Resident


def morning_requests(community: Community, worker: User | None) -> None:
    """An exam taker arranged, a dialysis patient verified, a birth just registered (the
    alarm), and medicine waiting to be verified."""
    people = list(
        Resident.objects.filter(community=community).order_by("household_id", "id")[0:400:100]
    )
    if len(people) < 4:
        return
    now = timezone.now()
    exam = actions.register(
        worker,
        actions.Who(resident=people[0]),
        kind="graduate_exam",
        needed_by=timezone.localtime(now + dt.timedelta(days=1)).replace(
            hour=8, minute=0, second=0, microsecond=0
        ),
        source=Source.CANVASSER,
        destination="天津大学考点",
        details="明早8点考研",
    )
    if worker is not None:
        actions.log_contact(worker, exam, "reached", "本人接听")
        actions.verify(worker, exam)
        actions.arrange(worker, exam, "volunteer_car", "天津大学考点", single_tube=True)
    dialysis = actions.register(
        worker,
        actions.Who(resident=people[1]),
        kind="dialysis",
        needed_by=now + dt.timedelta(hours=3),
        source=Source.HOTLINE,
        destination="第一中心医院血透室",
        details="每周一三五透析",
    )
    if worker is not None:
        actions.log_contact(worker, dialysis, "reached")
        actions.verify(worker, dialysis)
    actions.register(
        worker,
        actions.Who(resident=people[2]),
        kind="pregnancy",
        needed_by=now,
        source=Source.HOTLINE,
        destination="市妇产医院",
        details="已见红，需送医",
    )
    actions.register(
        None,
        actions.Who(resident=people[3]),
        kind="medication",
        needed_by=now + dt.timedelta(hours=6),
        source=Source.RESIDENT,
        details="降压药快吃完了",
    )
