"""How personal data looks when it is not revealed: everywhere, by default."""

from __future__ import annotations

# The public look-up's secret is the last 6 characters of a resident's document number, so no
# mask ever shows them: a masked page, code sheet or export must not hand anyone the key.
SECRET_TAIL = 6


def mask_document(number: str) -> str:
    """``120101199001011234`` → ``1201**************``: the first 4 characters of a long number
    (the province and city of a resident ID), the first 2 of a shorter one, never the end."""
    if not number:
        return ""
    keep = 4 if len(number) >= 12 else min(2, max(0, len(number) - SECRET_TAIL))
    return number[:keep] + "*" * (len(number) - keep)


def mask_phone(phone: str) -> str:
    """``13812341234`` → ``138****1234``."""
    if not phone:
        return ""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_name(name: str) -> str:
    """``张伟`` → ``张*``, ``欧阳明华`` → ``欧**华``, ``Li Wei`` → ``L****i``."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
