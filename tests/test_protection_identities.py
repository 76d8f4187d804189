"""The relations between cells the ledger derives from their incidents: those a reader can
know, and none that only a coincidence of the data would give."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ypsi_audit.protection import Ledger


def frame(n: int = 300, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    guidance = rng.choice(["refer_police", "handle_in_setting"], n)
    referred = rng.random(n) < np.where(guidance == "refer_police", 0.85, 0.1)
    consistency = np.select(
        [(guidance == "refer_police") & referred, guidance == "refer_police", referred],
        ["consistent_referral", "under_escalation", "over_escalation"],
        "consistent_in_setting",
    )
    return pd.DataFrame(
        {
            "setting_id": rng.choice(["S01", "S02", "S03", "S04"], n),
            "academic_year": rng.choice(["2023-24", "2024-25"], n),
            "guidance_outcome": guidance,
            "consistency": consistency,
        }
    )


def relation_holding(ledger: Ledger, lhs, rhs, equal: bool) -> bool:
    """Whether the derived relations hold `lhs - sum(rhs)` (== 0 or >= 0) as one row."""
    ids = ledger.identities()
    want = {int(ids.var_of_cell[ledger.cell_id(lhs)]): 1.0}
    for cell in rhs:
        var = int(ids.var_of_cell[ledger.cell_id(cell)])
        want[var] = want.get(var, 0.0) - 1.0
    want = {v: c for v, c in want.items() if c}
    matrix = ids.matrix.tocsr()
    for row in range(matrix.shape[0]):
        got = dict(zip(matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]].tolist(),
                       matrix.data[matrix.indptr[row] : matrix.indptr[row + 1]].tolist(),
                       strict=True))  # fmt: skip
        if got == want and bool(ids.equal[row]) == equal:
            return True
    return False


def test_every_relation_holds_on_the_true_counts() -> None:
    ledger = Ledger(frame())
    ledger.counts("by_setting", ["setting_id", "consistency"])
    ledger.counts("by_year", ["setting_id", "academic_year"])
    ledger.counts("guidance", ["guidance_outcome"])
    ids = ledger.identities()
    values = ids.matrix @ ids.truth
    assert np.all(values[ids.equal] == 0) and np.all(values[~ids.equal] >= 0)
    assert ids.n_relations > 0


def test_the_same_totals_in_two_tables_are_one_variable() -> None:
    ledger = Ledger(frame())
    ledger.counts("by_setting", ["setting_id", "consistency"])
    ledger.counts("by_year", ["setting_id", "academic_year"])
    ids = ledger.identities()
    for setting in ("S01", "S02", "S03", "S04"):
        a = ledger.cell_id(ledger.cell("by_setting", setting_id=setting))
        b = ledger.cell_id(ledger.cell("by_year", setting_id=setting))
        assert ids.var_of_cell[a] == ids.var_of_cell[b]


def test_a_table_total_is_the_sum_of_its_cells() -> None:
    ledger = Ledger(frame())
    ledger.counts("by_setting", ["setting_id", "consistency"])
    codes = ledger.values("by_setting", "consistency")
    for setting in ("S01", "S04"):
        parts = [ledger.cell("by_setting", setting_id=setting, consistency=c) for c in codes]
        assert relation_holding(ledger, ledger.cell("by_setting", setting_id=setting), parts, True)


def test_this_year_lies_within_all_years() -> None:
    data = frame()
    ledger = Ledger(data)
    ledger.counts("all", ["setting_id", "consistency"])
    ledger.counts(
        "this", ["setting_id", "consistency"], (data["academic_year"] == "2024-25").to_numpy()
    )
    whole = ledger.cell("all", setting_id="S02", consistency="under_escalation")
    part = ledger.cell("this", setting_id="S02", consistency="under_escalation")
    assert relation_holding(ledger, whole, [part], False)


def test_a_dimension_fixed_by_another_over_the_whole_frame_links_the_tables() -> None:
    """The consistency code fixes the guidance outcome for every incident: the incidents
    the guidance sends to the police are the consistent referrals plus the under-escalations."""
    ledger = Ledger(frame())
    ledger.counts("by_setting", ["setting_id", "consistency"])
    ledger.counts("guidance", ["guidance_outcome"])
    refer = ledger.cell("guidance", guidance_outcome="refer_police")
    parts = [
        ledger.cell("by_setting", setting_id=s, consistency=c)
        for s in ("S01", "S02", "S03", "S04")
        for c in ("consistent_referral", "under_escalation")
    ]
    assert relation_holding(ledger, refer, parts, True)


def test_a_few_incidents_counted_in_two_tables_by_definition_are_one_variable() -> None:
    """Two incidents of a rare group, both referred: the group's referred cell in one table
    and the group's total in a table of referrals by setting are the same incidents by
    definition, so a reader can link the tables through them (the fourth outside attack
    did)."""
    data = frame(40, seed=9)
    data["group"] = "common"
    data["decision"] = np.where(np.arange(40) % 3 == 0, "referred", "handled")
    data.loc[[0, 3], "group"] = "rare"  # both referred (0 and 3 are multiples of 3)
    ledger = Ledger(data)
    ledger.counts("by_group", ["group", "decision"])
    ledger.counts("referred_by_setting", ["setting_id", "group"],
                  (data["decision"] == "referred").to_numpy())  # fmt: skip
    ids = ledger.identities()
    cell = ledger.cell("by_group", group="rare", decision="referred")
    total = ledger.cell("referred_by_setting", group="rare")
    assert ids.var_of_cell[ledger.cell_id(cell)] == ids.var_of_cell[ledger.cell_id(total)]
    assert ids.truth[ids.var_of_cell[ledger.cell_id(cell)]] == 2


def test_a_coincidence_of_one_incident_is_credited_too_and_empty_cells_stay_apart() -> None:
    """One incident that happens to be the only one in two unrelated cells: no reader can
    know it, but crediting the reader with it only makes the audit stricter. Empty cells
    of different tables are not one variable."""
    data = frame(40, seed=9)
    data["group"] = "common"
    data.loc[0, "group"] = "rare"  # the only 'rare' incident ...
    data.loc[0, "setting_id"] = "S09"  # ... is also the only one in S09
    ledger = Ledger(data)
    ledger.counts("groups", ["group"], values={"group": ["common", "rare", "none"]})
    ledger.counts("settings", ["setting_id"],
                  values={"setting_id": ["S01", "S02", "S03", "S04", "S09", "S10"]})  # fmt: skip
    ids = ledger.identities()
    var = ids.var_of_cell
    rare = var[ledger.cell_id(ledger.cell("groups", group="rare"))]
    assert rare == var[ledger.cell_id(ledger.cell("settings", setting_id="S09"))]
    none = var[ledger.cell_id(ledger.cell("groups", group="none"))]
    assert none != var[ledger.cell_id(ledger.cell("settings", setting_id="S10"))]


def test_a_ledger_of_no_incidents_has_its_totals_and_no_placements() -> None:
    """A publication for a setting with no incidents (`--settings S11` where S11 has none)
    stopped with an internal error while placing the cells of one table in another by the
    contract (consistency fixes the guidance outcome)."""
    ledger = Ledger(frame().iloc[:0], determines={"consistency": ("guidance_outcome",)})
    ledger.counts("by_consistency", ["consistency"],
                  values={"consistency": ["under_escalation", "consistent_referral"]})  # fmt: skip
    ledger.counts(
        "by_outcome",
        ["guidance_outcome"],
        values={"guidance_outcome": ["refer_police", "handle_in_setting", "x"]},
    )
    ids = ledger.identities()
    assert ids.truth.sum() == 0 and ids.n_relations > 0
    total = ledger.cell("by_consistency")
    parts = [ledger.cell("by_consistency", consistency=c)
             for c in ("under_escalation", "consistent_referral")]  # fmt: skip
    assert relation_holding(ledger, total, parts, equal=True)


def test_two_years_that_never_meet_add_up_inside_all_years() -> None:
    """Each year's table lies inside the all-years table; because the years never meet,
    a cell over all years is also the sum of both years' cells (equal here, as every
    incident has a year), which neither year's relation gives alone."""
    data = frame()
    ledger = Ledger(data)
    ledger.counts("all", ["setting_id", "consistency"])
    for year in ("2023-24", "2024-25"):
        ledger.counts(year, ["consistency"], (data["academic_year"] == year).to_numpy())
    whole = ledger.cell("all", consistency="under_escalation")
    parts = [ledger.cell(y, consistency="under_escalation") for y in ("2023-24", "2024-25")]
    assert relation_holding(ledger, whole, parts, True)
    assert not relation_holding(ledger, whole, parts[:1], True)  # one year is not all
