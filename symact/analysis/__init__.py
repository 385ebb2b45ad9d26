"""Properties of an activation: limits and saturation, extrema, smoothness and monotonicity,
collapse, normal-input statistics (DESIGN.md, `show --json`).

``analyze(act)`` returns an ``Analysis`` whose ``to_json()`` is the table of DESIGN.md, every field
present, each with a provenance ("symbolic", "certified", "numeric" or "unknown"). Results are cached
on disk (cache kind "analysis") by the activation's definition hash, which covers parameter values.
See ``symact/analysis/properties.py`` for the conventions chosen where the design leaves a choice.
"""
from __future__ import annotations

import copy
import json

from ..activation import Activation
from ..cache import digest, load_json, store_json
from .properties import analyze_dict

__all__ = ["Analysis", "analyze", "FIELDS", "ANALYSIS_VERSION"]

#: bump when the analysis changes what it reports (invalidates the cache)
ANALYSIS_VERSION = "analysis.v2"  # bump when the analysis changes: cached results are keyed by it

FIELDS = ("name", "params", "formula", "latex", "derivative", "derivative_from_output", "f0", "limits",
          "derivative_limits", "range", "max_abs_derivative", "continuity", "kinks", "monotonic", "symmetry",
          "zero_centered", "identity_near_origin", "saturation", "active_region", "vanishing", "collapse",
          "normal_input", "cost", "provenance")


class Analysis:
    """The properties of one activation; fields are also attributes (``a.range``, ``a.provenance``)."""

    def __init__(self, data: dict):
        self._data = data

    def to_json(self) -> dict:
        return copy.deepcopy(self._data)

    def __getattr__(self, name):
        try:
            return self.__dict__["_data"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name):
        return self._data[name]

    def __repr__(self) -> str:
        return f"Analysis({self._data.get('name')!r})"


def _key(act: Activation) -> str:
    return digest(ANALYSIS_VERSION, act.definition_hash)


def analyze(act: Activation, use_cache: bool = True) -> Analysis:
    """All properties of `act` (with its current parameter values)."""
    key = _key(act)
    if use_cache:
        hit = load_json("analysis", key)
        if isinstance(hit, dict) and all(f in hit for f in FIELDS):
            return Analysis(hit)
    data = analyze_dict(act)
    data = json.loads(json.dumps(data))  # plain JSON types only
    ordered = {f: data[f] for f in FIELDS}
    if use_cache:
        store_json("analysis", key, ordered)
    return Analysis(ordered)
