"""What earlier packs showed and withheld, kept beside the secret
(ypsi_audit/protection/memory.py): fingerprints of sets of incidents, and packs of the
same incidents that stay consistent with each other."""

from __future__ import annotations

import stat
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ypsi_audit import assess, synth
from ypsi_audit.protection import audit
from ypsi_audit.protection.cellkey import CellKey, record_keys
from ypsi_audit.protection.memory import Memory, incident_prints, set_prints
from ypsi_audit.protection.publish import protect_with
from ypsi_audit.protection.representative import representative

SECRET = b"the memory tests' cell-key secret"


@cache
def trust() -> pd.DataFrame:
    return assess(synth.generate(3, 1, seed=7311), with_states=True)


def test_a_set_has_one_fingerprint_whatever_its_order_or_table() -> None:
    ids = ["INC-1", "INC-2", "INC-3"]
    prints = incident_prints(ids, SECRET)
    again = incident_prints(list(reversed(ids)), SECRET)[::-1]
    assert np.array_equal(prints, again)
    assert len(set(prints.tolist())) == 3
    assert not np.array_equal(prints, incident_prints(ids, b"another trust's secret!!"))
    frame = trust()
    ledger = representative(frame)
    var_of_cell = ledger.identities().var_of_cell
    fingerprints = set_prints(ledger, var_of_cell, incident_prints(frame["incident_id"], SECRET))
    truth = ledger.identities().truth
    assert np.all((fingerprints == 0) == (truth == 0))  # only an empty set prints as 0
    # The whole trust, whichever table counts it, is one fingerprint: the sum of all.
    whole = np.add.reduce(incident_prints(frame["incident_id"], SECRET), dtype=np.uint64)
    assert int(whole) in set(fingerprints.tolist())


def test_the_memory_file_is_owner_only_and_a_damaged_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cell-key.secret.published"
    memory = Memory(path)
    memory.record(shown=np.array([1, 2, 3], dtype=np.uint64), withheld=np.array([2], np.uint64))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Memory(path)
    assert again.withheld == {2} and again.shown == {1, 3}  # withheld wins
    path.write_text("shown 12\n", encoding="ascii")
    with pytest.raises(ValueError, match="line 1"):
        Memory(path)


def test_a_count_withheld_in_the_whole_pack_stays_withheld_in_a_setting_pack(
    tmp_path: Path,
) -> None:
    """The outside attack's case: a count withheld in the trust's pack, shown in one
    setting's pack, pinned by the two together. With the memory the setting's pack
    withholds it too, withholds nothing the trust's pack showed, and passes its audit."""
    frame = trust()
    whole = representative(frame)
    prints = incident_prints(frame["incident_id"], SECRET)
    found = None
    for draw in range(40):  # find a draw whose noise made the trust's pack withhold
        done = protect_with(
            whole, lambda d: CellKey(record_keys(frame["incident_id"], SECRET, d)), draw=draw
        )
        if not done.withheld:
            continue
        memory = Memory(tmp_path / f"draw{draw}.published")
        memory.remember(whole, prints, done.withheld_vars)
        for setting in sorted(frame["setting_id"].astype(str).unique()):
            part = frame[frame["setting_id"].astype(str) == setting].reset_index(drop=True)
            ledger = representative(part)
            part_prints = incident_prints(part["incident_id"], SECRET)
            withheld, fixed = memory.recall(ledger, part_prints)
            if withheld:
                found = (draw, memory, ledger, part, part_prints, withheld, fixed)
                break
        if found:
            break
    assert found, "no draw of 40 withheld a count of one setting: the search needs more"
    draw, memory, ledger, part, part_prints, withheld, fixed = found
    done = protect_with(
        ledger,
        lambda d: CellKey(record_keys(part["incident_id"], SECRET, d)),
        draw=draw,
        withheld=withheld,
        fixed=fixed,
    )
    assert withheld <= done.withheld_vars and not (done.withheld_vars & fixed)
    var_of_cell = ledger.identities().var_of_cell
    for cell, var in enumerate(var_of_cell):
        if var in withheld:
            assert done.pack.forms[cell].status == "withheld"
    assert audit(done.pack.for_audit(), ledger.identities(), ledger.true_counts).passed
    fingerprints = set_prints(ledger, var_of_cell, part_prints)
    assert {int(fingerprints[v]) for v in withheld} <= memory.withheld
