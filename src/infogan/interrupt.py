"""SIGINT and SIGTERM during training: finish the current step, checkpoint, then stop.

Under torchrun a Ctrl-C reaches each worker twice (from the terminal and forwarded by torchrun), so
repeated signals only repeat the request; torchrun kills workers that take longer than 30 s.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequests:
    """A context that turns SIGINT/SIGTERM into `requested` (the signal's name) instead of an exception."""

    def __init__(self) -> None:
        self.requested: str | None = None
        self.number = 0
        self._previous: dict[int, object] = {}

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.requested is None:
            log.warning(
                "%s received: stopping after the current step and writing a checkpoint", signal.Signals(number).name
            )
        self.requested, self.number = signal.Signals(number).name, number

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():  # Python delivers signals to the main thread only
            self._previous = {number: signal.signal(number, self._handle) for number in SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
