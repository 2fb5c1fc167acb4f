"""The JAX sampling path (backend="jax"): same lines and mathematics as numpy, sharded
over JAX devices when there are several (checked with 4 forced host devices)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricflow.cy import _jax_sampling as J
from metricflow.cy import hypersurface, point_geometry, sample, sigma
from metricflow.errors import InvalidInputError

FIELDS = ("points", "omega2", "dxe", "g_fs", "det_g_fs", "weights")


def _close(a, b, rel):
    """Entrywise |a - b| <= rel * (|b| + scale of the array)."""
    a, b = np.asarray(a), np.asarray(b)
    return np.all(np.abs(a - b) <= rel * (np.abs(b) + np.abs(b).max()))


@pytest.mark.parametrize("poly", ["fermat-quintic", "dwork:0.5", "quartic-k3", "cubic-curve"])
def test_same_points_and_geometry_as_numpy(poly):
    """The same seed gives the same lines, hence the same points to round-off
    (roots of the same polynomials), the same charts and the same geometry."""
    pn = sample(poly, 700, seed=5)
    pj = sample(poly, 700, seed=5, backend="jax")
    assert pj.meta["backend"] == "jax" and len(pj) == 700
    for key in ("patch", "elim", "coords", "line"):
        assert np.array_equal(getattr(pj, key), getattr(pn, key)), key
    for key in FIELDS:
        assert _close(getattr(pj, key), getattr(pn, key), 1e-10), key
    assert pj.residual.max() < 1e-12


@settings(max_examples=settings.default.max_examples * 10 // 25, deadline=None)
@given(st.sampled_from(["fermat-quintic", "quartic-k3", "cubic-curve",
                        "z0**5 + 2*z1**5 + z2**5 + (1+0.5*I)*z3**5 + z4**5 - 0.7*z0**2*z1*z2*z4"]),
       st.integers(0, 2**31 - 1))
def test_geometry_of_given_points_agrees_to_1e_10(poly, seed):
    """Both geometry codes on the SAME input points (unscaled, random phases)."""
    X = hypersurface(poly)
    z = sample(X, 64, seed=seed % 1000).points
    rng = np.random.default_rng(seed)
    z = z * (rng.uniform(0.2, 3, (64, 1)) * np.exp(1j * rng.uniform(0, 6, (64, 1))))
    ref = point_geometry(X, z)
    got = J.point_geometry(X, z)
    for key in ("patch", "elim", "coords"):
        assert np.array_equal(got[key], ref[key]), key
    for key in (*FIELDS, "residual"):
        assert _close(got[key], ref[key], 1e-10 if key != "residual" else 1.0), key


def test_sigma_statistics_agree():
    """Independent seeds: sigma_FS of the two backends within Monte Carlo error."""
    a = sigma(sample("fermat-quintic", 20_000, seed=1), "fs")
    b = sigma(sample("fermat-quintic", 20_000, seed=2, backend="jax"), "fs")
    err = np.hypot(a["sigma_stderr"], b["sigma_stderr"])
    assert abs(a["sigma"] - b["sigma"]) < 4 * err


def test_bucket_sizes():
    for L in (1, 31, 256, 257, 1000, 20_000, 40_000):
        for ndev in (1, 3, 4):
            size = J._bucket(L, ndev)
            assert size >= L and size % ndev == 0 and size <= max(32 * ndev, 1.25 * L + ndev)


def test_bad_backend():
    with pytest.raises(InvalidInputError) as e:
        sample("fermat-quintic", 10, backend="torch")
    assert e.value.argument == "backend"


_SHARDED = r"""
import json, numpy as np
import jax
from metricflow.cy import sample
from metricflow.cy import _jax_sampling as J
from metricflow._x64 import x64
from metricflow.cy.hypersurface import hypersurface
pn = sample("fermat-quintic", 3000, seed=7)
pj = sample("fermat-quintic", 3000, seed=7, backend="jax")
X = hypersurface("fermat-quintic")
with x64():
    sharding, ndev = J._mesh_sharding()
    a = np.ones((J._bucket(100, ndev), 5), complex); b = a * 1j + np.arange(5)
    geo, done = J._compiled(None, *J._key(X), "sample")(jax.device_put(a, sharding),
                                                          jax.device_put(b, sharding))
    out_devices = len(geo["weights"].sharding.device_set)
diff = {k: float(np.max(np.abs(getattr(pj, k) - getattr(pn, k)) / (np.abs(getattr(pn, k)).max())))
        for k in ("points", "omega2", "g_fs", "weights")}
print(json.dumps({"devices": len(jax.devices()), "ndev": ndev, "out_devices": out_devices,
                  "same_charts": bool(np.array_equal(pj.elim, pn.elim) and np.array_equal(pj.patch, pn.patch)),
                  "diff": diff, "residual": float(pj.residual.max())}))
"""


def test_sharded_over_four_host_devices():
    """XLA_FLAGS forces 4 CPU devices (set before JAX is imported, hence a subprocess):
    the batch is sharded over all 4 and the points equal the numpy path's."""
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", _SHARDED], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["devices"] == 4 and res["ndev"] == 4 and res["out_devices"] == 4
    assert res["same_charts"] and res["residual"] < 1e-12
    assert all(v < 1e-10 for v in res["diff"].values()), res["diff"]
