"""The register of a trust's publications (protection/register.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest

from tests.test_protection_joint import incidents, split_pack, totals_pack
from ypsi_audit.protection.joint import joint_audit
from ypsi_audit.protection.register import Register, RegisterError


def test_a_record_comes_back_as_it_was_kept(tmp_path: Path) -> None:
    data = incidents()
    data["year"] = "2025/26"
    data.loc[3, "year"] = "\x00outside"  # the label of an incident a pack leaves out
    record = split_pack(data, written="2026-12-01T09:00:00")
    register = Register(tmp_path / "secret.packs")
    register.add(record)
    (back,) = register.records()
    assert np.array_equal(back.keys, record.keys) and back.keys.dtype == np.uint64
    for column, labels in record.columns.items():
        assert list(back.columns[column]) == list(labels)
    assert back.forms == record.forms
    assert [(t.name, t.by, t.values, t.margins) for t in back.tables] == [
        (t.name, t.by, t.values, t.margins) for t in record.tables
    ]
    assert all(
        np.array_equal(a.mask, b.mask) for a, b in zip(back.tables, record.tables, strict=True)
    )
    assert np.array_equal(back.document["ptable"], record.document["ptable"])
    assert back.meta["written"] == "2026-12-01T09:00:00"
    assert list(back.ledger().true_counts) == list(record.ledger().true_counts)


def test_the_same_pack_is_kept_once_and_files_are_the_owners(tmp_path: Path) -> None:
    register = Register(tmp_path / "secret.packs")
    first = register.add(totals_pack(incidents()))
    again = register.add(totals_pack(incidents()))
    assert first == again and len(register) == 1
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert stat.S_IMODE(register.folder.stat().st_mode) == 0o700


def test_kept_records_are_audited_together(tmp_path: Path) -> None:
    data = incidents()
    register = Register(tmp_path / "secret.packs")
    register.add(totals_pack(data, written="2026-12-01T09:00:00"))
    earlier = register.records()
    assert not joint_audit([*earlier, split_pack(data)]).passed


def test_a_damaged_record_is_named_and_stops_the_run(tmp_path: Path) -> None:
    register = Register(tmp_path / "secret.packs")
    kept = register.add(totals_pack(incidents()))
    kept.write_bytes(kept.read_bytes()[:100])
    with pytest.raises(RegisterError, match=r"cannot be read .*restore it"):
        register.records()
