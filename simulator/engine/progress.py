"""A progress bar on stderr for long runs: only on a terminal, only after about a second."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Callable as ``bar(done, total)``; draws nothing unless the stream is a TTY and the run
    has lasted longer than ``delay`` seconds. ``close()`` clears the line."""

    def __init__(self, label: str, stream: TextIO | None = None, delay: float = 1.0,
                 enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.label = label
        self.delay = delay
        self.enabled = enabled and self.stream.isatty()
        self.start = time.monotonic()
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.start
        if not self.enabled or elapsed < self.delay:
            return
        width = 30
        filled = int(width * done / total) if total else width
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else 0.0
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{done:,}/{total:,} paths, {elapsed:.0f}s, ~{eta:.0f}s left ")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
