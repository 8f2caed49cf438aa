"""The `doorstep` command: Django's management commands under the project's own name.

`doorstep demo`, `doorstep serve`, `doorstep import-roster` and the rest are management
commands; the dashed names of the contracts map to them here.
"""

from __future__ import annotations

import os
import sys

from django.core.management import execute_from_command_line

from doorstep.core.bootstrap import ensure_secret_key

ALIASES = {
    "import-roster": "import_roster",
    "create-token": "create_token",
    "import-results": "import_results",
    "plan-lanes": "plan_lanes",
    "send-messages": "send_messages",
}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1:
        args[1] = ALIASES.get(args[1], args[1])
    if len(args) > 1 and args[1] in ("demo", "simulate", "plan", "plan_lanes"):
        # The demo, the simulator and the planners write their own secret key (in DOORSTEP_HOME,
        # once) before settings are read, so that they run on a machine not set up to serve.
        ensure_secret_key()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")
    args[0] = "doorstep"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
