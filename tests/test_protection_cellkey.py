"""Cell-key perturbation: the ptable, record and cell keys, and the method as ONS documents it."""

from __future__ import annotations

import os
import stat

import numpy as np
import pandas as pd
import pytest

from ypsi_audit.protection import CellKey, Exact, Ledger, load_secret, record_keys
from ypsi_audit.protection.cellkey import (
    KEY_RANGE,
    cell_keys,
    default_ptable,
    mix,
    pcv,
    ptable_frame,
)

SECRET = b"a test secret of enough length"


def test_the_ptable_never_shows_a_count_from_1_to_4() -> None:
    table = default_ptable()
    counts = np.arange(1, table.shape[0])[:, None]
    shown = counts + table[1:]
    assert not np.any((shown >= 1) & (shown <= 4))
    assert np.all(table[0] == 0)


def test_small_counts_become_0_or_5_in_proportion() -> None:
    """A count c from 1 to 4 shows as 5 for about c/5 of the keys: totals stay right on
    average."""
    table = default_ptable()
    for count in range(1, 5):
        shown = count + table[count]
        assert set(shown.tolist()) == {0, 5}
        assert abs(np.mean(shown == 5) - count / 5) < 1 / KEY_RANGE


def test_larger_counts_usually_move_by_two_at_most_rarely_by_four_never_below_5() -> None:
    """Moves of 3 and 4 must be possible (a reader bounding a count between a total and
    the rest of it cannot rule them out) but rare, so counts stay close."""
    table = default_ptable()
    counts = np.arange(5, table.shape[0])[:, None]
    assert np.abs(table[5:]).max() == 4
    assert np.all(counts + table[5:] >= 5)
    for count in (9, 10, 100, 750):
        moves = np.bincount(table[count] + 4, minlength=9)
        assert moves.tolist() == [1, 2, 23, 51, 102, 51, 23, 2, 1]
    assert abs(table[9:].mean()) < 0.01
    assert np.mean(np.abs(table[9:]) > 2) == pytest.approx(6 / KEY_RANGE)


def test_a_move_below_5_is_no_move() -> None:
    table = default_ptable()
    assert np.bincount(table[5] + 4, minlength=9).tolist() == [0, 0, 0, 0, 179, 51, 23, 2, 1]
    assert np.bincount(table[7] + 4, minlength=9).tolist() == [0, 0, 23, 51, 105, 51, 23, 2, 1]


def test_counts_above_750_reuse_rows_501_to_750_as_ons_does() -> None:
    counts = np.array([1, 750, 751, 1000, 1001])
    assert pcv(counts).tolist() == [1, 750, 501, 750, 501]


def test_record_keys_are_stable_secret_and_redrawn_on_request() -> None:
    ids = [f"INC-{i:05d}" for i in range(2000)]
    keys = record_keys(ids, SECRET)
    assert keys.dtype == np.uint64 and len(set(keys.tolist())) == len(set(ids))
    assert np.array_equal(keys, record_keys(ids, SECRET))
    assert np.mean(keys == record_keys(ids, b"another secret of enough length")) < 0.05
    assert np.mean(keys == record_keys(ids, SECRET, draw=1)) < 0.05
    with pytest.raises(ValueError, match="16 bytes"):
        record_keys(ids, b"short")


def test_the_secret_is_made_once_owner_only(tmp_path) -> None:
    path = tmp_path / "keys" / "cell-key.secret"
    first = load_secret(path)
    assert len(first) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_secret(path) == first


def frame(n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "incident_id": [f"INC-{i}" for i in range(n)],
            "setting_id": rng.choice([f"S{i:02d}" for i in range(1, 9)], n),
            "consistency": rng.choice(["consistent_referral", "under_escalation"], n, p=[0.9, 0.1]),
            "academic_year": rng.choice(["2023-24", "2024-25"], n),
        }
    )


def test_perturbation_is_the_documented_table_lookup() -> None:
    """The steps written out with pandas (group, sum the record keys mod 2**64 and mix
    them into a key of 0-255, look the count and key up in the ptable) give the same
    numbers as the ledger's one pass."""
    data = frame()
    keys = record_keys(data["incident_id"], SECRET)
    ledger = Ledger(data)
    ledger.counts("split", ["setting_id", "consistency"])
    pack = ledger.publish(CellKey(keys))
    grouped = (
        data.assign(record_key=keys)
        .groupby(["setting_id", "consistency"])
        .agg(
            pre_sdc_count=("record_key", "size"),
            ckey=("record_key", lambda k: sum(int(v) for v in k) % 2**64),
        )
        .reset_index()
    )
    grouped["ckey"] = mix(np.array(grouped["ckey"].tolist(), dtype=np.uint64))
    grouped["pcv"] = grouped["pre_sdc_count"]
    looked_up = grouped.merge(ptable_frame(), on=["pcv", "ckey"], how="left")
    for row in looked_up.itertuples():
        published = pack.count("split", setting_id=row.setting_id, consistency=row.consistency)
        assert published.value == row.pre_sdc_count + row.pvalue
        assert published.status == "perturbed"


def test_the_same_incidents_show_the_same_number_in_every_table() -> None:
    data = frame()
    ledger = Ledger(data)
    ledger.counts("by_consistency", ["setting_id", "consistency"])
    ledger.counts("by_year", ["setting_id", "academic_year"])
    pack = ledger.publish(CellKey(record_keys(data["incident_id"], SECRET)))
    for setting in ledger.values("by_year", "setting_id"):
        a = pack.count("by_consistency", setting_id=setting)
        b = pack.count("by_year", setting_id=setting)
        assert a.value == b.value


def test_noise_stays_within_the_ptable_and_empty_cells_stay_empty() -> None:
    data = frame()
    ledger = Ledger(data)
    ledger.counts("split", ["setting_id", "consistency"], values={
        "consistency": ["consistent_referral", "under_escalation", "no_decision"]})  # fmt: skip
    truth = ledger.publish(Exact()).table("split")["n"].to_numpy(dtype=float)
    shown = ledger.publish(CellKey(record_keys(data["incident_id"], SECRET))).table("split")
    shown = shown["n"].to_numpy(dtype=float)
    small = (truth >= 1) & (truth <= 4)
    assert np.all(np.isin(shown[small], [0, 5]))
    assert np.all(np.abs(shown - truth)[truth >= 5] <= 4)
    assert np.all(shown[truth >= 5] >= 5)
    assert np.all(shown[truth == 0] == 0)


def test_a_totals_key_says_nothing_of_its_parts_keys() -> None:
    """ONS's keys add up (a total's key is its parts' keys summed mod 256), which let an
    outside attack solve keys and counts of linked tables together. Here the same
    incidents always get the same key, but a total's key is not its parts' keys added."""
    keys = record_keys([f"INC-{i}" for i in range(4000)], SECRET)
    rng = np.random.default_rng(5)
    parts = rng.integers(0, 2, size=4000)  # each incident in part 0 or 1
    index = parts.astype(np.int64)
    split = cell_keys(index, 2, keys)
    whole = cell_keys(np.zeros(4000, dtype=np.int64), 1, keys)
    assert np.array_equal(split, cell_keys(index, 2, keys))  # the same incidents, same key
    again = cell_keys(np.zeros(4000, dtype=np.int64), 1, keys[::-1].copy())
    assert np.array_equal(whole, again)  # whatever their order
    hits = 0
    for _ in range(400):
        groups = rng.integers(0, 3, size=200)
        small = cell_keys(groups.astype(np.int64), 3, keys[:200])
        total = cell_keys(np.zeros(200, dtype=np.int64), 1, keys[:200])[0]
        hits += int(total == (small.sum() % KEY_RANGE))
    assert hits < 10  # about 1 in 256 by chance; ONS's keys would match all 400


def test_true_range_is_exactly_the_counts_the_ptable_shows_that_way() -> None:
    """Every (count, key) of the ptable up to 60: the count lies in the range of what it is
    shown as, and each range's ends are counts that some key shows that way."""
    from ypsi_audit.protection.cellkey import default_ptable, true_range

    table = default_ptable()
    seen: dict[int, set[int]] = {}
    for count in range(0, 61):
        for shown in set((count + table[count]).tolist()):
            seen.setdefault(shown, set()).add(count)
    for shown, counts in seen.items():
        if shown > 56:  # counts above 60 could show this too
            continue
        assert true_range(shown) == (min(counts), max(counts)), shown
