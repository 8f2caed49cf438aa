from django.apps import AppConfig


class SmsgwConfig(AppConfig):
    """Only for its command, ``doorstep sms``, and the tests' gateway: Kannel on this machine,
    which knows nothing of the other apps (they reach it over HTTP, as they would a carrier's).
    No model and no page: its name is shown nowhere, so it has no translation."""

    name = "doorstep.smsgw"
    label = "smsgw"
    verbose_name = "SMS gateway"
