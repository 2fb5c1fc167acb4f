"""The side-by-side peer benchmark's plumbing (benchmarks/peers_compare.py, benchmarks/peers/):
the pins are well formed, a missing or failed peer install is reported with its reason
instead of stopping the run, and a step's JSON is found after a library's chatter. The
peers themselves are not run here (their venvs are not part of the test environment)."""

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / "peers"


@pytest.fixture(scope="module")
def pc():
    spec = importlib.util.spec_from_file_location("peers_compare", ROOT / "benchmarks" / "peers_compare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pins_name_a_commit_and_a_requirement_file_per_peer():
    rows = [line.split() for line in (PEERS / "PINS").read_text().splitlines() if line and not line.startswith("#")]
    assert sorted(r[0] for r in rows) == ["cyjax", "cymetric", "cymyc"]
    for name, repo, commit, _paths in rows:
        assert re.fullmatch(r"[0-9a-f]{40}", commit), name
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", repo), name
        pins = [line for line in (PEERS / f"requirements-{name}.txt").read_text().splitlines()
                if line and not line.startswith("#")]
        assert pins and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.+-]+", p) for p in pins), name
        assert not any(p.lower().startswith(f"{name}==") for p in pins), f"{name} comes from its commit, not PyPI"
        assert (PEERS / f"{name}_driver.py").exists()


def test_missing_and_failed_installs_are_skipped_with_the_reason(pc, tmp_path, monkeypatch):
    monkeypatch.setenv("PEERS_DIR", str(tmp_path))
    step = pc.peer_step("cyjax donaldson", "cyjax", ["donaldson"], timeout=5)
    assert "run benchmarks/peers/setup.sh" in step["skipped"] and "result" not in step
    (tmp_path / "cymetric.failed").write_text("no tensorflow wheel for this Python")
    assert pc.peer_step("cymetric mult", "cymetric", ["train"], timeout=5)["skipped"] == \
        "install failed: no tensorflow wheel for this Python"
    assert pc.ratio({"result": {"x": 2.0}}, {"skipped": "why"}, "x") is None
    assert pc.ratio({"result": {"x": 2.0}}, {"result": {"x": 8.0}}, "x") == 0.25


def test_a_step_json_is_found_after_chatter_and_failures_are_recorded(pc):
    doc = {"seconds_per_epoch": 1.5, "nested": {"a": [1, 2]}}
    assert pc.first_json("Compiling phi_head\nwarning: x\n" + json.dumps(doc, indent=1) + "\n") == doc
    with pytest.raises(ValueError):
        pc.first_json("no json here\n")
    ok = pc.run_step("echo", [sys.executable, "-c", "print('chatter'); print('{\"v\": 3}')"], timeout=60)
    assert ok["result"] == {"v": 3} and len(ok["loadavg_before"]) == 3
    bad = pc.run_step("exit", [sys.executable, "-c", "import sys; sys.exit('boom')"], timeout=60)
    assert bad["failure"].startswith("exit 1") and "boom" in bad["failure"]
