"""Progress of long commands: tqdm bars on a terminal, plain lines everywhere else.

tqdm with `disable=None` is silent when its stream is not a terminal, which made the first
`huying demo` minutes of silence in CI, under systemd or piped to a file. `Progress` keeps the bars
on a terminal and otherwise writes one line when a step starts, one each time it passes another
tenth of its total or when `every_seconds` have gone by since its last line, and one when it ends,
so a log shows both that the command is alive and how far it has got.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # a closed or detached stream
        return False


class Progress:
    """The services' progress(step, done, total) callback, plus `note(text)` for steps without a count."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None, every_seconds: float = 30.0,
                 every_fraction: float = 0.1, clock=time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = is_terminal(self.stream) if tty is None else tty
        self.every_seconds = every_seconds
        self.parts = max(1, round(1 / every_fraction))  # integer steps: 3/10 is not 2.999… tenths
        self.clock = clock
        self.step: str | None = None
        self.bar = None
        self._total = 0
        self._done = 0
        self._started = 0.0
        self._last_at = 0.0
        self._last_tenth = 0
        self._last_done = -1

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        """A step of its own, without a count (an import, a seed): one line, on a terminal too."""
        self.close()
        if self.tty:
            from tqdm import tqdm

            tqdm.write(text, file=self.stream)
        else:
            self._line(text)

    def __call__(self, step: str, done: int, total: int) -> None:
        step = str(step)
        if step != self.step:
            self.close()
            self.step, self._total, self._done = step, total, 0
            self._started = self._last_at = self.clock()
            self._last_tenth, self._last_done = 0, -1
            if self.tty:
                from tqdm import tqdm

                self.bar = tqdm(total=total, desc=step, unit="", leave=True, mininterval=0.5, file=self.stream)
            else:
                self._line(f"{step}: 0/{total}")
                self._last_done = 0
        self._total = total
        if self.bar is not None:
            if total != self.bar.total:
                self.bar.total = total
            if done > self.bar.n:
                self.bar.update(done - self.bar.n)
            return
        self._done = done
        now = self.clock()
        tenth = done * self.parts // total if total else 0
        finished = total and done >= total
        if done != self._last_done and (finished or tenth > self._last_tenth or now - self._last_at >= self.every_seconds):
            self._report(now)
            self._last_tenth = tenth

    def _report(self, now: float) -> None:
        share = f" ({self._done * 100 // self._total}%)" if self._total else ""
        self._line(f"{self.step}: {self._done}/{self._total}{share} {now - self._started:.1f} s")
        self._last_at, self._last_done = now, self._done

    def close(self) -> None:
        """End the current step (its last line, if the count moved since)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.step is not None and self._done != self._last_done:
            self._report(self.clock())
        self.step = None
