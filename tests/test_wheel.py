"""The package is whole when installed: build the wheel, install it into a new virtual
environment outside the repository and run the commands from a folder outside it too.

The wheel is built from a copy of the sources, so the build leaves nothing in the working
tree. The new environment borrows this environment's dependencies without downloading
them: a `.pth` file puts this environment's site-packages on its path as a plain folder.
`.pth` files inside a plain folder are not read, so the editable install's finder there
stays off and `ypsi_audit` can only come from the wheel (the first test proves it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "samples" / "sample_trust_log.csv"
# Top-level folders that ship inside the package (setup.py), and the files of each.
SHIPPED_FOLDERS = {
    "notebooks": ("ypsi_audit/notebooks", "*.ipynb"),
    "expectations": ("ypsi_audit/expectations", "*.json"),
    "data/samples": ("ypsi_audit/samples", "sample_trust_log.csv"),
}
# What the build reads; everything else in the repository stays behind.
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "ypsi_audit", *SHIPPED_FOLDERS)
PIP = (sys.executable, "-m", "pip", "--quiet")
PAGES = ("escalation", "recording", "fairness", "data_quality")  # the front page's order


class Installed:
    """The new environment and what was built into it."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.wheel = _build_wheel(base)
        self.env = base / "env"
        venv.EnvBuilder(with_pip=False, symlinks=True).create(self.env)
        self.python = self.env / "bin" / "python"
        self.command = self.env / "bin" / "ypsi-audit"
        _run(
            [*PIP, "--python", str(self.python), "install", "--no-deps", str(self.wheel)],
            cwd=base,
        )
        # Only after the install, so pip saw an environment without the project in it.
        site = Path(self.ask("import sysconfig; print(sysconfig.get_paths()['purelib'])"))
        # Every site-packages folder this test runs with (the project's environment, and
        # whatever that one borrows in turn), as plain paths.
        borrowed = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]
        (site / "project_dependencies.pth").write_text("\n".join(borrowed) + "\n")
        # The borrowed packages' data files (nbconvert's templates, the kernel spec) are
        # found under the environment's share/jupyter, where pip would have put them.
        (self.env / "share").mkdir(exist_ok=True)
        (self.env / "share" / "jupyter").symlink_to(Path(sys.prefix) / "share" / "jupyter")
        self.work = base / "work"
        self.work.mkdir()
        self.log = self.work / "log.csv"
        shutil.copyfile(SAMPLE, self.log)

    def ask(self, code: str) -> str:
        command = [str(self.python), "-c", code]
        return _run(command, cwd=self.base, env=_clean_env(self.env)).stdout.strip()

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`ypsi-audit ARGS` from the new environment, in a folder outside the repository."""
        return subprocess.run(
            [str(self.command), *args],
            cwd=self.work,
            env=_clean_env(self.env),
            capture_output=True,
            text=True,
            timeout=600,
        )


def _build_wheel(base: Path) -> Path:
    source = base / "source"
    for name in BUILD_INPUTS:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(
                origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, source / name)
    dist = base / "dist"
    _run(
        [*PIP, "wheel", "--no-deps", "--wheel-dir", str(dist), str(source)],
        cwd=base,
    )
    (wheel,) = dist.glob("ypsi_audit-*.whl")
    return wheel


def _clean_env(env: Path) -> dict[str, str]:
    """This process's environment, without anything that would point back at the repository."""
    keep = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    keep["PATH"] = f"{env / 'bin'}{os.pathsep}{keep.get('PATH', '')}"
    keep["VIRTUAL_ENV"] = str(env)
    return keep


def _run(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command[:4]} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel").resolve()
    assert not base.is_relative_to(ROOT), "the new environment must be outside the repository"
    return Installed(base)


def _inside(path: str | Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def test_the_installed_package_is_the_wheel_not_the_repository(installed: Installed) -> None:
    report = json.loads(
        installed.ask(
            "import json, sys, ypsi_audit, ypsi_audit.loading as loading; "
            "from ypsi_audit import resources as r; "
            "print(json.dumps({'package': ypsi_audit.__file__, 'loading': loading.__file__, "
            "'folders': [str(r.policy_dir()), str(r.shared_dir()), str(r.expectations_dir()), "
            "str(r.notebook_dir()), str(r.sample_log())], "
            "'finders': [m for m in sys.modules if 'editable' in m]}))"
        )
    )
    for path in [report["package"], report["loading"], *report["folders"]]:
        assert _inside(path, installed.env), path
        assert not _inside(path, ROOT), path
    assert report["finders"] == []  # the editable install's finder was never loaded


def test_the_wheel_holds_every_file_of_the_package(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        held = {n for n in wheel.namelist() if n.startswith("ypsi_audit/")}
    expected = {
        f"ypsi_audit/{p.relative_to(ROOT / 'ypsi_audit').as_posix()}"
        for p in (ROOT / "ypsi_audit").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    for folder, (package, pattern) in SHIPPED_FOLDERS.items():
        for p in [*(ROOT / folder).glob(pattern), ROOT / folder / "__init__.py"]:
            expected.add(f"{package}/{p.name}")
    assert expected - held == set(), "missing from the wheel"
    assert held - expected == set(), "in the wheel but not in the sources"
    assert "ypsi_audit/policies/shared/common.yaml" in held


def test_validate_and_assess_run_from_the_installed_package(installed: Installed) -> None:
    checked = installed.run("validate", "log.csv")
    assert checked.returncode == 0, checked.stderr
    assert "598 rows read, 598 valid, 0 would be held back" in checked.stdout

    shipped = installed.run("policies")
    assert shipped.returncode == 0, shipped.stderr
    assert "cheshire-quick-guide@" in shipped.stdout
    assert "ukcis-2024@" in shipped.stdout

    for policy in ("cheshire-quick-guide", "ukcis-2024"):  # both use shared definitions
        done = installed.run("assess", "log.csv", "--policy", policy, "--out", f"{policy}.csv")
        assert done.returncode == 0, done.stderr
        assert f"Assessed 598 incidents against {policy}@" in done.stdout
        table = pd.read_csv(installed.work / f"{policy}.csv")
        assert len(table) == 598
        assert set(table["guidance_outcome"]) <= {
            "refer_police",
            "handle_in_setting",
            "insufficient_information",
        }
        assert (installed.work / f"{policy}.manifest.json").is_file()


def test_report_runs_from_the_installed_package(installed: Installed) -> None:
    done = installed.run("report", "log.csv", "--out", "report")
    assert done.returncode == 0, done.stderr
    out = installed.work / "report"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pages"] == list(PAGES)
    for page in PAGES:
        html = (out / f"{page}.html").read_text(encoding="utf-8")
        assert "<table" in html and 'src="data:image/svg+xml;base64,' in html, page
    tables = sorted(p.name for p in (out / "tables").glob("*.csv"))
    assert "decisions_by_setting.csv" in tables
    assert len(tables) >= 10
    assert (out / "follow_up" / "cases_for_review_trust_lead.csv").is_file()


def test_impact_runs_from_the_installed_package(installed: Installed) -> None:
    done = installed.run(
        "impact",
        "log.csv",
        "--from",
        "cheshire-quick-guide",
        "--to",
        "ukcis-2024",
        "--sweep",
        "wide_age_gap_years=2..4",
        "--out",
        "impact",
    )
    assert done.returncode == 0, done.stderr
    out = installed.work / "impact"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pages"] == ["impact"]
    assert manifest["rows"]["read"] == 598
    html = (out / "impact.html").read_text(encoding="utf-8")
    assert "<table" in html and 'src="data:image/svg+xml;base64,' in html
    assert list((out / "tables").glob("*.csv"))
    flipped = pd.read_csv(out / "follow_up" / "flipped_incidents.csv")
    assert len(flipped) > 0
