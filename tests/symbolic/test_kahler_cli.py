"""`metricflow derive kahler` and `derive functional NAME`: the JSON contract and one-line errors."""

import json

import pytest
import sympy as sp
from click.testing import CliRunner

from metricflow.cli import cli, main


def invoke(args):
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_kahler_json_contract_fubini_study_cp2():
    doc = json.loads(invoke(["derive", "kahler", "--coords", "z1 z2", "--potential",
                             "log(1 + z1*conjugate(z1) + z2*conjugate(z2))", "--json"]))
    g = sp.Matrix([[sp.sympify(x) for x in row] for row in doc["metric"]])
    ric = sp.Matrix([[sp.sympify(x) for x in row] for row in doc["ricci_form"]])
    assert sp.simplify(ric - 3 * g) == sp.zeros(2, 2)
    z1, z2 = sp.symbols("z1 z2")
    assert sp.simplify(g[0, 1] + z2 * sp.conjugate(z1) / (1 + z1 * sp.conjugate(z1) + z2 * sp.conjugate(z2)) ** 2) == 0
    assert sp.sympify(doc["scalar"]) == 6 and doc["positivity"] == "proven"


def test_kahler_eta_option():
    doc = json.loads(invoke(["derive", "kahler", "--coords", "z", "--potential", "z*conjugate(z)",
                             "--omega", "1", "--json"]))
    assert sp.sympify(doc["eta"]) == 1 / sp.Symbol("kappa")


@pytest.mark.parametrize("name, key", [("calabi", "matches_closed_form"),
                                       ("hn-ultralocal", "matches_closed_form_B13"),
                                       ("hn-two-derivative", "printed_B16_equals_derivation"),
                                       ("perelman-eta", "variation_identically_zero")])
def test_functional_json(name, key):
    doc = json.loads(invoke(["derive", "functional", name, "--json"]))
    assert doc["functional"] == name and key in doc["checks"]
    assert doc["checks"][key] is (name != "hn-two-derivative")
    sp.sympify(doc["variation"]), sp.sympify(doc["l2_flow"])
    if name == "perelman-eta":
        assert doc["variation"] == "0" and doc["paper_flow"] is None
    else:
        sp.sympify(doc["paper_flow"])


def test_functional_with_your_own_F():
    doc = json.loads(invoke(["derive", "functional", "hn-ultralocal", "--F", "cosh(eta - 1)", "--json"]))
    assert doc["checks"] == {"matches_closed_form_B13": True} and "cosh" in doc["lagrangian"]


def test_functional_plain_text():
    out = invoke(["derive", "functional", "hn-ultralocal"])
    assert "variation:" in out and "paper_flow_note:" in out


@pytest.mark.parametrize("args, needle", [
    (["kahler", "--coords", "z", "--potential", "z**2*conjugate(z)"], "--potential: the metric is not Hermitian"),
    (["kahler", "--coords", "z", "--potential", "-z*conjugate(z)"], "--potential: the metric is not positive"),
    (["kahler", "--coords", "z", "--potential", "log(1 + z*conjugate(z)"], "--potential: cannot parse"),
    (["kahler", "--coords", "z", "--potential", "z*conjugate(z)", "--omega", "conjugate(z)"], "--omega:"),
    (["functional", "nope"], "Invalid value"),
    (["functional", "hn-ultralocal", "--F", "-eta**2"], "--F: F = -eta**2 is not strictly convex"),
    (["functional", "calabi", "--F", "eta**2"], "--F: --F applies to hn-ultralocal only"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["derive", *args])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert needle in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_kahler_showcase(tmp_path):
    """`metricflow demo --only kahler`: exact checks true, the corrected (B.21) flow decreases E
    monotonically, the printed sign increases it; the PNG is written."""
    from metricflow.experiments.demo import run_demo

    sc = run_demo(tmp_path, only=["kahler"])["showcases"]["kahler"]
    d = sc["data"]
    assert d["fubini_study_cp2"]["ricci_form_equals_3g"] is True
    assert d["torus_flow"]["corrected_monotone"] is True
    first, last = d["torus_flow"]["printed_energy_first_last"]
    assert last > first
    assert (tmp_path / "kahler_hn_flow.png").stat().st_size > 1000
