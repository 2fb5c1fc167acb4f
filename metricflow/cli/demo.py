"""``metricflow demo``."""

from __future__ import annotations

import json

import click

from metricflow.cli._main import library_errors


@click.command()
@click.option("--out", "outdir", default="metricflow-out", show_default=True,
              type=click.Path(file_okay=False), help="Folder for demo.json, report.md and plots.")
@click.option("--only", multiple=True, help="Run only this showcase (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON document instead of a summary.")
@library_errors
def demo(outdir, only, as_json):
    """Showcase each capability on built-in defaults; writes JSON, markdown and PNGs."""
    from metricflow.errors import InvalidInputError
    from metricflow.experiments.demo import SHOWCASES, run_demo
    from metricflow.io import prepare_output_dir

    unknown = [name for name in only if name not in SHOWCASES]
    if unknown:
        raise InvalidInputError("only", f"unknown showcase(s) {unknown}; known: {list(SHOWCASES)}")
    prepare_output_dir(outdir, "outdir")  # before any showcase runs

    def progress(name):
        if not as_json:
            click.echo(f"[demo] {name} ...", err=True)

    doc = run_demo(outdir, list(only) or None, progress=progress)
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    for _name, sc in doc["showcases"].items():
        click.echo(f"== {sc['title']}  ({sc['seconds']:.2f} s)")
        for line in sc["data"].get("summary_lines", []):
            click.echo(f"   {line}")
    click.echo(f"\nWrote {outdir}/demo.json and {outdir}/report.md")
