"""Every shipped file is found through `resources`, and nothing else works out such a path.

These run against the editable install, where the top-level folders are mapped into the
package; `test_wheel.py` checks the same answers from an installed wheel.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ypsi_audit import resources
from ypsi_audit.errors import YpsiError
from ypsi_audit.reports.pages import IMPACT_PAGES, REGISTRY

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ypsi_audit"


def test_each_folder_holds_what_the_package_reads() -> None:
    assert {p.stem for p in resources.policy_dir().glob("*.yaml")} >= {
        "cheshire-quick-guide",
        "ukcis-2024",
    }
    assert (resources.shared_dir() / "common.yaml").is_file()
    assert {p.stem for p in resources.expectations_dir().glob("*.json")} == {
        "cross_field",
        "personal_data",
        "table",
        "values",
    }
    assert resources.expectation_suite("values").name == "values.json"
    notebooks = {p.stem for p in resources.notebook_dir().glob("*.ipynb")}
    assert notebooks >= {*REGISTRY, *IMPACT_PAGES}
    assert resources.sample_log().read_text(encoding="utf-8").startswith("incident_id,")


def test_a_checkout_reads_its_own_top_level_folders() -> None:
    """Editing a notebook, a suite or the sample in the repository needs no reinstall."""
    assert resources.notebook_dir() == ROOT / "notebooks"
    assert resources.expectations_dir() == ROOT / "expectations"
    assert resources.sample_log() == ROOT / "data" / "samples" / "sample_trust_log.csv"
    assert resources.policy_dir() == PACKAGE / "policies"
    assert resources.shared_dir() == PACKAGE / "policies" / "shared"


def test_a_missing_shipped_file_says_the_installation_is_incomplete() -> None:
    with pytest.raises(YpsiError, match="not installed whole: the expectation suite nope"):
        resources.expectation_suite("nope")
    with pytest.raises(YpsiError, match=r"not installed whole: the package ypsi_audit\.gone"):
        resources._folder("ypsi_audit.gone")
    with pytest.raises(YpsiError, match=r"not installed whole: the folder of ypsi_audit\.gone"):
        resources._folder("ypsi_audit", "gone")


def test_no_other_module_works_out_a_path_to_a_package_file() -> None:
    """`__file__` is how a path to a shipped file gets computed; only resources may."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "resources.py" and path.parent == PACKAGE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.Name) and n.id == "__file__" for n in ast.walk(tree)):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], "call ypsi_audit.resources instead"
