"""The optional neural-tangents adapter.  In metricflow's own environment (jax >= 0.5)
neural-tangents 0.6.5 does not import, so the adapter must say so cleanly; the real
comparison runs in .ci/nt_crosscheck.sh (separate jax<0.5 environment)."""

import numpy as np
import pytest

from metricflow.kernels import nt_adapter


def test_adapter_reports_availability_consistently():
    if nt_adapter.available():
        from metricflow.kernels.mlp import mlp_kernels

        x = np.random.default_rng(0).normal(size=(3, 2))
        ref = nt_adapter.mlp_kernels_nt(x, activation="erf", depth=2)
        ours = mlp_kernels(x, activation="erf", depth=2)
        np.testing.assert_allclose(ours["ntk"], ref["ntk"], rtol=1e-6)
    else:
        with pytest.raises(nt_adapter.NeuralTangentsUnavailable, match="nt_crosscheck"):
            nt_adapter.mlp_kernels_nt(np.zeros((2, 2)))
