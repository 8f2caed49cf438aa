"""A real SMS gateway on this machine for the tests, the demo and the benchmark: Kannel's
bearerbox and smsbox with its fake SMS centre (``kannel.Gateway``), the ``kannel`` pytest
fixture (``testing.py``) and ``doorstep sms up|status|down``.

Like ``doorstep.ha``, a tool around the application, not part of it: it imports none of
Doorstep's apps, and they reach it only through the sendsms URL they are given
(``DOORSTEP_SMS_URL``), as they reach a carrier's gateway in production.
"""
