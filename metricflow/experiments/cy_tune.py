"""Bayesian hyperparameter search for the kernel flows (section 3.2), with optuna's TPE sampler
and its on-disk study (``sqlite:///FILE``): resumable after an interruption (the trials done are
in the file), several workers may share one study, and every evaluation draws a fresh point
set (its seed is the trial number; the paper reports that reusing one set overfits the
hyperparameters to it). The objective is the test gain on fresh test points."""

from __future__ import annotations

from pathlib import Path

from metricflow.errors import InvalidInputError
from metricflow.experiments.cy_kernels import TABLE1, run_kernel_flow

#: search ranges (log-uniform), around Table 1's values
RANGES = {"lr": (1e-4, 10.0), "sigma": (1e-2, 100.0), "w_std": (0.1, 20.0), "b_std": (0.1, 200.0)}


def _params(kernel: str):
    return ["lr"] + (["sigma"] if kernel == "gaussian" else []) + (["w_std", "b_std"] if kernel == "relu" else [])


def _finished(storage, kernel, charts, form) -> int:
    """Trials already in the study (0 for a new one): the sampler's seed, so that a resumed study
    does not repeat the suggestions it started with."""
    import optuna

    try:
        study = optuna.load_study(study_name=f"cy-{kernel}-{charts}-{form}", storage=f"sqlite:///{Path(storage)}")
    except KeyError:
        return 0
    return len(study.trials)


def tune(kernel: str, trials: int, storage: str | Path, *, n_train: int = 300, n_test: int = 300, steps: int = 20,
         charts: str = "one", form: str = "printed") -> dict:
    """Run (or resume) the study ``cy-KERNEL-CHARTS`` in ``storage`` until it has ``trials`` trials."""
    import optuna

    if kernel not in TABLE1:
        raise InvalidInputError("kernel", f"expected one of {', '.join(TABLE1)}, got {kernel!r}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=f"cy-{kernel}-{charts}-{form}", storage=f"sqlite:///{Path(storage)}",
                                direction="maximize", load_if_exists=True,
                                sampler=optuna.samplers.TPESampler(seed=_finished(storage, kernel, charts, form)))

    def objective(trial):
        p = {k: trial.suggest_float(k, *RANGES[k], log=True) for k in _params(kernel)}
        kernel_kw = {k: p[k] for k in ("sigma",) if k in p}
        r = run_kernel_flow(kernel, n_train=n_train, n_test=n_test, steps=steps, seed=trial.number, lr=p["lr"],
                            charts=charts, form=form, on_nonpd="stop", **kernel_kw,
                            **({"w_std": p["w_std"], "b_std": p["b_std"]} if kernel == "relu" else {}))
        trial.set_user_attr("train_gain", r["train_gain"])
        trial.set_user_attr("nonpd", bool(r["nonpd_events"]))
        return r["test_gain"]

    done = len([t for t in study.trials if t.state.is_finished()])
    if trials > done:
        study.optimize(objective, n_trials=trials - done)
    best = study.best_trial
    return {"kernel": kernel, "charts": charts, "form": form, "study": study.study_name, "storage": str(storage),
            "trials": len(study.trials), "best_params": best.params, "best_test_gain": best.value,
            "best_train_gain": best.user_attrs.get("train_gain"), "best_trial": best.number,
            "table1": TABLE1[kernel]}
