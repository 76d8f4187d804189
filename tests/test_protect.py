"""The trust's cell-key secret for publication runs (ypsi_audit/reports/protect.py)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ypsi_audit import resources
from ypsi_audit.reports.protect import SecretError, read_draw, secret_path
from ypsi_audit.reports.runner import run
from ypsi_audit.reports.spec import RunSpec


def _spec(out: Path, secret: Path) -> RunSpec:
    return RunSpec.build(
        "report",
        input=str(resources.sample_log()),
        out=str(out),
        audience="publication",
        secret=str(secret),
    )


def test_the_secret_is_made_owner_only_and_never_named_in_the_set(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    secret = folder / "cell-key.secret"
    out = tmp_path / "pack"
    run(_spec(out, secret), progress=lambda _: None)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert len(secret.read_bytes()) >= 16
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert str(secret) not in manifest and "cell-key.secret" not in manifest
    assert "Disclosure check" in (out / "index.html").read_text(encoding="utf-8")
    assert json.loads(manifest)["audience"] == "publication"
    for page in out.glob("*.html"):  # a browser tab or a bookmark says which version it is
        head = page.read_text(encoding="utf-8").split("</title>")[0]
        assert head.endswith("(publication)"), page.name
    assert not secret.with_name("cell-key.secret.draw").exists()  # the keys never move
    remembered = secret.with_name("cell-key.secret.published")  # what the pack showed
    assert stat.S_IMODE(remembered.stat().st_mode) == 0o600
    assert len(remembered.read_text("ascii").splitlines()) > 100


def test_a_damaged_memory_of_earlier_packs_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "config" / "cell-key.secret"
    secret.parent.mkdir(mode=0o700)
    secret.write_bytes(b"z" * 32)
    secret.chmod(0o600)
    secret.with_name("cell-key.secret.published").write_text("shown nonsense\n", "ascii")
    with pytest.raises(SecretError, match="restore it from the backup"):
        run(_spec(tmp_path / "pack", secret), progress=lambda _: None)
    assert not (tmp_path / "pack").exists()


def test_a_draw_an_earlier_version_kept_is_used_for_ever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before 2026-12-03 a run could move to a fresh draw and kept its number beside the
    secret; cells must keep the noise they were published with, so that draw is used and
    the file is left as it is."""
    from ypsi_audit.protection import adapter

    secret = tmp_path / "config" / "cell-key.secret"
    secret.parent.mkdir(mode=0o700)
    secret.write_bytes(b"y" * 32)
    secret.chmod(0o600)
    kept = secret.with_name("cell-key.secret.draw")
    kept.write_text("3\n", encoding="ascii")
    used = []
    real = adapter.protector

    def spying(keys, **options):
        used.append(options["draw"])
        return real(keys, **options)

    monkeypatch.setattr(adapter, "protector", spying)
    run(_spec(tmp_path / "pack", secret), progress=lambda _: None)
    assert used == [3] and read_draw(secret) == 3
    assert kept.read_text(encoding="ascii") == "3\n"


def test_a_secret_others_can_read_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "cell-key.secret"
    secret.write_bytes(b"x" * 32)
    secret.chmod(0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        run(_spec(tmp_path / "pack", secret), progress=lambda _: None)
    assert not (tmp_path / "pack").exists()


def test_a_secret_inside_the_report_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "pack"
    with pytest.raises(SecretError, match="inside the report folder"):
        run(_spec(out, out / "cell-key.secret"), progress=lambda _: None)


def test_the_secret_path_follows_option_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YPSI_AUDIT_SECRET", str(tmp_path / "env.secret"))
    given = RunSpec.build("report", input="log.csv", out="o", secret=str(tmp_path / "opt"))
    assert secret_path(given) == tmp_path / "opt"
    plain = RunSpec.build("report", input="log.csv", out="o")
    assert secret_path(plain) == tmp_path / "env.secret"
    monkeypatch.delenv("YPSI_AUDIT_SECRET")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert secret_path(plain) == tmp_path / "xdg" / "ypsi-audit" / "cell-key.secret"
