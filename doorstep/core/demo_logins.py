"""The demo's published logins: one user per role, all with the same password.

They live here, below every app, because ``doorstep serve`` refuses to serve them unnoticed:
it warns when any of them can still sign in with the published password. The demo itself
(``doorstep.demo``) creates them.
"""

from __future__ import annotations

from doorstep.core.models import User
from doorstep.core.roles import Role

DEMO_PASSWORD = "doorstep-demo"
# The organiser of a sending town (杨柳青镇): a town commander, of another town than the others.
SENDER = "sender"
ROLE_USERS = [
    ("district", Role.DISTRICT_COMMANDER, "区指挥长 冯"),
    ("commander", Role.COMMANDER, "指挥长 赵"),
    (SENDER, Role.COMMANDER, "杨柳青镇组织员 陈"),
    ("worker", Role.COMMUNITY_WORKER, "社区工作者 钱"),
    ("leader", Role.TEAM_LEADER, "组长 孙"),
    ("canvasser", Role.CANVASSER, "入户队员 李"),
    ("registrar", Role.REGISTRAR, "登记员 周"),
    ("lab", Role.LAB, "检测实验室 吴"),
    ("admin", Role.ADMIN, "管理员 郑"),
]


def demo_logins_active() -> list[str]:
    """The demo's users that can still sign in with the demo's published password."""
    return [
        user.username
        for user in User.objects.filter(
            username__in=[u for u, _r, _n in ROLE_USERS], is_active=True
        )
        if user.check_password(DEMO_PASSWORD)
    ]


def demo_users() -> list[tuple[str, str, str]]:
    return [(username, str(role.label), DEMO_PASSWORD) for username, role, _n in ROLE_USERS]
