"""Every error a user can cause reaches them as one line with its exit code, never a
traceback (issue 12 item 5): each command fed a missing file, an unreadable one and
malformed YAML."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ypsi_audit import resources

SAMPLE = str(resources.sample_log())
BAD_YAML = "rename:\n  a: b\n   c: [unclosed\n"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ypsi_audit.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def _one_line(result: subprocess.CompletedProcess, code: int, words: str) -> None:
    said = result.stderr.strip()
    assert result.returncode == code, (result.returncode, said, result.stdout)
    assert "Traceback" not in result.stderr + result.stdout
    assert said.count("\n") == 0 or all(
        not line.startswith(("  File", "Traceback")) for line in said.splitlines()
    )
    last = said.splitlines()[-1]
    assert last.startswith("ypsi-audit: ") and words in last, last


def _inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    garbage = folder / "garbage.csv"
    garbage.write_bytes(b"\x00\xff\xfe" * 200)
    directory = folder / "folder.csv"
    directory.mkdir(exist_ok=True)
    bad = folder / "bad.yaml"
    bad.write_text(BAD_YAML)
    return {"missing": folder / "missing.csv", "garbage": garbage, "directory": directory,
            "bad_yaml": bad}  # fmt: skip


COMMANDS = {
    "validate": lambda src, tmp: ["validate", src],
    "assess": lambda src, tmp: ["assess", src, "--out", str(tmp / "out.csv")],
    "report": lambda src, tmp: ["report", src, "--out", str(tmp / "rep")],
    "impact": lambda src, tmp: ["impact", src, "--to", "ukcis-2024", "--out", str(tmp / "imp")],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("kind", ["missing", "garbage", "directory"])
def test_a_bad_input_file_is_one_line(command: str, kind: str, tmp_path: Path) -> None:
    files = _inputs(tmp_path / "in")
    result = _cli(*COMMANDS[command](str(files[kind]), tmp_path), cwd=tmp_path)
    _one_line(result, 2, str(files[kind].name))
    assert not (tmp_path / "rep").exists() and not (tmp_path / "imp").exists()


YAML_OPTIONS = [
    (command, option)
    for command in sorted(COMMANDS)
    for option in ("--mapping", "--policy")
    if (command, option) != ("validate", "--policy")  # validate takes no policy
]


@pytest.mark.parametrize(("command", "option"), YAML_OPTIONS)
def test_malformed_yaml_names_the_file_and_line(command: str, option: str, tmp_path: Path) -> None:
    files = _inputs(tmp_path / "in")
    args = COMMANDS[command](SAMPLE, tmp_path)
    if option == "--policy":
        if command == "impact":
            args = [a if a != "ukcis-2024" else str(files["bad_yaml"]) for a in args]
        else:
            args += ["--policy", str(files["bad_yaml"])]
    else:
        args += ["--mapping", str(files["bad_yaml"])]
    result = _cli(*args, cwd=tmp_path)
    _one_line(result, 2, "bad.yaml")
    assert "line 3" in result.stderr


def test_a_schedule_that_is_malformed_or_missing_is_one_line(tmp_path: Path) -> None:
    files = _inputs(tmp_path / "in")
    _one_line(_cli("run", str(files["bad_yaml"]), cwd=tmp_path), 2, "bad.yaml")
    _one_line(_cli("run", str(files["missing"]), cwd=tmp_path), 2, "missing.csv")
