"""Things done before Django's settings are read (they must not import settings)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def home() -> Path:
    default = Path(__file__).resolve().parent.parent.parent / "var"
    return Path(os.environ.get("DOORSTEP_HOME", str(default))).resolve()


def ensure_secret_key() -> Path:
    """Create HOME/secret_key (mode 600) once, so a demo can serve without DEBUG."""
    path = home() / "secret_key"
    if not os.environ.get("DOORSTEP_SECRET_KEY") and not path.exists():
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
            path.parent.chmod(0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path
