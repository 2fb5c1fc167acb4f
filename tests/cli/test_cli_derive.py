"""`metricflow derive`: the JSON contract, LaTeX, and one-line errors with exit status 2."""

import json
import subprocess
import sys

import pytest
import sympy as sp
from click.testing import CliRunner

from metricflow.cli import cli, main


def invoke(args):
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_ricci_json_contract():
    doc = json.loads(invoke(["derive", "ricci", "--coords", "theta phi", "--metric",
                             "[[1,0],[0,sin(theta)**2]]", "--json"]))
    th = sp.Symbol("theta")
    ric = [[sp.sympify(x) for x in row] for row in doc["ricci"]]
    assert sp.simplify(sp.Matrix(ric) - sp.Matrix([[1, 0], [0, sp.sin(th) ** 2]])) == sp.zeros(2, 2)
    assert sp.sympify(doc["scalar"]) == 2


def test_perelman_json_contract_with_undefined_functions():
    doc = json.loads(invoke(["derive", "perelman", "--coords", "x y", "--metric",
                             "[[exp(2*u(x,y)),0],[0,exp(2*u(x,y))]]", "--dilaton", "f(x,y)", "--json"]))
    flow = sp.Matrix([[sp.sympify(x) for x in row] for row in doc["flow"]])
    x, y = sp.symbols("x y")
    u, f = sp.Function("u")(x, y), sp.Function("f")(x, y)
    # off-diagonal: -2 ∇_x∇_y f = -2 (f_xy - u_y f_x - u_x f_y) for the conformal metric
    assert sp.simplify(flow[0, 1] + 2 * (f.diff(x, y) - u.diff(y) * f.diff(x) - u.diff(x) * f.diff(y))) == 0
    assert doc["is_ricci_flow_plus_diffeo"] is True


def test_perelman_from_functional_agrees():
    args = ["derive", "perelman", "--coords", "x y", "--metric", "[[1+x**2,0],[0,1]]", "--dilaton", "x*y", "--json"]
    a = json.loads(invoke(args))
    b = json.loads(invoke(args + ["--from-functional"]))
    A = sp.Matrix([[sp.sympify(v) for v in r] for r in a["flow"]])
    B = sp.Matrix([[sp.sympify(v) for v in r] for r in b["flow"]])
    assert sp.simplify(A - B) == sp.zeros(2, 2)
    assert b["derived_from_functional"] is True


def test_latex_output():
    out = invoke(["derive", "ricci", "--coords", "theta phi", "--metric", "[[1,0],[0,sin(theta)**2]]", "--latex"])
    assert "\\sin" in out


def test_curvature_variation_ansatz_commands():
    doc = json.loads(invoke(["derive", "curvature", "--coords", "r theta", "--metric", "[[1,0],[0,r**2]]", "--json"]))
    assert doc["riemann"] == {} and doc["christoffel"]["0,1,1"] == "-r"
    doc = json.loads(invoke(["derive", "variation", "volume", "--dim", "2", "--json"]))
    assert doc["matches_closed_form"] is True
    doc = json.loads(invoke(["derive", "ansatz", "--coords", "r theta", "--metric", "[[1,0],[0,psi(r)**2]]",
                             "--unknowns", "psi(r)", "--json"]))
    assert doc["preserved"] is False and doc["obstructions"][0]["component"] == [0, 0]


@pytest.mark.parametrize("args, needle", [
    (["--coords", "x y", "--metric", "[[1,x],[0,1]]"], "--metric: not symmetric"),
    (["--coords", "x y z", "--metric", "[[1,0],[0,1]]"], "--metric: is 2x2 but there are 3 coordinates"),
    (["--coords", "x y", "--metric", "[[1,0],[0,1"], "--metric: cannot parse"),
    (["--coords", "x 1y", "--metric", "[[1,0],[0,1]]"], "--coords:"),
    (["--coords", "x y"], "Missing option '--metric'"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["derive", "ricci", *args])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert needle in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_derive_does_not_import_jax():
    code = ("import sys; from metricflow.cli import main\n"
            "try:\n    main(['derive','ricci','--coords','x y','--metric','[[1,0],[0,1]]'])\n"
            "except SystemExit: pass\n"
            "assert 'jax' not in sys.modules and 'numba' not in sys.modules, 'heavy import'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
