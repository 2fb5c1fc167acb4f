"""The one registry of functionals (metricflow.symbolic.registry) and the command line's choices."""

import pytest
import sympy as sp
from click.testing import CliRunner

from metricflow.errors import InvalidInputError
from metricflow.symbolic import registry
from metricflow.symbolic.functionals import Functional, Geometry, generic_metric, lookup
from metricflow.symbolic.kahler_functionals import KahlerFunctional


def test_names_are_unique_across_kinds_and_resolve():
    riem, kahler = registry.names("riemannian"), registry.names("kahler")
    assert {"perelman", "einstein-hilbert", "volume"} <= set(riem)
    assert {"calabi", "hn-ultralocal", "hn-entropy"} <= set(kahler)
    assert not set(riem) & set(kahler)
    for name in riem:
        assert isinstance(registry.lookup(name, "riemannian"), Functional)
    for name in kahler:
        assert isinstance(registry.lookup(name, "kahler"), KahlerFunctional)


def test_unknown_names_and_wrong_kinds_are_refused_by_argument():
    with pytest.raises(InvalidInputError, match="unknown functional 'calabi'") as exc:
        lookup("calabi", "flow")
    assert exc.value.argument == "flow"
    with pytest.raises(InvalidInputError, match="Kähler functional"):
        registry.lookup("perelman", "kahler")
    with pytest.raises(InvalidInputError, match="got int"):
        registry.lookup(3, "riemannian")
    with pytest.raises(InvalidInputError, match="kind"):
        registry.names("lorentzian")
    own = Functional("mine", lambda geo: geo.R)
    assert registry.lookup(own, "riemannian") is own


def test_cli_choices_are_the_registry():
    from metricflow.cli.derive import functional, variation

    assert tuple(variation.params[0].type.choices) == registry.names("riemannian")
    assert tuple(functional.params[0].type.choices) == registry.names("kahler")
    from metricflow.cli import cli

    out = CliRunner().invoke(cli, ["derive", "variation", "nope"])
    assert out.exit_code == 2 and "perelman" in out.output


def test_a_lagrangian_may_use_the_ricci_tensor():
    """|Ric|² = R_ij R^ij on the generic 2D metric equals R²/2 exactly (Ric = R g / 2 in 2D),
    and on the generic 3D metric it is not R²/3 (Ric is not pure trace there)."""
    metric, _ = generic_metric(2)
    geo = Geometry(metric, None)
    A = metric.A
    assert A.is_zero(geo.ricci_sq - geo.R * geo.R / 2)
    assert len(geo.ricci) == 2 and A.is_zero(geo.ricci[0][1] - geo.R * metric.g_el[0][1] / 2)


def test_ricci_squared_on_a_concrete_metric():
    """On S² x R (radius 1): Ric = diag(1, sin²θ, 0), |Ric|² = 2, R = 2, so |Ric|² ≠ R²/3."""
    from metricflow.symbolic import Metric

    th = sp.Symbol("theta", real=True)
    m = Metric("theta phi z", [[1, 0, 0], [0, sp.sin(th) ** 2, 0], [0, 0, 1]])
    geo = Geometry(m, None)
    assert sp.simplify(m._out(geo.ricci_sq) - 2) == 0
    assert sp.simplify(m._out(geo.R) - 2) == 0

