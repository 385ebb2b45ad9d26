"""Time limits for symbolic calls: nothing SymPy does may hang the tool."""
from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")

DEFAULT_SECONDS = 10.0
#: after the deadline the alarm repeats at this interval, so an expiry swallowed by a finalizer
#: ("Exception ignored in ...", e.g. during garbage collection) is raised again a moment later
REPEAT_SECONDS = 0.05


class SymbolicTimeout(Exception):
    """A time-boxed symbolic computation ran out of time."""


@contextlib.contextmanager
def timebox(seconds: float = DEFAULT_SECONDS) -> Iterator[None]:
    """Raise SymbolicTimeout inside the block once `seconds` have passed.

    Uses SIGALRM, so it only limits code running in the main thread (SymPy is pure Python,
    so the signal is delivered between bytecodes). Nested boxes keep the tighter outer deadline.
    """
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    state = {"active": True}

    def _expire(signum, frame):  # pragma: no cover - timing dependent
        if state["active"]:
            raise SymbolicTimeout(f"symbolic step exceeded {seconds:g} s")

    old_handler = signal.signal(signal.SIGALRM, _expire)
    old_remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    if old_remaining and old_remaining < seconds:
        seconds = old_remaining
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3), REPEAT_SECONDS)
    try:
        yield
    finally:
        state["active"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_remaining:
            # restore the outer box with what is left of it (at least a tick)
            signal.setitimer(signal.ITIMER_REAL, max(old_remaining - (time.monotonic() - start), 1e-3),
                             REPEAT_SECONDS)


def attempt(fn: Callable[[], T], seconds: float = DEFAULT_SECONDS, default: T | None = None) -> T | None:
    """Run fn() in a time box; return `default` on timeout or on any SymPy failure."""
    try:
        with timebox(seconds):
            return fn()
    except SymbolicTimeout:
        return default
    except (RecursionError, NotImplementedError, TypeError, ValueError, AttributeError, ZeroDivisionError):
        return default
