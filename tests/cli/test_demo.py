"""`metricflow demo` writes demo.json, report.md and the plots each showcase names."""

import json

import pytest
from click.testing import CliRunner

from metricflow.cli import cli
from metricflow.errors import InvalidInputError
from metricflow.experiments.demo import SHOWCASES, run_demo


def test_symbolic_showcase(tmp_path):
    doc = run_demo(tmp_path, only=["symbolic"])
    sc = doc["showcases"]["symbolic"]
    assert sc["data"]["kerr"]["ricci_flat"] is True
    assert sc["data"]["perelman_conformal_2d"]["equals_ricci_flow_minus_lie_derivative"] is True
    assert sc["data"]["berger_ode"]["preserved"] is True
    for plot in sc["plots"]:
        assert (tmp_path / plot).stat().st_size > 1000
    assert json.loads((tmp_path / "demo.json").read_text())["showcases"]["symbolic"]["title"]
    assert "Kerr" in (tmp_path / "report.md").read_text()


def test_demo_cli_json(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path), "--only", "symbolic", "--json"])
    assert result.exit_code == 0, result.output
    assert "symbolic" in json.loads(result.output)["showcases"]


def test_unknown_showcase(tmp_path):
    with pytest.raises(InvalidInputError, match="unknown showcase"):
        run_demo(tmp_path, only=["nope"])
    assert "symbolic" in SHOWCASES


@pytest.mark.slow
def test_full_demo(tmp_path):
    """`make demo` runs every showcase; each writes the plots it names."""
    doc = run_demo(tmp_path)
    assert set(doc["showcases"]) == set(SHOWCASES)
    for sc in doc["showcases"].values():
        for plot in sc["plots"]:
            assert (tmp_path / plot).exists()
