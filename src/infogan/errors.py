"""The one exception type users see: a one-line message that says what to fix."""


class InfoGANError(Exception):
    """Bad input or an impossible request; the command line prints it as one line and exits 2."""


class TrainingInterrupted(Exception):
    """A signal stopped training after a checkpoint was written; the message says how to resume."""

    def __init__(self, message: str, signal_number: int):
        super().__init__(message)
        self.signal_number = signal_number


def first_line(error: BaseException) -> str:
    """The first line of an exception's message for a one-line error; its type where the message is
    empty (torch.load raises a bare EOFError on a 0-byte file, and "".splitlines()[0] would fail)."""
    return next(iter(str(error).splitlines()), "") or type(error).__name__
