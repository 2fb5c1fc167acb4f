"""cymetric (pythoncymetric/cymetric) driven through its public API; runs in its own
venv with TensorFlow (benchmarks/peers/setup.sh). Prints ONE JSON object.

    python cymetric_driver.py train [--n-points 100000] [--n-test 10000] [--epochs 5]
                                     [--hidden 64,64,64] [--batch-size 1000] [--lr 1e-3] [--seed 0]
    python cymetric_driver.py sample [--n-points 100000] [--repeats 3] [--seed 0]

train: cymetric's multiplicative model g = g_FS ⊙ (1 + g_NN) (``models.tfmodels.MultFSModel``
on a Keras MLP, gelu, 9 outputs without bias, as in its notebook 2) on the Fermat quintic,
data from ``PointGenerator.prepare_dataset`` / ``prepare_basis``, trained with
``models.tfhelper.train_model`` (Adam at the learning rate given, all loss weights 1: σ,
Kähler, transition, volume). One of cymetric's epochs is two passes over the training
points: one at ``--batch-size`` with the σ, Kähler and transition losses, then one with the
volume loss at batch 50,000 (its notebook's ``batch_sizes=[64, 50000]``, first entry set
to ``--batch-size``). The epoch time is the sum of those two ``fit`` calls, timed by
wrapping the model's ``fit`` (instrumentation only). σ with
``models.measures.sigma_measure`` on the validation (test) points before and after.

sample: the task of the sampling table of docs/cy.md — ``generate_point_weights`` (roots
found in worker processes: their CPU seconds are counted), |Ω|², the pulled-back FS metric
(numpy, as ``PointGenerator.compute_kappa``), then σ_FS with the TensorFlow ``FSModel``.
"""

from __future__ import annotations

import os
import tempfile
import time

T_START = time.perf_counter()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from _peerlib import Clock, log, per_epoch, run_main, sample_report, versions  # noqa: E402

REPO = "pythoncymetric/cymetric"
VERSIONS = ("cymetric", "tensorflow", "numpy", "scipy", "joblib")


def point_generator():
    import numpy as np
    from cymetric.pointgen.pointgen import PointGenerator

    return PointGenerator(5 * np.eye(5, dtype=np.int64), np.ones(5), np.ones(1), np.array([4]), verbose=0)


def train(args) -> dict:
    with Clock() as c_import:
        import numpy as np
        import tensorflow as tf
        from cymetric.models.measures import sigma_measure
        from cymetric.models.tfhelper import prepare_tf_basis, train_model
        from cymetric.models.tfmodels import MultFSModel
    np.random.seed(args.seed)
    tf.random.set_seed(args.seed)
    pg = point_generator()
    with tempfile.TemporaryDirectory() as tmp, Clock() as c_sample:
        n_all = args.n_points + args.n_test
        kappa = pg.prepare_dataset(n_all, tmp, val_split=args.n_test / n_all)
        pg.prepare_basis(tmp, kappa=kappa)
        data = dict(np.load(os.path.join(tmp, "dataset.npz")))
        basis = prepare_tf_basis(np.load(os.path.join(tmp, "basis.pickle"), allow_pickle=True))
    nn = tf.keras.Sequential([tf.keras.Input(shape=(10,))]
                             + [tf.keras.layers.Dense(int(h), activation="gelu") for h in args.hidden.split(",")]
                             + [tf.keras.layers.Dense(9, use_bias=False)])
    model = MultFSModel(nn, basis, alpha=[1.0] * 5)
    x_test = tf.constant(data["X_val"], dtype=tf.float32)
    y_test = tf.constant(data["y_val"], dtype=tf.float32)

    def sigma() -> float:
        return float(sigma_measure(model, x_test, y_test))

    sigma_initial = sigma()
    fit_seconds, fit_cpu, sig = [], [], []
    fit = model.fit

    def timed_fit(*a, **kw):
        with Clock() as c:
            out = fit(*a, **kw)
        fit_seconds.append(c.wall)
        fit_cpu.append(c.cpu)
        if len(fit_seconds) % 2 == 0:  # the end of one of cymetric's epochs (two fits)
            sig.append(sigma())
            log(f"cymetric epoch {len(sig) - 1}: {fit_seconds[-2] + fit_seconds[-1]:.1f} s, sigma_test {sig[-1]:.4f}")
        return out

    model.fit = timed_fit
    train_model(model, data, optimizer=tf.keras.optimizers.Adam(learning_rate=args.lr), epochs=args.epochs,
                batch_sizes=[args.batch_size, 50000], verbose=0)
    secs = [fit_seconds[i] + fit_seconds[i + 1] for i in range(0, len(fit_seconds), 2)]
    cpus = [fit_cpu[i] + fit_cpu[i + 1] for i in range(0, len(fit_cpu), 2)]
    return {"peer": "cymetric", "repo": REPO, "task": "train",
            "model": "mult (g_FS * (1 + g_NN)), Keras MLP, gelu", "hidden": args.hidden, "epochs": args.epochs,
            "n_points": int(len(data["X_train"])), "n_test": int(len(data["X_val"])), "batch_size": args.batch_size,
            "volume_loss_batch_size": 50000, "lr": args.lr, "optimizer": "keras Adam",
            "loss": "sigma + kaehler + transition (+ volk in the second pass), weights 1", "kappa": float(kappa),
            "param_dtype": str(nn.weights[0].dtype.name), "sigma_test_initial": sigma_initial,
            "sigma_test_final": sig[-1], "sigma_test_per_epoch": sig, "seconds_per_epoch": per_epoch(secs),
            "epoch_seconds": secs, "epoch_cpu_seconds_incl_children": cpus, "first_epoch_seconds": secs[0],
            "seconds_import": c_import.wall, "seconds_sample": c_sample.wall, "versions": versions(*VERSIONS)}


def sample_task(args) -> dict:
    """The docs/cy.md sampling table: sample (+ weights, |Ω|², g_FS) then σ_FS."""
    with Clock() as c_import:
        import numpy as np
        import tensorflow as tf
        from cymetric.models.measures import sigma_measure
        from cymetric.models.tfhelper import prepare_tf_basis
        from cymetric.models.tfmodels import FSModel
    with tempfile.TemporaryDirectory() as tmp, Clock() as c_setup:
        pg = point_generator()
        pg.prepare_basis(tmp, kappa=1.0)
        model = FSModel(prepare_tf_basis(np.load(os.path.join(tmp, "basis.pickle"), allow_pickle=True)))
    runs = []
    for i in range(args.repeats + 1):
        np.random.seed(args.seed + i)
        with Clock() as c_s:
            pw = pg.generate_point_weights(args.n_points, omega=True)
            pts = pw["point"]
            omega2 = np.real(pw["omega"] * np.conj(pw["omega"]))
            pbs = pg.pullbacks(pts)
            g_fs = np.einsum("xai,xij,xbj->xab", pbs, pg.fubini_study_metrics(pts), np.conj(pbs))
        with Clock() as c_sig:
            x = tf.constant(np.concatenate([pts.real, pts.imag], axis=-1), dtype=tf.float32)
            y = tf.constant(np.stack([pw["weight"], omega2], axis=-1), dtype=tf.float32)
            s = float(sigma_measure(model, x, y))
        runs.append({"sample_s": c_s.wall, "sample_cpu_s_incl_children": c_s.cpu, "sigma_s": c_sig.wall,
                     "sigma_cpu_s": c_sig.cpu, "sigma_fs": s, "n_points": int(len(pts)),
                     "g_fs_shape": list(g_fs.shape)})
        log(f"cymetric sample run {i}: {c_s.wall:.3f} s + sigma {c_sig.wall:.3f} s")
    return {"peer": "cymetric", "repo": REPO, "task": "sample", "n_points": args.n_points,
            "computed": "PointGenerator.generate_point_weights(omega=True) (joblib worker processes); "
                        "pullbacks + fubini_study_metrics (numpy); models.measures.sigma_measure(FSModel)",
            **sample_report(runs, c_import.wall + c_setup.wall), "import_s": c_import.wall, "setup_s": c_setup.wall,
            "versions": versions(*VERSIONS), "seconds_since_start": time.perf_counter() - T_START}


def main() -> None:
    run_main(__doc__, {"train": train, "sample": sample_task}, training=True)


if __name__ == "__main__":
    main()
