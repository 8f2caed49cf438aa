"""How personal data looks when it is not revealed: everywhere, by default."""

from __future__ import annotations


def mask_document(number: str) -> str:
    """``120101199001011234`` → ``1201**********1234``; short numbers keep less."""
    if not number:
        return ""
    if len(number) >= 12:
        return number[:4] + "*" * (len(number) - 8) + number[-4:]
    keep = max(1, len(number) // 4)
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[-keep:]


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
