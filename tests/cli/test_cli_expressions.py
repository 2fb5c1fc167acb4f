"""Hostile and careless expressions through every command-line option that reads one: exit
status 2, one line naming the option as typed, no traceback, nothing executed
(docs/reliability.md, "The expression grammar")."""

import contextlib
import io
import json
import subprocess
import sys

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from metricflow.cli import main

SENTINEL = "SENTINEL_DIR"  # replaced by a fresh directory (the `sentinel` fixture)
CALL = f"__import__('os').system('touch {SENTINEL}/pwned')"


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory):
    """A directory where an executed payload would create ``pwned`` (and points would go)."""
    return tmp_path_factory.mktemp("cli-grammar")


def run(args):
    """``metricflow ARGS`` in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def assert_refused(args, option, sentinel):
    code, _, err = run([a.replace(SENTINEL, str(sentinel)) for a in args])
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"{option}:" in err, err
    assert not (sentinel / "pwned").exists()
    return err


KAHLER = ["derive", "kahler", "--coords", "z", "--potential", "log(1 + z*conjugate(z))"]
CASES = [
    (["derive", "ricci", "--coords", "x y", "--metric", f"[[1+0*{CALL},0],[0,1]]"], "--metric"),
    (["derive", "curvature", "--coords", "x y", "--metric", f"[[1,0],[0,{CALL}]]"], "--metric"),
    (["derive", "ricci", "--coords", "x __import__", "--metric", "[[1,0],[0,1]]"], "--coords"),
    (["derive", "perelman", "--coords", "x y", "--metric", "[[1,0],[0,1]]", "--dilaton", f"x+0*{CALL}"],
     "--dilaton"),
    (["derive", "ansatz", "--coords", "r theta", "--metric", "[[1,0],[0,psi(r)**2]]", "--unknowns", CALL],
     "--unknowns"),
    (["derive", "ansatz", "--coords", "r theta", "--metric", "[[1,0],[0,psi(r)**2]]", "--unknowns", "psi(r)",
      "--flow", "perelman", "--dilaton", f"r+0*{CALL}"], "--dilaton"),
    (["derive", "kahler", "--coords", "z", "--potential", f"z*conjugate(z) + 0*{CALL}"], "--potential"),
    ([*KAHLER, "--omega", f"1 + 0*{CALL}"], "--omega"),
    (["derive", "functional", "hn-ultralocal", "--F", f"(eta-1)**2 + 0*{CALL}"], "--F"),
    (["ntk", "cosnet", "--sigma-w", CALL], "--sigma-w"),
    (["ntk", "gaussnet", "--sigma-w", "1", "--sigma-b", f"1+0*{CALL}"], "--sigma-b"),
    (["cy", "sample", "--n", "10", "--poly", f"z0**3+z1**3+z2**3+0*{CALL}", "--out",
      f"{SENTINEL}/points.npz"], "--poly"),
]


@pytest.mark.parametrize("args, option", CASES, ids=[c[1] + ":" + c[0][1] for c in CASES])
def test_code_in_any_option_is_refused_and_never_runs(args, option, sentinel):
    assert_refused(args, option, sentinel)


@pytest.mark.parametrize("args, option, needle", [
    (["derive", "ricci", "--coords", "x y", "--metric", "[[9**9**9,0],[0,1]]"], "--metric", "exponent"),
    (["derive", "ricci", "--coords", "x y", "--metric", "[[1,0],[0,(x+y)**100000]]"], "--metric", "exponent"),
    (["derive", "ricci", "--coords", "x y", "--metric", "[[1,0],[0,sin(9**9*x)+2]]"], "--metric",
     "multiple angles"),
    (["derive", "ricci", "--coords", "x y", "--metric", "[[1,0],[0,(1+x+y+x*y)**999]]"], "--metric", "terms"),
    (["derive", "ricci", "--coords", "x y", "--metric", "[[1,0],[0,I*x]]"], "--metric", "imaginary unit"),
    (["derive", "ricci", "--coords", "x y", "--metric", "[[1,0],[0,x.real]]"], "--metric", "attribute"),
    ([*KAHLER, "--omega", "0"], "--omega", "Ω = 0"),
    (["ntk", "cosnet", "--sigma-w", "nan"], "--sigma-w", "number"),
    (["ntk", "cosnet", "--sigma-w", "-sqrt(2)"], "--sigma-w", "positive"),
    (["ntk", "cosnet", "--sigma-w", "1/0"], "--sigma-w", "infinite"),
    (["cy", "sample", "--n", "10", "--poly", "(z0+z1+z2+z3+z4)**200", "--out",
      f"{SENTINEL}/points.npz"], "--poly", "monomials"),
])
def test_careless_input_is_refused_quickly(args, option, needle, sentinel):
    assert needle in assert_refused(args, option, sentinel)


def test_a_coordinate_named_like_a_constant_is_a_coordinate():
    code, out, err = run(["derive", "ricci", "--coords", "E phi", "--metric", "[[1,0],[0,sin(E)**2]]", "--json"])
    assert code == 0, err
    assert sp.Integer(json.loads(out)["scalar"]) == 2


def test_the_issue_example_in_a_real_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "metricflow", "derive", "ricci", "--coords", "x y", "--metric",
                           "[[1+0*__import__('os').system('touch pwned'),0],[0,1]]"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "--metric: '__import__' at column 7" in proc.stderr
    assert not (tmp_path / "pwned").exists()


fragments = st.one_of(
    st.lists(st.sampled_from(["x", "y", "(", ")", "[", "]", ",", "+", "*", "**", ".", "__class__", "lambda", ":",
                              "__import__", "'os'", "sin", "9", "0", "E", "I", " ", "^", "[[1,0],[0,", "]]", CALL]),
             max_size=25).map("".join),
    st.text(max_size=40),
    st.sampled_from(["[[1,0],[0,1]].__class__", "[[x,0],[0,y]][0]", "[[1,0],[0,(lambda: 1)()]]",
                     "[[exp(x),0],[0,exp(y)]]", "[[1,0],[0,x**2]]", f"[[1+0*{CALL},0],[0,1]]",
                     f"[[1,0],[0,(lambda: {CALL})()]]"]),
)


@given(text=fragments)
def test_any_metric_text_exits_0_or_2_with_one_line(text, sentinel):
    code, _, err = run(["derive", "ricci", "--coords", "x y", "--metric", text.replace(SENTINEL, str(sentinel))])
    assert code in (0, 2), err
    assert "Traceback" not in err and not (sentinel / "pwned").exists()
    if code == 2:
        assert err.count("\n") == 1 and ("--metric:" in err or "--coords" in err or "Error" in err), err


@pytest.mark.parametrize("metric, flag", [("[[1,0],[0,sin(x)**2]]", ["--lorentzian"]), ("[[-1,0],[0,1]]", [])])
def test_a_volume_density_of_the_wrong_signature_is_refused(metric, flag, sentinel):
    err = assert_refused(["derive", "curvature", "--coords", "x y", "--metric", metric, *flag], "--lorentzian",
                         sentinel)
    assert "det g" in err
