"""Auditing a publication together with the trust's earlier ones (protection/joint.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ypsi_audit.protection import CellKey, Form, Ledger, audit
from ypsi_audit.protection.joint import PackRecord, joint_audit, joint_ledger, record_of
from ypsi_audit.protection.pack import PublishedView

SETTINGS = ("S1", "S2", "S3", "S4")
DOCUMENT = CellKey(np.zeros(1, dtype=np.uint64)).document()


def incidents() -> pd.DataFrame:
    """Four settings, each with 1 referral and 20 incidents handled in school."""
    rows = [(s, "referred") for s in SETTINGS] + [
        (s, "handled") for s in SETTINGS for _ in range(20)
    ]
    return pd.DataFrame(rows, columns=["setting_id", "decision"])


def pack(
    data: pd.DataFrame, declare, shown, keys: np.ndarray | None = None, written: str = ""
) -> PackRecord:
    """The record of a pack of `data` with the tables `declare(ledger)` makes, every cell
    shown as `shown(ledger, cell)` gives (None: its true count)."""
    ledger = Ledger(data)
    declare(ledger)
    forms = []
    for cell, true in zip(ledger.cell_list, ledger.true_counts, strict=True):
        value = shown(ledger, cell)
        forms.append(Form("perturbed", int(true if value is None else value)))
    keys = np.arange(1, len(data) + 1, dtype=np.uint64) if keys is None else keys
    return record_of(ledger, keys, forms, DOCUMENT, {"written": written})


def totals_pack(data: pd.DataFrame, **options) -> PackRecord:
    """Incidents by setting; each setting's 21 shown as 22."""
    return pack(
        data,
        lambda ledger: ledger.counts("by setting", ["setting_id"]),
        lambda ledger, cell: 22 if cell.get("setting_id") in SETTINGS else None,
        **options,
    )


def split_pack(data: pd.DataFrame, **options) -> PackRecord:
    """Setting by decision (no totals), handled shown as 20 and referrals as 0, and
    referrals by setting with their total, every one shown as 0."""

    def declare(ledger: Ledger) -> None:
        ledger.counts("split", ["setting_id", "decision"], margins=False,
                      values={"decision": ["referred", "handled"]})  # fmt: skip
        referred = (data["decision"] == "referred").to_numpy()
        ledger.counts("referrals", ["setting_id"], referred)

    def shown(ledger: Ledger, cell) -> int | None:
        if cell.table == "referrals" or cell.get("decision") == "referred":
            return 0
        return 20 if cell.get("decision") == "handled" else None

    return pack(data, declare, shown, **options)


def test_two_packs_that_pass_alone_can_give_a_count_away_together() -> None:
    """Alone, the totals pack has no small count and the split pack leaves each referral
    0 to 4. Together, each setting's total is its handled plus its referral, and shown 22
    against handled 20 it holds more than those 20 (the same incidents would show the same
    number): each referral is at least 1, and four of them fit in a total shown 0 (4 or
    fewer), so each is exactly 1."""
    data = incidents()
    totals, split = totals_pack(data), split_pack(data)
    for alone in (totals, split):
        ledger = alone.ledger()
        view = PublishedView(list(ledger.cell_list), alone.forms, {}, {}, {}, dict(DOCUMENT))
        assert audit(view, ledger.identities(), ledger.true_counts).passed
    together = joint_audit([totals, split], stop_at_first=False)
    assert not together.passed
    for s in SETTINGS:
        assert any(
            f"(setting_id {s}, decision referred)" in f and "worked out exactly" in f
            for f in together.failures
        ), together.failures


def test_a_joint_refusal_stops_at_the_first_count_found() -> None:
    """Four referrals and their total can be worked out; the refusal names one, spends
    fewer solves than the whole search, and says it did not look further."""
    data = incidents()
    first = joint_audit([totals_pack(data), split_pack(data)])
    whole = joint_audit([totals_pack(data), split_pack(data)], stop_at_first=False)
    assert not first.passed and not first.complete
    assert len(first.failures) == 1 and "worked out exactly" in first.failures[0]
    assert first.failures[0] in whole.failures and len(whole.failures) > len(SETTINGS) - 1
    assert whole.complete and first.solves < whole.solves


def test_either_order_is_caught_and_earlier_packs_are_named() -> None:
    data = incidents()
    together = joint_audit([split_pack(data, written="2026-11-30T10:00:00"), totals_pack(data)])
    assert not together.passed
    assert any("in the pack published earlier (2026-11-30)" in f for f in together.failures)


def test_packs_of_different_incidents_are_not_linked() -> None:
    """The same tables over other incidents (other record keys) say nothing about these."""
    data = incidents()
    others = np.arange(1000, 1000 + len(data), dtype=np.uint64)
    assert joint_audit([totals_pack(data, keys=others), split_pack(data)]).passed


def test_a_later_log_that_relabels_an_incident_keeps_each_packs_labels() -> None:
    """An incident moved from S1 to S2 between two logs: each pack is counted with its
    own labels, so the joint ledger's true counts are each pack's true counts."""
    data = incidents()
    later = data.copy()
    later.loc[0, "setting_id"] = "S2"
    first, second = totals_pack(data), totals_pack(later)
    ledger, forms, pack_of_cell = joint_ledger([first, second])
    assert "setting_id#2" in ledger.frame.columns
    truth = ledger.true_counts
    assert list(truth[pack_of_cell == 0]) == list(first.ledger().true_counts)
    assert list(truth[pack_of_cell == 1]) == list(second.ledger().true_counts)
    assert len(forms) == len(truth)


def test_a_pack_and_a_part_of_it_share_variables() -> None:
    """A pack of one setting lies inside the trust's pack: its total is the same incidents
    as the trust's cell for that setting, so both are one variable."""
    data = incidents()
    one = data[data["setting_id"] == "S1"].reset_index(drop=True)
    keys = np.arange(1, len(data) + 1, dtype=np.uint64)
    trust = totals_pack(data, keys=keys)
    setting = totals_pack(one, keys=keys[(data["setting_id"] == "S1").to_numpy()])
    ledger, _, pack_of_cell = joint_ledger([trust, setting])
    identities = ledger.identities()
    cells = ledger.cell_list
    trust_s1 = next(
        i for i, c in enumerate(cells) if pack_of_cell[i] == 0 and c.get("setting_id") == "S1"
    )
    setting_total = next(
        i for i, c in enumerate(cells) if pack_of_cell[i] == 1 and c.get("setting_id") == "Total"
    )
    assert identities.var_of_cell[trust_s1] == identities.var_of_cell[setting_total]


def test_packs_of_two_thresholds_are_read_through_one_cell_key() -> None:
    """The seventh outside attack's point: a trust's packs share its cell keys, so the same
    incidents published at threshold 5 and at threshold 10 were moved by one key read
    from two ptables. S1 has 1 referral and S2 has 5 (6 in all), shown as S1 5, S2 9 and
    all 7 at threshold 5, and as 10, 0 and 0 at threshold 10. Each shown value read alone
    leaves all 5 to 9, S2 5 to 9 and so S1 1 to 4; read through one key, S2's (9, 0) allows
    5 to 8 and the total's (7, 0) only 5 or 6, so S1 is 1 and S2 is 5 exactly."""
    from ypsi_audit.protection.audit import _same_key_range

    five = CellKey(np.zeros(1, dtype=np.uint64)).document()
    ten = CellKey(np.zeros(1, dtype=np.uint64), threshold=10).document()
    assert _same_key_range([(7, five), (0, ten)], 5, 9) == (5.0, 6.0)
    assert _same_key_range([(9, five), (0, ten)], 5, 9) == (5.0, 8.0)
    assert _same_key_range([(5, five), (10, ten)], 1, 9) == (1.0, 9.0)  # no narrower
    data = pd.DataFrame(
        [("S1", "referred")] + [("S2", "referred")] * 5 + [("S1", "handled")] * 20,
        columns=["setting_id", "decision"],
    )
    referred = (data["decision"] == "referred").to_numpy()
    keys = np.arange(1, len(data) + 1, dtype=np.uint64)

    def published(document: dict, shown: dict[str, int]) -> PackRecord:
        ledger = Ledger(data)
        ledger.counts("referrals", ["setting_id"], referred)
        forms = [Form("perturbed", shown[c.get("setting_id")]) for c in ledger.cell_list]
        return record_of(ledger, keys, forms, document, {"written": ""})

    low = published(five, {"S1": 5, "S2": 9, "Total": 7})
    high = published(ten, {"S1": 10, "S2": 0, "Total": 0})
    together = joint_audit([low, high], stop_at_first=False)
    assert not together.passed
    assert any("setting_id S1" in f and "worked out exactly" in f for f in together.failures)


def test_a_whole_and_a_part_shown_under_two_thresholds_that_no_key_fits_differ() -> None:
    """The same-set rule across thresholds: a setting's 12 incidents shown as 12 at
    threshold 5, and its 10 referrals shown as 10 at threshold 10, could not come from one
    count under one key, so they are not the same incidents and the 2 others are at least
    1 (each number alone would allow them 0)."""
    data = pd.DataFrame(
        [("S1", "referred")] * 10 + [("S1", "handled")] * 2, columns=["setting_id", "decision"]
    )
    keys = np.arange(1, len(data) + 1, dtype=np.uint64)
    handled = (data["decision"] == "handled").to_numpy()
    five = CellKey(np.zeros(1, dtype=np.uint64)).document()
    ten = CellKey(np.zeros(1, dtype=np.uint64), threshold=10).document()

    def published(document: dict, declare, shown: dict[str, int]) -> PackRecord:
        ledger = Ledger(data)
        declare(ledger)
        forms = [Form("perturbed", shown[c.table]) for c in ledger.cell_list]
        return record_of(ledger, keys, forms, document, {"written": ""})

    def low_declare(ledger: Ledger) -> None:
        ledger.counts("all", ["setting_id"], margins=False)
        ledger.counts("handled", ["setting_id"], handled, margins=False)

    def high_declare(ledger: Ledger) -> None:
        ledger.counts("referred", ["setting_id"], ~handled, margins=False)

    low = published(five, low_declare, {"all": 12, "handled": 0})
    high = published(ten, high_declare, {"referred": 10})
    report = joint_audit([low, high], stop_at_first=False)
    ledger, _, _ = joint_ledger([low, high])
    cell = next(i for i, c in enumerate(ledger.cell_list) if c.table.startswith("handled"))
    var = ledger.identities().var_of_cell[cell]
    assert report.passed and report.ranges[var][0] == 1  # 2 in truth; never 0


def test_one_key_read_through_two_ptables_leaves_no_gaps() -> None:
    """The audit bounds a count shown under several thresholds by the smallest and largest
    count one key could give all its numbers (`_same_key_range`); that is exact only if the
    counts in between are possible too. They are, for every pair of thresholds a trust
    may mix (5 to 12, and 20 and 50 beside 5 and 10), and for 5, 7 and 10 together."""
    from itertools import combinations

    from ypsi_audit.protection.cellkey import default_ptable

    counts = np.arange(0, 160)[:, None]
    groups = [*combinations(range(5, 13), 2), (5, 20), (10, 20), (5, 50), (10, 50), (5, 7, 10)]
    for thresholds in groups:
        shown = [counts + default_ptable(t)[counts[:, 0]] for t in thresholds]
        possible: dict[tuple, set[int]] = {}
        for c in range(1, 160):  # counts from 1: 0 is shown as 0 under every ptable
            for k in range(256):
                possible.setdefault(tuple(int(s[c, k]) for s in shown), set()).add(c)
        for numbers, found in possible.items():
            if max(numbers) < 150:  # near the top of the range, larger counts are not listed
                assert found == set(range(min(found), max(found) + 1)), (thresholds, numbers)


def test_a_whole_and_a_part_under_two_thresholds_are_the_same_only_at_a_count_one_key_allows() -> (
    None
):
    """Either-or for a whole w and a part p shown under different thresholds whose numbers
    one key could give only for counts 5 or 6: they are the same incidents (w = p, 5 or
    6) or w holds at least one more. With w known to be at least 7, the rest q = w - p
    is at least 1, though each range alone would allow 0."""
    import scipy.sparse as sp

    from ypsi_audit.protection.audit import _Solver, _with_links

    # variables w, p, q with q = w - p
    matrix = sp.csr_matrix(np.array([[1.0, -1.0, -1.0]]))
    for w_low, expected in ((0.0, 0.0), (7.0, 1.0)):
        lower, upper = np.array([w_low, 0.0, 0.0]), np.array([10.0, 10.0, 10.0])
        plain = _Solver(matrix, np.zeros(1), np.zeros(1), lower, upper)
        assert plain.bound(2, 1.0)[0] == 0.0  # without the either-or, q can be 0
        linked = _Solver(
            *_with_links(matrix, np.zeros(1), np.zeros(1), lower, upper, [(0, 1, 5, 6)]), 3
        )
        low, witness = linked.bound(2, 1.0)
        assert low == expected and len(witness) == 3  # the switch column is not returned
    # and when they are the same, only a count one key allows: w = p = 7 is not possible
    lower, upper = np.array([7.0, 7.0, 0.0]), np.array([7.0, 7.0, 10.0])
    linked = _Solver(
        *_with_links(matrix, np.zeros(1), np.zeros(1), lower, upper, [(0, 1, 5, 6)]), 3
    )
    assert linked.solve(np.zeros(3)) is None
