"""Errors an operator can act on. Each message is one line that says what to do."""


class OperatorError(Exception):
    """A fault with a one-line, actionable message (shown as is by the CLI and the TUI).

    The message speaks the CLI's words; where part of it names CLI flags, cli is that part
    ("import with --create-host") and field names the input it is about ("import.create_host"),
    so that the TUI can say that part in its own words (tui/common/words.py)."""

    def __init__(self, *args: object, field: str | None = None, cli: str | None = None):
        super().__init__(*args)
        self.field, self.cli = field, cli


class InvalidInput(OperatorError):
    pass


class NotFound(OperatorError):
    pass


class Unreachable(OperatorError):
    pass


class AuthenticationFailed(OperatorError):
    pass


class HostKeyUnknown(OperatorError):
    pass


class HostKeyChanged(OperatorError):
    pass


class SudoNeedsPassword(OperatorError):
    pass


class OscapMissing(OperatorError):
    pass


class OscapFailed(OperatorError):
    pass


class OscapCrashed(OscapFailed):
    """oscap was killed by a signal: a fault of its own (or a kill), not of the content."""

    host = how = reason = ""
    fault = False  # a fault of oscap's own (SIGSEGV, SIGABRT...), not a kill


class OscapStalled(OscapFailed):
    """oscap printed no progress for the stall timeout (a hung probe) and was stopped."""

    host = ""
    seconds = 0
    fault = True  # a deadlock of oscap's own, run once more as a crash of its own is


class ConnectionLost(OperatorError):
    pass


class CommandTimeout(OperatorError):
    pass


def os_reason(exc: BaseException) -> str:
    """An OS error in words ("permission denied"), without "[Errno 13] ...: '/path'"."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    if isinstance(exc, TimeoutError) or type(exc).__name__ == "TimeoutExpired":
        return "it timed out"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class OutputTooLarge(OperatorError):
    """A target or a file sent more than the limits allow (core/domain/limits.py)."""
