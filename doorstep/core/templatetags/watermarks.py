"""``{% watermark %}``: who made a print page, on each printed page (``core.watermark``).

A view that audited the page passes its mark as ``watermark`` (tied to the audit entry, with
its number); without one, the page is marked with the signed-in user and the time now. A page
handed to residents (``{% watermark public=True %}``) names the role and unit, not the user."""

from __future__ import annotations

from typing import Any

from django import template

from doorstep.core import watermark as marks

register = template.Library()


@register.inclusion_tag("core/_watermark.html", takes_context=True)
def watermark(context: template.Context, public: bool = False) -> dict[str, Any]:
    """``public``: a page handed to residents, marked without the user's name."""
    mark = context.get("watermark")
    if not isinstance(mark, marks.Mark):
        request = context.get("request")
        user = getattr(request, "user", None)
        mark = marks.for_user(user) if user is not None and user.is_authenticated else None
    return {"mark": mark, "public": public}
