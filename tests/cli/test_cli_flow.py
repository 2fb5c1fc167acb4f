"""``metricflow flow run``: the point-cloud contract, validation before any work (issue 13),
and resumes that refuse a changed setting by its option name."""

import json

import pytest
from click.testing import CliRunner

from metricflow.cli import cli


def _run(*args):
    return CliRunner().invoke(cli, ["flow", "run", *args])


def test_quintic_sigma_flow_contract(tmp_path):
    res = _run("--manifold", "quintic", "--flow", "sigma", "--kernel", "local", "--n-points", "2000", "--steps", "50",
               "--json", "--out", str(tmp_path / "q"))
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    s = [h["sigma"] for h in doc["history"]]
    assert len(s) == 6 and all(b < a for a, b in zip(s, s[1:], strict=False)), s
    assert {"t", "step", "sigma", "kappa", "volume", "min_eigenvalue"} <= set(doc["history"][0])
    assert doc["manifold"] == "quintic" and doc["init"] == "fs"
    for f in doc["files"]:
        assert (tmp_path / "q" / f).exists()


def test_gaussian_kernel_on_the_point_cloud(tmp_path):
    res = _run("--manifold", "quintic", "--flow", "sigma", "--kernel", "gaussian:0.35", "--n-points", "300",
               "--steps", "20", "--json", "--out", str(tmp_path / "g"))
    assert res.exit_code == 0, res.output
    s = [h["sigma"] for h in json.loads(res.output)["history"]]
    assert s[-1] < s[0]


@pytest.mark.parametrize("args, option", [
    (["--record-every", "0"], "--record-every"), (["--steps", "0"], "--steps"), (["--seed", "-1"], "--seed"),
    (["--dt", "inf"], "--dt"), (["--dt", "nan"], "--dt"), (["--dt", "0"], "--dt"), (["--dt", "-1"], "--dt"),
    (["--kernel", "gaussian:inf"], "--kernel"), (["--kernel", "gaussian:0"], "--kernel"),
    (["--n", "1000000"], "--n"), (["--manifold", "sphere2", "--lmax", "1000"], "--lmax"),
    (["--manifold", "sphere2", "--lmax", "1"], "--lmax"), (["--manifold", "quintic", "--n-points", "10000000"],
                                                             "--n-points"),
    (["--manifold", "quintic", "--flow", "ricci"], "--flow"), (["--flow", "sigma"], "--flow"),
    (["--manifold", "quintic", "--init", "bumpy"], "--init"), (["--manifold", "torus4"], "--manifold"),
    (["--kernel", "nearest"], "--kernel"),
])
def test_bad_options_are_refused_before_any_work(tmp_path, args, option):
    out = tmp_path / "never"
    res = _run(*args, "--out", str(out))
    assert res.exit_code == 2, res.output
    assert option in res.output and "Traceback" not in res.output
    if option != "--kernel" or "nearest" not in args:   # a kernel the manifold lacks is found when it is applied
        assert not out.exists()


def test_memory_estimate_and_out_under_a_file(tmp_path):
    res = _run("--n", "1000000", "--out", str(tmp_path / "o"))
    assert res.exit_code == 2 and "GiB" in res.output
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = _run("--out", str(blocker / "sub"), "--steps", "1")
    assert res.exit_code == 2 and "--out" in res.output and "is a file" in res.output


def test_resume_with_a_changed_setting_is_refused_naming_the_option(tmp_path):
    out = str(tmp_path / "r")
    base = ["--n", "8", "--steps", "4", "--record-every", "2", "--out", out, "--json"]
    assert _run(*base).exit_code == 0
    resumed = _run(*base, "--resume")
    assert resumed.exit_code == 0, resumed.output
    for change, option in [(["--seed", "1"], "--seed"), (["--init", "flat"], "--init"), (["--dt", "0.001"], "--dt"),
                           (["--kernel", "gaussian:0.3"], "--kernel"), (["--method", "euler"], "--method"),
                           (["--flow", "perelman"], "--flow")]:
        res = _run(*base, *change, "--resume")
        assert res.exit_code == 2 and option in res.output and "written with" in res.output, (change, res.output)
    res = _run(*[a if a != "8" else "12" for a in base], "--resume")
    assert res.exit_code == 2 and "--n:" in res.output
    res = _run(*[a if a != "2" else "1" for a in base], "--resume")
    assert res.exit_code == 2 and "--record-every" in res.output
