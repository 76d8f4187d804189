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
    read = json.loads(manifest)["input"]  # the file's name, not where it sits on the machine
    assert read["path"] == "sample_trust_log.csv" and len(read["sha256"]) == 64
    for page in out.glob("*.html"):  # a browser tab or a bookmark says which version it is
        head = page.read_text(encoding="utf-8").split("</title>")[0]
        assert head.endswith("(publication)"), page.name
    kept = secret.with_name("cell-key.secret.draw")  # published: the draw is kept
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and read_draw(secret) >= 0


def _kept(tmp_path: Path, draw: int | None) -> Path:
    secret = tmp_path / "config" / "cell-key.secret"
    secret.parent.mkdir(mode=0o700, parents=True)
    secret.write_bytes(b"y" * 32)
    secret.chmod(0o600)
    if draw is not None:
        secret.with_name("cell-key.secret.draw").write_text(f"{draw}\n", encoding="ascii")
    return secret


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    from ypsi_audit.protection import adapter

    used: list[tuple[int, int]] = []
    real = adapter.protector

    def spying(keys, **options):
        used.append((options["first_draw"], options["max_draws"]))
        return real(keys, **options)

    monkeypatch.setattr(adapter, "protector", spying)
    return used


def test_keys_are_drawn_again_only_before_the_first_publication(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before anything is published the keys may be drawn afresh until the audit passes;
    once a draw is kept it is the only one (two packs under two draws could be
    averaged), and the file is left as it is."""
    from ypsi_audit.protection.publish import MAX_DRAWS

    used = _spy(monkeypatch)
    secret = _kept(tmp_path, None)
    run(_spec(tmp_path / "first", secret), progress=lambda _: None)
    kept = secret.with_name("cell-key.secret.draw")
    draw = read_draw(secret)
    before = kept.stat().st_mtime_ns
    run(_spec(tmp_path / "second", secret), progress=lambda _: None)
    assert used == [(0, MAX_DRAWS), (draw, 1)]
    assert read_draw(secret) == draw and kept.stat().st_mtime_ns == before


def test_a_later_pack_its_kept_draw_cannot_make_safe_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trust that has published: a pack the audit refuses under the kept draw is not
    written, the draw does not move, and the message says why and what to do."""
    from ypsi_audit.protection import publish
    from ypsi_audit.protection.audit import AuditReport

    def refusing(view, identities, truth, **options):
        failure = f"{view.cells[0].label} can be worked out exactly (planted)."
        return AuditReport(False, [failure], len(view.forms), 1, None, 0.0, 0)

    monkeypatch.setattr(publish, "audit", refusing)
    secret = _kept(tmp_path, 2)
    with pytest.raises(publish.DisclosureError, match="cannot be drawn again") as caught:
        run(_spec(tmp_path / "pack", secret), progress=lambda _: None)
    assert "after 1 draw(s)" in str(caught.value) and caught.value.exit_code == 4
    assert not (tmp_path / "pack").exists() and read_draw(secret) == 2


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


def _part(out: Path, secret: Path, settings: str) -> RunSpec:
    return RunSpec.build("report", input=str(resources.sample_log()), out=str(out),
                         audience="publication", secret=str(secret), settings=settings)  # fmt: skip


def test_each_pack_is_audited_with_the_trusts_earlier_ones(tmp_path: Path) -> None:
    """Every pack that passes is kept in the register beside the secret (once, however
    often the same pack is made); a later pack is audited together with all of them, and
    says so on its pages and in its manifest."""
    from ypsi_audit.protection.register import Register
    from ypsi_audit.reports.protect import register_path

    secret = _kept(tmp_path, None)
    register = Register(register_path(secret))
    said: list[str] = []
    run(_spec(tmp_path / "whole", secret), progress=said.append)
    assert len(register) == 1 and not any("Together with" in line for line in said)
    assert not any("Note:" in line for line in said), said  # a first publication: no note
    run(_spec(tmp_path / "whole-again", secret), progress=said.append)
    assert len(register) == 1  # the same pack: nothing new to check against
    assert not any("Together with" in line for line in said), said
    said.clear()
    run(_part(tmp_path / "s03", secret, "S03"), progress=said.append)
    assert any("Together with the 1 earlier publication:" in line for line in said), said
    assert len(register) == 2
    manifest = json.loads((tmp_path / "s03" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["disclosure"]["earlier_publications_checked_with"] == 1
    page = (tmp_path / "s03" / "index.html").read_text(encoding="utf-8")
    assert "alongside the trust&#x27;s 1 earlier publication;" in page
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in register.files())


def test_a_pack_unsafe_beside_an_earlier_one_is_refused_and_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ypsi_audit.protection import adapter
    from ypsi_audit.protection.audit import AuditReport
    from ypsi_audit.protection.publish import DisclosureError
    from ypsi_audit.protection.register import Register
    from ypsi_audit.reports.protect import register_path

    secret = _kept(tmp_path, None)
    run(_spec(tmp_path / "whole", secret), progress=lambda _: None)

    def refusing(records):
        failure = "referrals (setting_id S03) can be worked out exactly (planted)."
        return AuditReport(False, [failure], 10, 1, None, 0.0, 0)

    monkeypatch.setattr(adapter, "joint_audit", refusing)
    with pytest.raises(DisclosureError, match="together with the trust's 1 earlier") as caught:
        run(_part(tmp_path / "s03", secret, "S03"), progress=lambda _: None)
    assert caught.value.exit_code == 4 and "S03" in str(caught.value)
    assert "a grouping of incidents that no earlier pack counted" in str(caught.value)
    assert "threshold" not in str(caught.value)  # the same threshold: nothing to advise
    assert not (tmp_path / "s03").exists() and len(Register(register_path(secret))) == 1
    spec = RunSpec.build("report", input=str(resources.sample_log()), out=str(tmp_path / "t7"),
                         audience="publication", secret=str(secret), settings="S03",
                         threshold=7)  # fmt: skip
    with pytest.raises(DisclosureError) as caught:
        run(spec, progress=lambda _: None)
    assert "earlier packs used --threshold 5 and this one 7" in str(caught.value)
    assert "keep every pack at one threshold" in str(caught.value)


def test_a_register_without_its_draw_file_keeps_the_draw_it_was_made_with(
    tmp_path: Path,
) -> None:
    """Losing the `.draw` file must not let a run draw keys afresh: the register says the
    trust has published, and with which draw."""
    from ypsi_audit.reports.protect import has_published

    secret = _kept(tmp_path, None)
    run(_spec(tmp_path / "whole", secret), progress=lambda _: None)
    draw = read_draw(secret)
    secret.with_name("cell-key.secret.draw").unlink()
    assert not has_published(secret)
    said: list[str] = []
    run(_part(tmp_path / "s03", secret, "S03"), progress=said.append)
    assert any("Together with the 1 earlier publication:" in line for line in said)
    assert read_draw(secret) == draw


def test_a_trust_that_published_before_the_register_is_told_its_pack_was_not_checked_with_them(
    tmp_path: Path,
) -> None:
    from ypsi_audit.reports.protect import UNREGISTERED, register_path

    secret = _kept(tmp_path, 0)  # a draw kept, no register: published by an older version
    said: list[str] = []
    run(_part(tmp_path / "s03", secret, "S03"), progress=said.append)
    note = UNREGISTERED.format(folder=register_path(secret))
    assert any(line.endswith(note) for line in said), said
    said.clear()
    run(_part(tmp_path / "s04", secret, "S04"), progress=said.append)  # now it holds S03
    assert not any(note in line for line in said)
    assert any("Together with the 1 earlier publication:" in line for line in said)
