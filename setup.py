"""Which packages the wheel holds: the code, and three folders kept at the top of the repository.

The report notebooks, the expectation suites and the sample log live in `notebooks/`,
`expectations/` and `data/samples/` (the README and users refer to them there), yet an
installed tool needs them, so they ship inside the package as `ypsi_audit.notebooks`,
`ypsi_audit.expectations` and `ypsi_audit.samples`. pyproject.toml cannot map folders
and discover subpackages at once, hence this file; which files ship is said in
pyproject.toml, and `ypsi_audit/resources.py` is the only code that finds them.
"""

from setuptools import find_namespace_packages, setup

FOLDERS = {
    "ypsi_audit.notebooks": "notebooks",
    "ypsi_audit.expectations": "expectations",
    "ypsi_audit.samples": "data/samples",
}

setup(
    packages=[
        *find_namespace_packages(include=["ypsi_audit*"], exclude=["*.__pycache__"]),
        *FOLDERS,
    ],
    package_dir=FOLDERS,
)
