"""``metricflow flow``: run metric flows."""

from __future__ import annotations

import json

import click

from metricflow.cli._main import library_errors

MANIFOLDS = ("torus2", "torus3", "sphere2")


@click.group()
def flow():
    """Run metric flows: Ricci and Perelman flows, local, semi-local (Gaussian) or non-local (frozen NTK)."""


@flow.command()
@click.option("--manifold", default="torus2", show_default=True,
              help="torus2 or torus3 (periodic grid, spectral derivatives), or sphere2 (conformal gauge "
                   "g = e^{2u} g_round in spherical harmonics; Ricci flow, and Perelman's flow through its "
                   "Ricci-gauge representative with F = λ reported; local kernel only).")
@click.option("--flow", "flow_name", default="ricci", show_default=True,
              help="ricci: dg/dt = -2 Ric (eq. 2.39); perelman: dg/dt = -2(Ric + Hess f) (eq. 2.40) with f the "
                   "minimiser of F, which is then reported as F (non-decreasing).")
@click.option("--kernel", default="local", show_default=True,
              help="local: the σ → 0 limit (eq. 2.31); gaussian:SIGMA: semi-local flow (eq. 2.30); "
                   "ntk:ACTIVATION[:DEPTH]: non-local flow with a frozen MLP NTK (eq. 2.12), e.g. ntk:relu.")
@click.option("--steps", default=200, show_default=True, type=int, help="Number of time steps.")
@click.option("--dt", default=2e-3, show_default=True, type=float, help="Time step.")
@click.option("--init", "init", default="bumpy", show_default=True,
              help="Initial metric: flat (tori) or round (sphere2), or bumpy (seeded, smooth, positive definite, "
                   "clearly non-trivial).")
@click.option("--n", "n", default=32, show_default=True, type=int, help="Grid points per direction (tori).")
@click.option("--lmax", default=16, show_default=True, type=int,
              help="Band limit of the spherical harmonics (sphere2).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the bumpy initial metric.")
@click.option("--method", default="rk4", show_default=True, type=click.Choice(["euler", "rk4", "adaptive"]))
@click.option("--record-every", default=10, show_default=True, type=int, help="Steps between records.")
@click.option("--out", "outdir", default="metricflow-out/flow", show_default=True, type=click.Path(file_okay=False),
              help="Folder for trajectory.npz, history.json, checkpoint.npz and the plots.")
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoint.npz if it belongs to this run.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (key: history).")
@library_errors
def run(manifold, flow_name, kernel, steps, dt, init, n, lmax, seed, method, record_every, outdir, resume, as_json):
    """Integrate a metric flow; writes the trajectory, history and plots to OUT.

    JSON keys: history (list of {t, step, area, max_abs_scalar_curvature,
    total_scalar_curvature, min_eigenvalue}, plus F, lambda, dF_dt, dilaton_mass and
    dilaton_residual for --flow perelman), files, manifold, flow, kernel.
    """
    from pathlib import Path

    import numpy as np
    from tqdm import tqdm

    from metricflow._x64 import x64
    from metricflow.errors import InvalidInputError
    from metricflow.flows.integrate import run_flow
    from metricflow.flows.local import initial_metric, scalar_curvature
    from metricflow.flows.plots import plot_history, plot_scalar_fields
    from metricflow.flows.systems import FLOWS, flow_system, parse_kernel
    from metricflow.io import save_npz_atomic, write_json_atomic
    from metricflow.manifolds import Sphere, Torus

    if manifold not in MANIFOLDS:
        raise InvalidInputError("manifold", f"expected one of {list(MANIFOLDS)}, got {manifold!r}")
    if flow_name not in FLOWS:
        raise InvalidInputError("flow_name", f"expected one of {list(FLOWS)}, got {flow_name!r}")
    parse_kernel(kernel)
    if manifold == "sphere2":
        from metricflow.flows import sphere as S2

        M = Sphere(lmax)
        state0 = S2.initial_state(M, init, seed=seed)
        resolution = f"lmax={lmax}"
    else:
        M = Torus(int(manifold[-1]), n)
        state0 = initial_metric(M, init, seed=seed)
        resolution = f"n={n}"
    # refuse a kernel the manifold cannot carry before any work is done
    if manifold == "sphere2":
        flow_system(M, flow_name, kernel)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    n_records = -(-steps // record_every)
    bar = tqdm(total=n_records + 1, desc=f"{flow_name} flow on {manifold}", unit="record",
               disable=as_json, leave=False)
    result = run_flow(M, state0, flow=flow_name, kernel=kernel, steps=steps, dt=dt, method=method,
                      record_every=record_every, checkpoint=out / "checkpoint.npz", resume=resume,
                      callback=lambda rec: bar.update(1))
    bar.close()
    title = f"{flow_name} flow on {manifold} from '{init}' ({resolution}, dt={dt}, {method})"
    field = "conformal_factors" if manifold == "sphere2" else "metrics"
    save_npz_atomic(out / "trajectory.npz", times=np.array(result.snapshot_times),
                    final=result.final, **{field: np.stack(result.snapshots)},
                    meta=json.dumps({"manifold": manifold, "flow": flow_name, "kernel": kernel, "init": init,
                                     "seed": seed, "n": n, "lmax": lmax, "dt": dt, "steps": steps,
                                     "method": method}))
    files = ["trajectory.npz", "history.json", "checkpoint.npz"]
    if manifold == "sphere2":
        pick = [0, len(result.snapshots) // 2, len(result.snapshots) - 1]
        files.append(S2.plot_sphere_history(result.history, out / "history.png", title).name)
        files.append(S2.plot_sphere_fields(M, [np.asarray(S2.scalar_curvature(M, result.snapshots[i]))
                                               for i in pick],
                                           [result.snapshot_times[i] for i in pick], out / "scalar_curvature.png",
                                           title).name)
    else:
        files.append(plot_history(result.history, out / "history.png", title).name)
        if M.dim == 2:
            import jax

            with x64():
                R0 = np.asarray(scalar_curvature(M, jax.numpy.asarray(result.snapshots[0])))
                R1 = np.asarray(scalar_curvature(M, jax.numpy.asarray(result.final)))
            files.append(plot_scalar_fields([R0, R1], [0.0, result.history[-1]["t"]], out / "scalar_curvature.png",
                                            title).name)
    doc = {"manifold": manifold, "flow": flow_name, "kernel": kernel, "init": init, "history": result.history,
           "files": files}
    write_json_atomic(out / "history.json", doc)
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    h0, h1 = result.history[0], result.history[-1]
    click.echo(f"{title}\n  t: {h0['t']:.4g} -> {h1['t']:.4g}\n  area: {h0['area']:.6g} -> {h1['area']:.6g}\n"
               f"  max|R|: {h0['max_abs_scalar_curvature']:.4g} -> {h1['max_abs_scalar_curvature']:.4g}\n"
               f"  wrote {', '.join(files)} in {out}")
