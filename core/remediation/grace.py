"""The dead man's switch's grace: how long after a hardening job's last sign of life it restores
/etc (core/remediation/safety.py). Apart, so the CLI's parser can state it without the
hardening code behind it."""

from __future__ import annotations

from core.domain import limits
from core.domain.errors import InvalidInput

DEFAULT_GRACE = 300  # seconds without a heartbeat before the switch restores /etc
MAX_GRACE = 7200  # longer: a locked-out host waits hours; shorter than limits' grace_min (60 s): a slow link
# could fire the switch in the middle of a job


def check_grace(grace: int | str) -> int:
    """The switch's grace in seconds, or InvalidInput: 0, negatives and extremes are refused."""
    shortest = limits.current().grace_min
    try:
        seconds = int(grace)
    except (TypeError, ValueError):
        seconds = 0
    if not shortest <= seconds <= MAX_GRACE:
        raise InvalidInput(f"invalid grace {grace!r}: the dead man's switch restores /etc this many seconds "
                           f"after the last heartbeat; give {shortest} to {MAX_GRACE} (default {DEFAULT_GRACE})")
    return seconds
