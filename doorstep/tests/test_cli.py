"""The console script on a machine not set up to serve: the demo, the simulator and the planners
write their own secret key once (in DOORSTEP_HOME) instead of refusing to start."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_lane_planner_runs_without_a_secret_key_and_writes_one(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in {"DOORSTEP_SECRET_KEY", "DOORSTEP_DEBUG"}
    }
    env.update(DOORSTEP_HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT))
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "doorstep.cli", "plan-lanes", "--people", "3000"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "lane" in done.stdout.lower()
    assert (tmp_path / "home" / "secret_key").stat().st_mode & 0o777 == 0o600
