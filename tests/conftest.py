"""Fixtures shared by the report tests: a full report set on the shipped sample, made once
per test session (a run takes tens of seconds, so tests share it rather than repeat it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ypsi_audit import resources

TEST_SECRET = b"the ypsi-audit test suite's fixed cell-key secret"


@pytest.fixture(scope="session", autouse=True)
def _cell_key_secret(tmp_path_factory: pytest.TempPathFactory):
    """Publication runs in tests use a secret in an owner-only temporary folder, never the
    tester's own configuration folder. It is the same secret in every session, so a test
    run gives the same packs every time (a new random secret each session would draw
    other noise, and a pack that needed more draws than allowed would fail at random)."""
    folder = tmp_path_factory.mktemp("secret")
    folder.chmod(0o700)
    secret = folder / "cell-key.secret"
    secret.write_bytes(TEST_SECRET)
    secret.chmod(0o600)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("YPSI_AUDIT_SECRET", str(folder / "cell-key.secret"))
        yield


@pytest.fixture(autouse=True)
def _forget_earlier_packs():
    """Once a pack has passed its audit under a secret, its draw of keys is kept beside
    it and never moves, and the pack is kept in the register of publications that later
    packs are audited with (`reports/protect.py`). Each test starts as the trust's first
    publication, so no test depends on which ran before it (the synthetic logs share
    incident ids, and a draw kept for one log can pin a count of another)."""
    import os
    import shutil

    secret = os.environ.get("YPSI_AUDIT_SECRET")

    def forget() -> None:
        if secret:
            Path(secret + ".draw").unlink(missing_ok=True)
            shutil.rmtree(secret + ".packs", ignore_errors=True)

    forget()
    yield
    forget()


def _run(out: Path, **options) -> Path:
    from ypsi_audit.reports.runner import run
    from ypsi_audit.reports.spec import RunSpec

    spec = RunSpec.build(
        "report", input=str(resources.sample_log()), out=str(out), title="Sample Trust", **options
    )
    run(spec, progress=lambda _: None)
    return out


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The internal report set on the shipped sample (every page, every table)."""
    return _run(tmp_path_factory.mktemp("sample-report") / "internal")


@pytest.fixture(scope="session")
def publication_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The publication report set on the shipped sample (protected and audited)."""
    return _run(tmp_path_factory.mktemp("sample-report") / "publication", audience="publication")
