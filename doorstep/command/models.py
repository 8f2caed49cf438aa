"""What the command centre keeps beyond the counters the actions maintain."""

from __future__ import annotations

from django.db import models


class LookupAttempt(models.Model):
    """One try at the public status look-up, for its rate limit. The key is a digest of the
    caller's address or of the person code tried, never the value itself."""

    key_digest = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["key_digest", "at"], name="lookup_attempt_key_at")]

    def __str__(self) -> str:
        return f"{self.key_digest[:8]}… {self.at:%H:%M:%S}"
