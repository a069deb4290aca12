"""A polling loop shared by the long-running management commands (`worker`, `notify`, `escalation`)."""

import signal
import time
from collections.abc import Callable


def run_forever(step: Callable[[Callable[[], bool]], str], *, once: bool, interval: float, stdout) -> None:
    """Run `step` and write the line it returns, then rest `interval` seconds and repeat.

    `step` gets a `stopping()` callable so a long round can end early once SIGTERM/SIGINT arrives.
    With `once` the step runs a single time and signal handlers are left alone. The rest is taken
    in slices of at most a second so a stop request is honoured promptly.
    """
    stop = {"now": False}

    def _stop(*_args):
        stop["now"] = True

    def stopping() -> bool:
        return stop["now"]

    if not once:
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    while True:
        stdout.write(step(stopping))
        if once or stop["now"]:
            return
        slept = 0.0
        while slept < interval and not stop["now"]:
            time.sleep(min(1.0, interval - slept))
            slept += 1.0
