"""The command line: output, JSON, and bad input (one line on stderr, exit 2, no traceback)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from symact.catalog import CATALOG
from symact.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return subprocess.run([sys.executable, "-m", "symact", *args], capture_output=True, text=True, cwd=ROOT)


def test_list_text_names_every_activation(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == len(CATALOG)
    assert {line.split()[0] for line in lines} == set(CATALOG)


def test_list_json_fields(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by = {r["name"]: r for r in rows}
    assert set(by) == set(CATALOG)
    assert by["leaky_relu"]["params"]["negative_slope"]["default"] == "1/100"
    assert by["selu"]["params"] == {}
    assert by["hardtanh"]["params"]["min_val"]["default"] == "-1"
    assert by["softplus"]["params"]["beta"]["domain"] == "beta > 0"
    assert "sigmoid" in by and "expit" in by["sigmoid"]["aliases"]


@pytest.mark.parametrize("args,needle", [
    (["generate", "nosuch"], "unknown activation 'nosuch'"),
    (["generate", "sigmod"], "did you mean sigmoid"),
    (["generate", "elu", "-p", "beta=1"], "elu has no parameter 'beta'"),
    (["generate", "elu", "-p", "alpha"], "malformed parameter 'alpha'"),
    (["generate", "elu", "-p", "=3"], "malformed parameter"),
    (["generate", "elu", "-p", "alpha=abc"], "not a number"),
    (["generate", "elu", "-p", "alpha=-1"], "outside its domain"),
    (["generate", "elu", "-p", "alpha=1", "-p", "alpha=2"], "given twice"),
    (["generate", "hardtanh", "-p", "min_val=2"], "must satisfy"),
    (["generate", "-p", "alpha=2"], "needs activation names"),
    (["frobnicate"], "invalid choice"),
    (["list", "--bogus"], "unrecognized arguments"),
    ([], "required"),
])
def test_bad_input_is_one_line_exit_2(args, needle):
    r = run(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert needle in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""


def test_bad_input_writes_nothing(tmp_path):
    r = run("generate", "relu", "nosuch", "--out", str(tmp_path / "out"))
    assert r.returncode == 2
    assert not (tmp_path / "out").exists()


def test_alias_and_python_m(tmp_path):
    r = run("generate", "expit", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "sigmoid.py").exists()


def test_out_must_be_a_directory(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = run("generate", "relu", "--out", str(f))
    assert r.returncode == 2 and "not a directory" in r.stderr
