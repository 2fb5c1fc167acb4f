"""``metricflow flow``: run metric flows."""

from __future__ import annotations

import json

import click

from metricflow.cli._main import library_errors


@click.group()
def flow():
    """Run metric flows: Ricci and Perelman flows, local, semi-local (Gaussian) or non-local (frozen NTK)."""


@flow.command()
@click.option("--manifold", default="torus2", show_default=True,
              help="torus2 or torus3 (periodic grid, spectral derivatives), sphere2 (conformal gauge "
                   "g = e^{2u} g_round in spherical harmonics; Ricci flow, and Perelman's flow through its "
                   "Ricci-gauge representative with F = λ reported; the kernels act on du/dt), or a point cloud "
                   "of a hypersurface: quintic, quartic-k3, cubic-curve (hermitian metric values at --n-points "
                   "Shiffman–Zelditch points; --flow sigma).")
@click.option("--flow", "flow", default="ricci", show_default=True,
              help="ricci: dg/dt = -2 Ric (eq. 2.39); perelman: dg/dt = -2(Ric + Hess f) (eq. 2.40) with f the "
                   "minimiser of F, which is then reported as F (non-decreasing); functional:NAME: the descent "
                   "flow of a functional (volume, einstein-hilbert; eq. 2.14), tori only; sigma: gradient descent "
                   "of the σ-measure (B.11) on the metric values, point clouds only.")
@click.option("--kernel", default="local", show_default=True,
              help="local: the σ → 0 limit (eq. 2.31); gaussian:SIGMA: semi-local flow (eq. 2.30; FS geodesic "
                   "distance on point clouds); ntk:ACTIVATION[:DEPTH]: non-local flow with a frozen MLP NTK "
                   "(eq. 2.12), e.g. ntk:relu (on sphere2 the MLP sees x in R^3 and the kernel is diagonal in the "
                   "harmonics); nearest: the nearest-neighbour kernel (point clouds).")
@click.option("--steps", default=200, show_default=True, type=int, help="Number of time steps.")
@click.option("--dt", default=None, type=float,
              help="Time step [default: 0.002 on the grids, 0.01 on point clouds].")
@click.option("--init", "init", default=None,
              help="Initial metric: flat (tori), round (sphere2) or bumpy (seeded, smooth, positive definite, "
                   "clearly non-trivial) [default: bumpy]; fs (point clouds: the Fubini–Study metric) [default].")
@click.option("--n", "n", default=None, type=int,
              help="Grid points per direction (tori) [default: 32 on torus2, 16 on torus3].")
@click.option("--lmax", default=16, show_default=True, type=int,
              help="Band limit of the spherical harmonics (sphere2).")
@click.option("--n-points", "n_points", default=2000, show_default=True, type=int,
              help="Points of a point cloud (quintic, quartic-k3, cubic-curve).")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seed of the bumpy initial metric, or of the points of a point cloud.")
@click.option("--method", default="rk4", show_default=True, type=click.Choice(["euler", "rk4", "adaptive"]))
@click.option("--record-every", default=10, show_default=True, type=int, help="Steps between records.")
@click.option("--out", "outdir", default="metricflow-out/flow", show_default=True, type=click.Path(file_okay=False),
              help="Folder for trajectory.npz, history.json, checkpoint.npz and the plots.")
@click.option("--resume", is_flag=True,
              help="Continue from OUT/checkpoint.npz; refused if any setting differs from the checkpoint's.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (key: history).")
@library_errors
def run(manifold, flow, kernel, steps, dt, init, n, lmax, n_points, seed, method, record_every, outdir, resume,
        as_json):
    """Integrate a metric flow; writes the trajectory, history and plots to OUT.

    JSON keys: history (list of {t, step, area, max_abs_scalar_curvature,
    total_scalar_curvature, min_eigenvalue}, plus F, lambda, dF_dt, dilaton_mass and
    dilaton_residual for --flow perelman; {t, step, sigma, kappa, volume, min_eigenvalue}
    for --flow sigma), files, manifold, flow, kernel.
    """
    import numpy as np
    from tqdm import tqdm

    from metricflow.cli import _checks
    from metricflow.flows import catalog
    from metricflow.flows.integrate import check_run, run_flow
    from metricflow.flows.registry import lookup
    from metricflow.flows.systems import parse_flow
    from metricflow.io import prepare_output_dir, save_npz_atomic, write_json_atomic
    from metricflow.kernels.base import parse_kernel
    from metricflow.manifolds import PointCloud, Sphere, Torus
    from metricflow.plotting.flows import plot_flow

    # everything is checked before any work
    dt = catalog.default_dt(manifold) if dt is None else dt
    init = catalog.default_init(manifold) if init is None else init
    check_run(steps=steps, dt=dt, method=method, record_every=record_every)
    _checks.seed(seed)
    parse_kernel(kernel)
    parse_flow(flow)
    catalog.check_manifold(manifold, n=n, lmax=lmax, n_points=n_points, init=init)
    lookup({"sphere2": Sphere, "torus2": Torus, "torus3": Torus}.get(manifold, PointCloud), flow, manifold)
    out = prepare_output_dir(outdir, "outdir")  # writable, and a killed run's temporaries removed

    M = catalog.build(manifold, n=n, lmax=lmax, n_points=n_points, seed=seed)
    state0 = catalog.initial_metric(M, init, seed=seed)
    n_records = -(-steps // record_every)
    bar = tqdm(total=n_records + 1, desc=f"{flow} flow on {manifold}", unit="record", disable=as_json, leave=False)
    result = run_flow(M, state0, flow=flow, kernel=kernel, steps=steps, dt=dt, method=method,
                      record_every=record_every, checkpoint=out / "checkpoint.npz", resume=resume,
                      callback=lambda rec: bar.update(1), settings={"init": init, "seed": seed})
    bar.close()
    resolution = {"sphere2": f"lmax={lmax}"}.get(manifold, f"n={M.n}" if isinstance(M, Torus) else f"N={M.npoints}")
    title = f"{flow} flow on {manifold} from '{init}' ({resolution}, dt={dt}, {method})"
    field = "conformal_factors" if manifold == "sphere2" else "metrics"
    save_npz_atomic(out / "trajectory.npz", times=np.array(result.snapshot_times),
                    final=result.final, **{field: np.stack(result.snapshots)},
                    meta=json.dumps({"manifold": manifold, "flow": flow, "kernel": kernel, "init": init,
                                     "seed": seed, "n": M.n if isinstance(M, Torus) else n, "lmax": lmax,
                                     "n_points": n_points, "dt": dt, "steps": steps, "method": method}))
    files = ["trajectory.npz", "history.json", "checkpoint.npz"] + plot_flow(M, result, out, title)
    doc = {"manifold": manifold, "flow": flow, "kernel": kernel, "init": init, "history": result.history,
           "files": files}
    write_json_atomic(out / "history.json", doc)
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    h0, h1 = result.history[0], result.history[-1]
    if "area" in h0:
        lines = [f"  area: {h0['area']:.6g} -> {h1['area']:.6g}",
                 f"  max|R|: {h0['max_abs_scalar_curvature']:.4g} -> {h1['max_abs_scalar_curvature']:.4g}"]
    else:
        lines = [f"  sigma: {h0['sigma']:.6g} -> {h1['sigma']:.6g}", f"  kappa: {h0['kappa']:.6g} -> {h1['kappa']:.6g}"]
    lines = [title, f"  t: {h0['t']:.4g} -> {h1['t']:.4g}", *lines, f"  wrote {', '.join(files)} in {out}"]
    click.echo("\n".join(lines))


@flow.command()
@click.option("--manifold", default="torus2", show_default=True, help="torus2 or torus3.")
@click.option("--arch", default="cosnet", show_default=True,
              help="cosnet: last-layer cos-nets with integer frequencies of width σ (frozen NTK, trained exactly "
                   "per frequency); relu: ReLU MLP on (cos x, sin x), all layers trained (evolving NTK).")
@click.option("--width", default=100_000, show_default=True, type=int,
              help="Neurons per component network (cosnet) or per hidden layer (relu).")
@click.option("--sigma", default=0.5, show_default=True, type=float, help="Frequency width σ of the cos-nets.")
@click.option("--depth", default=1, show_default=True, type=int, help="Hidden layers of the ReLU network.")
@click.option("--steps", default=10, show_default=True, type=int, help="Gradient-descent steps.")
@click.option("--lr", default=2e-3, show_default=True, type=float,
              help="Learning rate η (= the Euler time step of the flow, eqs. 2.1-2.2).")
@click.option("--records", default=5, show_default=True, type=int, help="Number of record intervals.")
@click.option("--init", "init", default="smooth", show_default=True,
              help="Initial metric: smooth (the perelman-check's low-frequency metric), bumpy (flow run's) or flat.")
@click.option("--n", "n", default=None, type=int,
              help="Grid points per direction [default: the smallest grid resolving σ for cosnet, 16 for relu].")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the network and of the initial metric.")
@click.option("--kernel-points", default=64, show_default=True, type=int,
              help="Grid points on which the empirical metric-NTK is recorded (relu).")
@click.option("--no-reference", is_flag=True, help="Skip the comparison flows (Perelman, kernel, local).")
@click.option("--out", "outdir", default="metricflow-out/train", show_default=True,
              type=click.Path(file_okay=False),
              help="Folder for history.json, trajectory.npz, checkpoint.npz and the plots.")
@click.option("--resume", is_flag=True,
              help="Continue the training from OUT/checkpoint.npz if it belongs to this run.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (keys: history, files).")
@library_errors
def train(manifold, arch, width, sigma, depth, steps, lr, records, init, n, seed, kernel_points, no_reference,
          outdir, resume, as_json):
    """Train a finite network's metric by gradient descent on L = −λ (Perelman's F at its
    minimising dilaton) and compare with Perelman's flow (eq. 2.40).

    JSON keys: history (list of {t, step, F, area, max_abs_scalar_curvature,
    discrepancy_perelman, discrepancy_kernel, …, and for relu kernel_change}), files,
    and the settings. The training is checkpointed after every record in
    OUT/checkpoint.npz; --resume continues a killed run from there.
    """
    from pathlib import Path

    from tqdm import tqdm

    from metricflow.cli import _checks
    from metricflow.errors import InvalidInputError
    from metricflow.flows.network import network_flow
    from metricflow.flows.realization import smooth_metric
    from metricflow.flows.torus import initial_metric
    from metricflow.io import prepare_output_dir
    from metricflow.manifolds import Torus
    from metricflow.models.cosnet import grid_for_sigma
    from metricflow.plotting.network import save_network_flow

    if manifold not in ("torus2", "torus3"):
        raise InvalidInputError("manifold", f"expected torus2 or torus3 (networks on the periodic grid), "
                                f"got {manifold!r}")
    _checks.seed(seed)
    if n is None:
        n = grid_for_sigma(sigma) if arch == "cosnet" else 16
    T = Torus(int(manifold[-1]), n)
    prepare_output_dir(outdir, "outdir")  # writable, and a killed run's temporaries removed
    if init == "smooth":
        g0 = smooth_metric(T, seed=seed)[0]
    else:
        g0 = initial_metric(T, init, seed=seed)
    total = None
    if steps > 0 and records > 0:   # records of the network and of each reference flow
        n_records = 1 + -(-steps // -(-steps // records))
        total = n_records * (1 + (0 if no_reference else 3 if arch == "cosnet" else 2))
    bar = tqdm(total=total, desc=f"{arch} flow on {manifold}", unit="record", disable=as_json, leave=False)
    result = network_flow(T, g0, arch=arch, width=width, sigma=sigma, depth=depth, lr=lr, steps=steps,
                          records=records, seed=seed, kernel_points=kernel_points,
                          references=() if no_reference else ("perelman", "kernel", "local"),
                          checkpoint=Path(outdir) / "checkpoint.npz", resume=resume,
                          callback=lambda rec: bar.update(1), reference_callback=lambda rec: bar.update(1))
    bar.close()
    result.meta["init"] = init
    files = save_network_flow(result, outdir) + ["checkpoint.npz"]
    doc = {**result.meta, "history": result.history, "files": files}
    if as_json:
        from metricflow.io import to_jsonable

        click.echo(json.dumps(to_jsonable(doc), indent=2))
        return
    h0, h1 = result.history[0], result.history[-1]
    lines = [f"{arch} network (width {width}) on {manifold}, n={n}, η={lr}, {steps} steps",
             f"  t: 0 -> {h1['t']:.4g}", f"  λ: {h0['F']:.6g} -> {h1['F']:.6g}"]
    if "discrepancy_perelman" in h1:
        lines.append(f"  discrepancy vs Perelman (relative): {h1['discrepancy_perelman']:.3g}")
    if "kernel_change" in h1:
        lines.append(f"  metric-NTK change: {h1['kernel_change']:.3g}")
    lines.append(f"  wrote {', '.join(files)} in {outdir}")
    click.echo("\n".join(lines))
