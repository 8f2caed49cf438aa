"""The territory's registrations with the apps below it, imported once by ``ready``."""

from __future__ import annotations

from doorstep.core import hooks
from doorstep.territory.models import Town


def real_towns() -> list[str]:
    """The first few towns that are not the demo's."""
    return list(
        Town.objects.filter(is_demo=False).order_by("name").values_list("name", flat=True)[:5]
    )


hooks.register_real_towns(real_towns)
