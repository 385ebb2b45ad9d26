"""Time limits for symbolic calls: nothing SymPy does may hang the tool."""
from __future__ import annotations

import contextlib
import gc
import signal
import sys
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
    # "quiet" counts the places where an exception would only be swallowed and reported as
    # "Exception ignored in ...": garbage-collector callbacks and the unraisable hook itself.
    # The alarm repeats, so an expiry there is raised a moment later in the boxed code instead.
    state = {"active": True, "quiet": 0}

    def _expire(signum, frame):  # pragma: no cover - timing dependent
        if state["active"] and not state["quiet"]:
            raise SymbolicTimeout(f"symbolic step exceeded {seconds:g} s")

    def _gc_start(phase, info):  # first callback: quiet before any other callback runs
        if phase == "start":
            state["quiet"] += 1

    def _gc_stop(phase, info):  # last callback: loud again once the others are done
        if phase == "stop":
            state["quiet"] = max(state["quiet"] - 1, 0)

    old_hook = sys.unraisablehook

    def _unraisable(unraisable):
        if isinstance(unraisable.exc_value, SymbolicTimeout):
            return  # an expiry swallowed by a finalizer: the repeating alarm raises it again
        state["quiet"] += 1
        try:
            old_hook(unraisable)
        finally:
            state["quiet"] -= 1

    gc.callbacks.insert(0, _gc_start)
    gc.callbacks.append(_gc_stop)
    sys.unraisablehook = _unraisable
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
        sys.unraisablehook = old_hook
        for callback in (_gc_start, _gc_stop):
            with contextlib.suppress(ValueError):
                gc.callbacks.remove(callback)
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
