"""The atlas (symact report): files, content, determinism, CLI."""
from __future__ import annotations

import time

import pytest

pytest.importorskip("matplotlib")

import symact.cli  # noqa: E402
from symact import cli_report  # noqa: E402
from symact.report import build_report  # noqa: E402

NAMES = ["sigmoid", "relu", "gelu"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def two_reports(tmp_path_factory):
    a, b = tmp_path_factory.mktemp("report_a"), tmp_path_factory.mktemp("report_b")
    return (a, build_report(NAMES, out=a, progress=False)), (b, build_report(NAMES, out=b, progress=False))


def test_files_and_content(two_reports):
    (out, written), _ = two_reports
    names = {p.name for p in written}
    for n in NAMES:
        assert f"{n}.png" in names
    assert {"README.md", "atlas.tex", "vanishing.png", "family_sigmoidal.png", "family_rectifier.png",
            "family_gated.png"} <= names
    for p in written:
        assert p.exists() and p.parent == out
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == PNG_SIGNATURE
    md = (out / "README.md").read_text()
    for n in NAMES:
        assert f"| [{n}](#{n}) |" in md  # a row of the properties table
        assert f"![{n}: f and f' on [-6, 6]]({n}.png)" in md
        assert f"```python\ndef {n}(x" in md
    assert "$(0, 1)$" in md and "$[0, \\infty)$" in md  # ranges of sigmoid and relu, as math
    assert "\n$$\n" in md
    assert "w_{1} w_{7} + w_{3} w_{8} + w_{5} w_{9}" in md  # the collapsed 2-3-1 network
    tex = (out / "atlas.tex").read_text()
    assert "\\includegraphics" in tex and "{sigmoid.png}" in tex and tex.rstrip().endswith("\\end{document}")


def test_deterministic(two_reports):
    (a, wa), (b, wb) = two_reports
    assert [p.name for p in wa] == [p.name for p in wb]
    for p in wa:
        assert p.read_bytes() == (b / p.name).read_bytes(), p.name


def test_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(symact.cli, "_COMMAND_MODULES", [cli_report])
    out = tmp_path / "atlas"
    assert symact.cli.main(["report", "--out", str(out), "relu"]) == 0
    assert (out / "README.md").exists() and (out / "relu.png").exists()
    assert "wrote" in capsys.readouterr().out


def test_cli_unknown_name(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(symact.cli, "_COMMAND_MODULES", [cli_report])
    assert symact.cli.main(["report", "--out", str(tmp_path / "x"), "relu", "nosuchact"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nosuchact" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_whole_catalog(tmp_path):
    from symact.catalog import CATALOG

    start = time.monotonic()
    written = build_report(out=tmp_path, progress=False)
    assert time.monotonic() - start < 300
    assert {f"{n}.png" for n in CATALOG} <= {p.name for p in written}
    md = (tmp_path / "README.md").read_text()
    assert all(f"| [{n}](#{n}) |" in md for n in CATALOG)


def test_timings_column_is_opt_in(tmp_path):
    from symact.report import build_report

    build_report(["relu"], out=tmp_path / "a", progress=False)
    assert "ns/element" not in (tmp_path / "a" / "README.md").read_text()
    build_report(["relu"], out=tmp_path / "b", progress=False, timings=True)
    row = [line for line in (tmp_path / "b" / "README.md").read_text().splitlines() if line.startswith("| [relu]")][0]
    speed = row.rstrip(" |").split("|")[-1].strip()
    f, g = (float(v) for v in speed.split(" / "))
    assert 0 < f < 1e4 and 0 < g < 1e4


def test_atlas_pdf_compiles_on_a_sample(tmp_path):
    """The LaTeX atlas of a sample builds with pdflatex (texlive-latex-base, as CI installs it)."""
    import shutil

    from symact.report import build_report

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    written = build_report(["sigmoid", "relu", "hardtanh"], out=tmp_path, pdf=True, progress=False)
    pdf = tmp_path / "atlas.pdf"
    assert pdf in written and pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 10_000
