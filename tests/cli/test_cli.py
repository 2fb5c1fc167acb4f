"""The command line shell: help, version, one-line errors."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from metricflow.cli import cli, main


def run_main(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_help_lists_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "demo" in result.output


def test_every_command_has_help():
    runner = CliRunner()
    for name in cli.list_commands(None):
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "--help" in result.output


def test_unknown_command_is_one_line_exit_2(capsys):
    code, out, err = run_main(["no-such-command"], capsys)
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "no-such-command" in err


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "metricflow" in result.output


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "metricflow", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "Usage" in proc.stdout
