"""The model registry (metricflow.models.base)."""

import pytest

from metricflow.errors import InvalidInputError
from metricflow.models import MODELS, Model, get_model


def test_every_registered_model_builds_a_triple():
    for name in MODELS:
        model = get_model(name)
        assert isinstance(model, Model) and model.name == name
        assert callable(model.init) and callable(model.apply) and callable(model.kernel)


def test_same_hyperparameters_give_the_same_model():
    """Constructors are cached: compilations keyed on ``apply`` are shared."""
    assert get_model("mlp", activation="erf", depth=2) is get_model("mlp", activation="erf", depth=2)
    assert get_model("cosnet", sigma_w=2.0).apply is get_model("cosnet", sigma_w=1.0).apply


def test_unknown_model_lists_the_names():
    with pytest.raises(InvalidInputError, match="expected one of .*'cosnet'.*'mlp'") as exc:
        get_model("transformer")
    assert exc.value.argument == "model"


@pytest.mark.parametrize("name, hyper, argument", [
    ("mlp", {"activation": "tanh"}, "activation"), ("mlp", {"depth": -1}, "depth"),
    ("cosnet", {"sigma_w": 0.0}, "sigma_w"), ("torus_cosnet", {"sigma": -1.0}, "sigma"),
    ("gaussnet", {"sigma_b": float("nan")}, "sigma_b"),
])
def test_bad_hyperparameters_name_the_argument(name, hyper, argument):
    with pytest.raises(InvalidInputError) as exc:
        get_model(name, **hyper)
    assert exc.value.argument == argument
