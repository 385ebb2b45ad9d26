"""symact: activation functions as symbolic definitions -> proven stable NumPy code.

The pipeline: a definition (``symact.catalog`` or your own ``Activation``), its piecewise normal
form (``symact.pieces``), stable implementation forms proven equal to it (``symact.proof``),
NumPy code rendered through Jinja templates (``symact.codegen``), and certified reference values
(``symact.reference``) that the generated code is tested against.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .activation import X, Y, Activation, Param, ParameterError, UnprovenFormError  # noqa: E402
from .catalog import CATALOG, UnknownActivationError, get  # noqa: E402

__all__ = ["__version__", "X", "Y", "Activation", "Param", "ParameterError", "UnprovenFormError", "CATALOG",
           "UnknownActivationError", "get", "analyze", "verify", "collapse_network"]


def __getattr__(name: str):
    """Later stages on first use: symact.analyze, symact.verify, symact.collapse_network."""
    if name == "analyze":
        from .analysis import analyze

        return analyze
    if name == "verify":
        from .verify import verify

        return verify
    if name == "collapse_network":
        from .collapse import collapse_network

        return collapse_network
    raise AttributeError(f"module 'symact' has no attribute {name!r}")
