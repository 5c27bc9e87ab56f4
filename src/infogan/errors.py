"""The one exception type users see: a one-line message that says what to fix."""


class InfoGANError(Exception):
    """Bad input or an impossible request; the command line prints it as one line and exits 2."""
