"""Demo showcase: a short Ricci flow (eq. 2.39) of a bumpy metric on S², conformal gauge."""

from __future__ import annotations

from pathlib import Path


def showcase(outdir: Path) -> dict:
    """Flow a bumpy S² (lmax 16, RK4, dt = 0.001) to t = 0.3 and measure Gauss–Bonnet:
    ``d(area)/dt = −∫R dA = −8π`` (least-squares slope of area against t), the decay of
    the normalised curvature spread and the growth of Perelman's λ. Writes
    ``sphere_ricci_history.png`` and ``sphere_ricci_curvature.png``."""
    import numpy as np

    from metricflow.flows.integrate import run_flow
    from metricflow.flows.sphere import (
        initial_state,
        plot_sphere_fields,
        plot_sphere_history,
        scalar_curvature,
    )
    from metricflow.manifolds import Sphere

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    S = Sphere(16)
    dt, steps = 1e-3, 300
    out = run_flow(S, initial_state(S, "bumpy", seed=0, amplitude=0.5), flow="perelman", dt=dt, steps=steps,
                   record_every=30)
    h = out.history
    t = np.array([r["t"] for r in h])
    area = np.array([r["area"] for r in h])
    rate = float(np.polyfit(t, area, 1)[0])
    worst = float(np.max(np.abs(np.diff(area) / np.diff(t) + 8 * np.pi)))
    gb = float(max(abs(r["total_scalar_curvature"] - 8 * np.pi) for r in h))
    title = f"Ricci flow on S² (lmax {S.lmax}, grid {S.nlat}×{S.nlon}, RK4, dt = {dt:g})"
    plot_sphere_history(h, outdir / "sphere_ricci_history.png", title)
    pick = [0, len(out.snapshots) // 2, len(out.snapshots) - 1]
    plot_sphere_fields(S, [np.asarray(scalar_curvature(S, out.snapshots[i])) for i in pick],
                       [float(out.snapshot_times[i]) for i in pick], outdir / "sphere_ricci_curvature.png", title)
    h0, h1 = h[0], h[-1]
    lines = [f"area {h0['area']:.6f} -> {h1['area']:.6f}: d(area)/dt = {rate:.10f} "
             f"(Gauss–Bonnet −8π = {-8 * np.pi:.10f}; worst interval off by {worst:.2g})",
             f"∫R dA = 8π to {gb:.2g} at every record",
             f"curvature spread (max R − min R)/mean R {h0['curvature_spread']:.3f} -> "
             f"{h1['curvature_spread']:.3f} at t = {h1['t']:.2f} (round: 0)",
             f"Perelman λ {h0['lambda']:.6f} -> {h1['lambda']:.6f}, non-decreasing: "
             f"{all(b['lambda'] >= a['lambda'] for a, b in zip(h, h[1:], strict=False))}"]
    return {"title": "Ricci flow on the 2-sphere (conformal gauge, spherical harmonics)",
            "markdown": "\n".join(f"- {ln}" for ln in lines),
            "data": {"history": h, "area_rate": rate, "area_rate_expected": -8 * np.pi,
                     "area_rate_worst_interval_error": worst, "gauss_bonnet_error": gb,
                     "summary_lines": lines},
            "plots": ["sphere_ricci_history.png", "sphere_ricci_curvature.png"]}
