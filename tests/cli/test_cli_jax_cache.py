"""The CLI's persistent JAX compilation cache: where it lives, how to move it or turn it off,
that it is configured without importing JAX, and that a JAX command fills it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from metricflow.cli._main import JAX_COMMANDS, enable_jax_cache, jax_cache_dir


def test_default_folder_follows_xdg_then_home():
    assert jax_cache_dir({"HOME": "/home/u"}) == Path("/home/u/.cache/metricflow/jax")
    assert jax_cache_dir({"HOME": "/home/u", "XDG_CACHE_HOME": "/var/c"}) == Path("/var/c/metricflow/jax")
    assert jax_cache_dir({"HOME": "/home/u", "XDG_CACHE_HOME": " "}) == Path("/home/u/.cache/metricflow/jax")


@pytest.mark.parametrize("value", ["0", "off", "OFF", "false", "no", "none", " off "])
def test_off_switch(value):
    env = {"HOME": "/home/u", "METRICFLOW_JAX_CACHE": value}
    assert jax_cache_dir(env) is None
    assert enable_jax_cache(env) is None
    assert "JAX_COMPILATION_CACHE_DIR" not in env


def test_moved_folder_and_user_settings_win():
    assert jax_cache_dir({"METRICFLOW_JAX_CACHE": "/tmp/x"}) == Path("/tmp/x")
    assert jax_cache_dir({"METRICFLOW_JAX_CACHE": "~/c", "HOME": "/home/u"}) == Path("~/c").expanduser()
    assert jax_cache_dir({"METRICFLOW_JAX_CACHE": "", "HOME": "/home/u"}) == Path("/home/u/.cache/metricflow/jax")


def test_enable_sets_jax_variables_only_before_jax_is_imported():
    code = ("import os, sys\n"
            "from metricflow.cli._main import enable_jax_cache\n"
            "env = {'METRICFLOW_JAX_CACHE': '/tmp/mf', 'JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS': '2'}\n"
            "assert str(enable_jax_cache(env)) == '/tmp/mf' and 'jax' not in sys.modules\n"
            "assert env['JAX_COMPILATION_CACHE_DIR'] == '/tmp/mf'\n"
            "assert env['JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS'] == '2'\n"  # the user's value wins
            "assert env['JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES'] == '0'\n"
            "import jax\n"
            "env2 = {'METRICFLOW_JAX_CACHE': '/tmp/mf'}\n"
            "assert enable_jax_cache(env2) is None and env2 == {'METRICFLOW_JAX_CACHE': '/tmp/mf'}\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_a_jax_command_fills_the_cache_and_derive_does_not_touch_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    env["METRICFLOW_JAX_CACHE"] = str(tmp_path / "cache")
    run = lambda *args: subprocess.run([sys.executable, "-m", "metricflow", *args], env=env,  # noqa: E731
                                       capture_output=True, text=True, timeout=300)
    proc = run("derive", "ricci", "--coords", "x y", "--metric", "[[1,0],[0,1]]")
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "cache").exists()
    proc = run("ntk", "mlp", "--json")
    assert proc.returncode == 0, proc.stderr
    assert any((tmp_path / "cache").iterdir())
    assert "ntk" in JAX_COMMANDS and "derive" not in JAX_COMMANDS


def test_a_repeated_flow_run_loads_its_traced_programs_and_matches_bit_for_bit(tmp_path):
    """The second run finds every program in the store (it writes none) and its trajectory
    equals the first run's and the cache-off run's exactly."""
    import numpy as np

    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    args = ["flow", "run", "--manifold", "torus2", "--flow", "perelman", "--n", "8", "--steps", "4",
            "--record-every", "2", "--json"]
    finals = []
    for name, cache in (("cold", tmp_path / "cache"), ("warm", tmp_path / "cache"), ("off", "off")):
        proc = subprocess.run([sys.executable, "-m", "metricflow", *args, "--out", str(tmp_path / name)],
                              env={**env, "METRICFLOW_JAX_CACHE": str(cache)}, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
        finals.append(np.load(tmp_path / name / "trajectory.npz")["final"])
        if name == "cold":
            programs = sorted((tmp_path / "cache" / "programs").iterdir())
            assert programs
    assert sorted((tmp_path / "cache" / "programs").iterdir()) == programs
    np.testing.assert_array_equal(finals[0], finals[1])
    np.testing.assert_array_equal(finals[0], finals[2])

