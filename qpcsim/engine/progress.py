"""Progress of a run, for a terminal and for a log.

In a terminal (stderr is a TTY) a tqdm bar; otherwise (a batch job, a pipe, a
log file) no carriage-return flood: a plain line every
:data:`LINE_INTERVAL_S` (``QPCSIM_PROGRESS_INTERVAL`` overrides it) with the
points done and the ETA, and one summary line at the end.
"""
from __future__ import annotations

import os
import sys
import time


__all__ = ["Progress", "duration", "LINE_INTERVAL_S"]

#: Seconds between two progress lines when stderr is not a terminal (s).
LINE_INTERVAL_S = 30.0


def duration(seconds: float) -> str:
    """A duration for people: ``"42 s"``, ``"12 min"``, ``"3.1 h"``, ``"2.0 days"``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get("QPCSIM_PROGRESS_INTERVAL", LINE_INTERVAL_S)))
    except ValueError:
        return LINE_INTERVAL_S


class Progress:
    """Points finished of a run of ``total`` (None: not known ahead).

    Parameters
    ----------
    total : int or None
        Points of the run.
    label : str
        What runs (``"sweep"``, ``"bias map"`` ...), the lines' prefix.
    enabled : bool
        False: say nothing.
    stream : file, optional
        Where to write (default ``sys.stderr``).
    """

    def __init__(self, total: int | None, label: str, enabled: bool = True, stream=None):
        self.total, self.label, self.enabled = total, label, enabled
        self.stream = sys.stderr if stream is None else stream
        self.computed = self.reused = 0
        self.start = self.last_line = time.perf_counter()
        self.interval = _interval()
        terminal = enabled and getattr(self.stream, "isatty", lambda: False)()
        self.bar = None
        if terminal:   # tqdm only for a terminal: a batch job or a pipe never imports it
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, disable=not terminal, desc=label, unit="pt", leave=False,
                            dynamic_ncols=True, file=self.stream)

    @property
    def done(self) -> int:
        return self.computed + self.reused

    def from_store(self, count: int) -> None:
        """``count`` points taken from the store."""
        self.reused += count
        if self.bar is not None and count:
            self.bar.update(count)

    def update(self, count: int = 1) -> None:
        """``count`` points computed."""
        self.computed += count
        if self.bar is not None:
            self.bar.update(count)
            return
        now = time.perf_counter()
        if self.enabled and now - self.last_line >= self.interval:
            self.last_line = now
            self._say(f"{self.label}: {self._fraction()}{self._eta(now)}")

    def _fraction(self) -> str:
        if self.total is None:
            return f"{self.done} points"
        return f"{self.done}/{self.total} points ({100 * self.done / max(self.total, 1):.0f} %)"

    def _eta(self, now: float) -> str:
        if self.total is None or not self.computed:
            return ""
        left = (now - self.start) / self.computed * (self.total - self.done)
        return f", ETA ~{duration(left)}"

    def _say(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def finish(self, executor: str) -> None:
        """A finished run: the bar ends; when not in a terminal, the one summary line."""
        if self.bar is None and self.enabled:
            spent = duration(time.perf_counter() - self.start)
            self._say(f"{self.label}: {self.done} points in {spent} ({self.computed} computed "
                      f"on {executor}, {self.reused} from the store)")
        self.close()

    def close(self) -> None:
        """End the bar, silently (also after an error)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self.enabled = False
