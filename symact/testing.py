"""pytest helpers: assert that an implementation matches an activation's definition.

    from symact.testing import assert_matches
    assert_matches(my_softplus, "softplus")                       # float64 and float32
    assert_matches(my_leaky, "leaky_relu", params={"negative_slope": 0.2}, grad=my_leaky_grad)
"""
from __future__ import annotations

from .verify import VerifyReport, verify

__all__ = ["assert_matches"]


def assert_matches(fn, name, **kw) -> VerifyReport:
    """verify(fn, name, **kw); AssertionError with the readable report when it fails. Returns the report."""
    __tracebackhide__ = True
    report = verify(fn, name, **kw)
    if not report.passed:
        raise AssertionError("\n" + report.text())
    return report
