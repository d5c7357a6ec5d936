"""A mistyped command or option is a usage error: one line, the closest valid name, exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from clinai.cli import EXIT_BAD_INPUT, main


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "internal error" not in err and "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["nosuchcmd"], ["No such command 'nosuchcmd'", "'clinai --help'"]),
        (["runn", "x.yaml"], ["No such command 'runn'", "Did you mean 'run'?"]),
        (["run"], ["Missing argument", "usage: clinai run", "'clinai run --help'"]),
        (["validate", "p.csv", "--bogus", "1"], ["No such option: --bogus", "clinai validate"]),
        (["validate", "p.csv", "--bootstrp", "5"], ["--bootstrp", "--bootstrap"]),
        (["validate", "p.csv", "--bootstrap", "many"], ["'--bootstrap'", "integer"]),
        (["audit", "veriffy"], ["No such command 'veriffy'", "Did you mean 'verify'?"]),
        (["--debug", "nosuchcmd"], ["No such command 'nosuchcmd'"]),
    ],
    ids=[
        "unknown-command",
        "misspelt-command",
        "missing-config",
        "unknown-option",
        "misspelt-option",
        "option-not-an-integer",
        "misspelt-subcommand",
        "unknown-command-with-debug",
    ],
)
def test_usage_error_is_one_line_and_exit_2(
    argv: list[str], needles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == EXIT_BAD_INPUT
    line = _one_error_line(capsys)
    for needle in needles:
        assert needle in line, (needle, line)


def test_no_arguments_shows_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert "internal error" not in captured.err
    assert "Usage" in captured.out + captured.err
    assert "validate" in captured.out + captured.err


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--help"]) == 0
    assert "--bootstrap" in capsys.readouterr().out


def test_console_script_exit_code() -> None:
    """The installed entry point (a fresh interpreter), not only ``main()``."""
    done = subprocess.run(
        [sys.executable, "-c", "from clinai.cli import entry_point; entry_point()", "nosuchcmd"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == EXIT_BAD_INPUT, done.stderr
    assert done.stderr.startswith("error: No such command 'nosuchcmd'"), done.stderr
