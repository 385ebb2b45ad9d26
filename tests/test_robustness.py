"""Adversarial user expressions finish within the time limits, with unknowns where undecided."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADVERSARIAL = [
    "exp(exp(exp(x)))",
    "x**x",
    "(x + 1)**200 - x**200",
    "tanh(sin(exp(tanh(sin(exp(tanh(sin(exp(x)))))))))",
    "sin(exp(x))*x**7",
]


@pytest.mark.slow
@pytest.mark.parametrize("expr", ADVERSARIAL)
def test_show_finishes_within_the_limit(expr, tmp_path):
    start = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "symact", "--timeout", "2", "show", "--expr", expr, "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=150,
                       env={"SYMACT_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin"})
    elapsed = time.monotonic() - start
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data["provenance"].values()) <= {"symbolic", "certified", "numeric", "unknown"}
    assert elapsed < 120


@pytest.mark.parametrize("expr", ADVERSARIAL)
def test_generate_adversarial_expressions(expr, tmp_path):
    r = subprocess.run([sys.executable, "-m", "symact", "generate", "--expr", expr, "--name", "adv", "--out",
                        str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode in (0, 2), r.stderr
    assert "Traceback" not in r.stderr
    if r.returncode == 0:
        compile((tmp_path / "adv.py").read_text(), "adv.py", "exec")


def test_internal_errors_say_how_to_report(monkeypatch, capsys):
    from symact import cli

    def boom(args):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(cli, "cmd_list", boom)
    assert cli.main(["list"]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "internal error" in err and "please report" in err and "Traceback" not in err
