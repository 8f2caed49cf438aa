"""The territory's registrations with the apps below it, imported once by ``ready``."""

from __future__ import annotations

from doorstep.core import hooks
from doorstep.territory.queries import real_towns

hooks.register_real_towns(real_towns)
