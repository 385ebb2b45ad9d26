"""The built-in catalog of activation functions, grouped by family."""
from __future__ import annotations

from ..activation import Activation
from . import gated, rectifiers, shrink_periodic, sigmoidal

__all__ = ["CATALOG", "UnknownActivationError", "get", "names"]


class UnknownActivationError(KeyError):
    """No activation of that name or alias."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown activation"


def _build() -> dict[str, Activation]:
    table: dict[str, Activation] = {}
    for module in (rectifiers, sigmoidal, gated, shrink_periodic):
        for act in module.ACTIVATIONS:
            if act.name in table:
                raise RuntimeError(f"duplicate activation {act.name}")
            table[act.name] = act
    return dict(sorted(table.items()))


CATALOG: dict[str, Activation] = _build()
_ALIASES = {alias: act.name for act in CATALOG.values() for alias in act.aliases}


def names() -> list[str]:
    return list(CATALOG)


def get(name: str) -> Activation:
    """The catalog entry for a name or alias; UnknownActivationError with suggestions otherwise."""
    key = name.strip().lower().replace("-", "_")
    if key in CATALOG:
        return CATALOG[key]
    if key in _ALIASES:
        return CATALOG[_ALIASES[key]]
    import difflib

    close = difflib.get_close_matches(key, list(CATALOG) + list(_ALIASES), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `symact list` shows them all"
    raise UnknownActivationError(f"unknown activation {name!r}{hint}")
