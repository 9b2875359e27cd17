"""One explicit retry policy for remote LLM calls.

Retried: timeouts, dropped connections, malformed bodies, and HTTP 408, 409, 429 and 5xx (the
statuses openai-python retries). A ``Retry-After`` header is honoured up to a cap; otherwise the
wait grows exponentially with full jitter. Attempts are bounded; the last failure becomes a
reject with its reason, marked transient (a rerun asks again).

A server that does not answer at all is not retried request by request: after
``unreachable_after`` connection failures in a row (nothing answered in between, whichever requests
they came from) the backend checks the server with ``GET /models`` under the same policy, and stops
the run when that fails too. A short blip (a restart) survives the check; a server that is down
ends the run within seconds instead of after every request's retries.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

RETRYABLE_STATUSES = frozenset({408, 409, 429})


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or status >= 500


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    max_attempts: int = 6
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 60.0
    unreachable_after: int = 16

    def delay(self, attempt: int, retry_after_s: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        if retry_after_s is not None and retry_after_s >= 0:
            return min(retry_after_s, self.retry_after_max_s)
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        return (rng or random).uniform(0, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form; HTTP dates are rare from LLM servers)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from datetime import datetime, timezone
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
