"""The WSGI application `doorstep serve` runs (granian)."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver
from django.utils import translation

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")
application = get_wsgi_application()

# Models can be imported once the application (and so Django) is set up.
from doorstep.notices import sender  # noqa: E402
from doorstep.sampling import tally  # noqa: E402

# What a worker's first request would otherwise load: the URLconf with every view it imports,
# and the translations (0.6 s, measured on the bare view in issue 16). A lane's first scan
# after a worker starts should not wait for it.
get_resolver().url_patterns  # noqa: B018
for language in ("zh-hans", "en"):
    with translation.override(language):
        translation.gettext("Sampling")

# Moves left by a worker that died before folding them are folded now, not at the next scan.
tally.fold_soon()

# Text messages go out from a thread of each worker (claims keep two from taking one message).
sender.start_thread()
