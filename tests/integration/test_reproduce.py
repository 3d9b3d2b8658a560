"""`frisac reproduce --quick`: every figure gives its PNG, PDF, CSV and report section."""

import pytest

from frisac.cli import main
from frisac.experiments import FIGURES

pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")


def test_quick_reproduction_of_every_figure(tmp_path, capsys) -> None:
    out = tmp_path / "repro"
    argv = ["reproduce", "all", "--quick", "--trials", "1", "--workers", "2", "--out", str(out)]
    assert main([*argv, "--quiet"]) == 0
    report = (out / "report.md").read_text()
    for name in FIGURES:
        for suffix in (".png", ".pdf", ".csv"):
            path = out / name / f"{name}{suffix}"
            assert path.exists() and path.stat().st_size > 0, path
        assert f"## {name}:" in report
    assert "| quantity | paper | frisac | definition |" in report
    assert "**holds**" in report or "**does NOT hold**" in report
    # a second run resumes from the stores: nothing is recomputed, the report is rebuilt
    assert main([*argv, "--quiet"]) == 0
    assert (out / "report.md").read_text().count("## fig5:") == 1


def test_reproduce_bad_input(tmp_path, capsys) -> None:
    cases = [
        (["reproduce", "fig10", "--out", str(tmp_path / "x")], "unknown figure 'fig10'"),
        (["reproduce", "fig5", "--trials", "0"], "--trials"),
        (["reproduce", "fig5", "--out", "/proc/frisac-nowhere", "--quick"], "cannot create"),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.strip().count("\n") == 0
    assert not (tmp_path / "x").exists()
