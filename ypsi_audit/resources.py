"""Where every file the package ships lives: policies, expectation suites, notebooks, sample.

Found through `importlib.resources`, so the answers hold in an installed wheel and in a
checkout installed with `pip install -e .` alike. In the repository the notebooks, the
suites and the sample log stay at the top (`notebooks/`, `expectations/`,
`data/samples/`); setup.py ships them as the subpackages `ypsi_audit.notebooks`,
`ypsi_audit.expectations` and `ypsi_audit.samples`, and an editable install maps those
names back to the top-level folders. No other module works out a path to a package file
(with `__file__` or `..`): it calls one of these.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from .errors import YpsiError

PACKAGE = "ypsi_audit"
SAMPLE_LOG = "sample_trust_log.csv"


def _missing(what: str, where: str) -> YpsiError:
    """The installation, not the input, is at fault: say so and how to mend it."""
    return YpsiError(
        f"ypsi-audit is not installed whole: {what} cannot be found ({where}); "
        "reinstall the package (in a clone of the repository, run make setup)."
    )


@cache
def _folder(package: str, *parts: str) -> Path:
    """A shipped folder as a real directory (papermill and GX need paths, not streams)."""
    what = ".".join((package, *parts))
    try:
        root = files(package).joinpath(*parts)
    except ModuleNotFoundError:
        raise _missing(f"the package {what}", "it is not installed") from None
    if not isinstance(root, Path) or not root.is_dir():
        raise _missing(f"the folder of {what}", str(root))
    return root


def policy_dir() -> Path:
    """The shipped policy files, one `<id>.yaml` each."""
    return _folder(PACKAGE, "policies")


def shared_dir() -> Path:
    """The shared definitions a policy names in `uses:` (`<name>.yaml`)."""
    return _folder(PACKAGE, "policies", "shared")


def expectations_dir() -> Path:
    """The Great Expectations suites of the validation gate (`<suite>.json`)."""
    return _folder(f"{PACKAGE}.expectations")


def expectation_suite(name: str) -> Path:
    """One suite file by name, e.g. `personal_data`."""
    path = expectations_dir() / f"{name}.json"
    if not path.is_file():
        raise _missing(f"the expectation suite {name}", str(path))
    return path


def notebook_dir() -> Path:
    """The report notebooks (`<report>.ipynb`)."""
    return _folder(f"{PACKAGE}.notebooks")


def sample_log() -> Path:
    """The shipped synthetic incident log, which the notebooks read when opened by hand."""
    path = _folder(f"{PACKAGE}.samples") / SAMPLE_LOG
    if not path.is_file():
        raise _missing("the sample log", str(path))
    return path
