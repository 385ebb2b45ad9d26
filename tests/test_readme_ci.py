"""The README's two commands are exactly what .ci/run runs."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_commands():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    assert len(blocks) >= 2
    setup, suite = blocks[0].strip(), blocks[1].strip()
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert setup in ci and suite in ci
    assert ci.index(setup) < ci.index(suite)
    head = readme.split("```bash")[0]
    assert "symact" in head.lower() and len(head.strip()) > 100  # what symact is, before the commands
