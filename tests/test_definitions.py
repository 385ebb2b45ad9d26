"""Definition files (--defs): loading, errors naming file/entry/field, use from the CLI."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from symact.activation import X, UnprovenFormError
from symact.definitions import DefinitionError, load_definitions

ROOT = Path(__file__).resolve().parents[1]

GOOD = '''
[[activation]]
name = "mish2"
expression = "x*tanh(softplus(x))"
description = "Mish by hand"

[[activation]]
name = "swishb"
expression = "x*sigmoid(beta*x)"
forward = "x/(1 + exp(-beta*x))"
[activation.params]
beta = { default = "3/2", domain = "positive" }
'''


def test_loads_activations_with_params_and_forms(tmp_path):
    f = tmp_path / "acts.toml"
    f.write_text(GOOD)
    acts = {a.name: a for a in load_definitions(f)}
    assert set(acts) == {"mish2", "swishb"}
    assert acts["swishb"].param_values() == {"beta": sp.Rational(3, 2)}
    assert sp.simplify(acts["mish2"].expr - X * sp.tanh(sp.log(1 + sp.exp(X)))) == 0
    assert acts["swishb"].stable_forms.forward is not None  # proven equal before use


@pytest.mark.parametrize("text,needle", [
    ('[[activation]]\nname = "bad"\nexpression = "x*tanh(y)"\n', "activation 'bad': field 'expression': unknown name 'y'"),
    ('[[activation]]\nname = "Bad Name"\nexpression = "x"\n', "activation #1: field 'name'"),
    ('[[activation]]\nname = "a"\n', "activation 'a': field 'expression': required"),
    ('[[activation]]\nname = "a"\nexpression = "x"\ncolour = "red"\n', "field 'colour': unknown field"),
    ('[[activation]]\nname = "a"\nexpression = "x*b"\n[activation.params]\nb = {default = -1, domain = "positive"}\n',
     "field 'params.b'"),
    ('[[activation]]\nname = "a"\nexpression = "x"\n[[activation]]\nname = "a"\nexpression = "x"\n', "defined twice"),
    ("this is not toml", "not valid TOML"),
    ("title = 'no activations'", "expected one or more [[activation]] tables"),
])
def test_errors_name_file_entry_and_field(tmp_path, text, needle):
    f = tmp_path / "defs.toml"
    f.write_text(text)
    with pytest.raises(DefinitionError) as info:
        load_definitions(f)
    assert str(f) in str(info.value) and needle in str(info.value)


def test_unprovable_form_is_refused(tmp_path):
    f = tmp_path / "defs.toml"
    f.write_text('[[activation]]\nname = "bad_softplus"\nexpression = "log(1 + exp(x))"\nforward = "max(x, 0)"\n')
    (act,) = load_definitions(f)
    with pytest.raises(UnprovenFormError):
        act.stable_forms


def test_cli_uses_definitions_for_every_command(tmp_path):
    f = tmp_path / "acts.toml"
    f.write_text(GOOD)
    run = lambda *a: subprocess.run([sys.executable, "-m", "symact", "--defs", str(f), *a],  # noqa: E731
                                    capture_output=True, text=True, cwd=ROOT)
    r = run("list")
    assert r.returncode == 0 and "mish2" in r.stdout and "swishb" in r.stdout
    r = run("generate", "swishb", "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert "def swishb(x, beta=1.5):" in (tmp_path / "out" / "swishb.py").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text('[[activation]]\nname = "bad"\nexpression = "x*tanh(y)"\n')
    r = subprocess.run([sys.executable, "-m", "symact", "--defs", str(bad), "list"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and str(bad) in r.stderr
