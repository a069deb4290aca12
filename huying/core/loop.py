"""A polling loop shared by the long-running management commands (`worker`, `notify`, `escalation`)."""

import os
import signal
import time
from collections.abc import Callable


def parent_gone(parent_pid: int | None) -> bool:
    """Whether the process that started us with `parent_pid` has exited (we were handed to another parent)."""
    return parent_pid is not None and os.getppid() != parent_pid


def run_forever(step: Callable[[Callable[[], bool]], str], *, once: bool, interval: float | Callable[[], float],
                stdout, parent_pid: int | None = None) -> None:
    """Run `step` and write the line it returns (if any), then rest `interval` seconds and repeat.

    `step` gets a `stopping()` callable so a long round can end early once SIGTERM/SIGINT arrives
    or, with `parent_pid`, once that parent process has gone (a server that started this worker
    beside it and was stopped or killed). `interval` may be a callable asked after each round. With
    `once` the step runs a single time and signal handlers are left alone. The rest is taken in
    slices of at most a second so a stop request is honoured promptly.
    """
    stop = {"now": False}

    def _stop(*_args):
        stop["now"] = True

    def stopping() -> bool:
        if not stop["now"] and parent_gone(parent_pid):
            stop["now"] = True
        return stop["now"]

    if not once:
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    while True:
        line = step(stopping)
        if line:
            stdout.write(line)
        if once or stopping():
            return
        rest = interval() if callable(interval) else interval
        slept = 0.0
        while slept < rest and not stopping():
            time.sleep(min(1.0, rest - slept))
            slept += 1.0
