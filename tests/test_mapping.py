"""Column mapping files: a setting's own export renamed, recoded and pruned into the contract.

A mapping is checked when it is loaded, before any data is read: a bad target column, a
translated value that is not a code, or an unknown section stops the run with one line
naming the mapping file. Without its mapping an export is refused, because its headers
are not the contract's (and its name and notes columns must never reach the audit).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ypsi_audit.cli import main
from ypsi_audit.errors import InputError
from ypsi_audit.mapping import ColumnMapping, load_mapping
from ypsi_audit.validation import run_gate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_MAPPING = ROOT / "data" / "samples" / "example_mapping.yaml"
NAMES = ("Alice Smith", "Bob Jones", "Carol White")
NOTE_EMAIL = "parent.contact@example.org"

EXPORT = pd.DataFrame(
    {
        "Incident Ref": ["E1", "E2", "E3"],
        "setting_id": ["S01", "S01", "S02"],
        "incident_type": ["image_sharing"] * 3,
        "reported_on": ["03/03/2025", "03/03/2025", "10/03/2025"],
        "decided_on": ["04/03/2025", "04/03/2025", "11/03/2025"],
        "Youngest age": ["15", "12", "14"],
        "oldest_party_age": ["15", "12", "19"],
        "adult_involved": ["no", "no", "yes"],
        "Police informed?": ["Yes", "No", " yes "],  # case and spaces do not matter
        "Pupil name": list(NAMES),
        "Notes": ["called mum", f"mum: {NOTE_EMAIL}", "see file"],
    }
)
MAPPING = """\
rename:
  Incident Ref: incident_id
  Police informed?: decision
  Youngest age: youngest_child_age
values:
  decision:
    "Yes": referred_police
    "No": handled_in_setting
drop:
  - Pupil name
  - Notes
"""


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    EXPORT.to_csv(path, index=False)
    return path


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "export_mapping.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("ypsi-audit: ") and "Traceback" not in err
    return lines[0]


def test_load_mapping_normalises_names_and_values(mapping: Path) -> None:
    loaded = load_mapping(mapping)
    assert isinstance(loaded, ColumnMapping)
    assert loaded.path == str(mapping)
    assert loaded.rename == {
        "incident_ref": "incident_id",
        "police_informed?": "decision",
        "youngest_age": "youngest_child_age",
    }
    assert loaded.values == {"decision": {"yes": "referred_police", "no": "handled_in_setting"}}
    assert loaded.drop == frozenset({"pupil_name", "notes"})


def test_validate_with_the_mapping_passes(
    export: Path, mapping: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["validate", str(export), "--mapping", str(mapping)]) == 0
    out = capsys.readouterr().out
    assert "3 rows read, 3 valid, 0 would be held back." in out
    assert "Every row passed every check." in out


def test_gate_with_the_mapping_reads_contract_columns(export: Path, mapping: Path) -> None:
    gate = run_gate(export, mapping=load_mapping(mapping))
    assert gate.rows_valid == 3 and len(gate.failures) == 0
    assert gate.extra_columns == []  # Pupil name and Notes never reached the frame
    assert gate.frame["incident_id"].tolist() == ["E1", "E2", "E3"]
    assert gate.frame["decision"].tolist() == [
        "referred_police",
        "handled_in_setting",
        "referred_police",
    ]
    assert gate.frame["youngest_child_age"].tolist() == [15, 12, 14]


def test_assess_with_the_mapping_uses_the_translated_decisions(
    export: Path, mapping: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    before = export.read_bytes()
    target = tmp_path / "out" / "audit.csv"
    assert main(["assess", str(export), "--mapping", str(mapping), "--out", str(target)]) == 0
    assert "Rows read 3 = assessed 3 + quarantined 0." in capsys.readouterr().out
    table = pd.read_csv(target, dtype=str, keep_default_na=False).set_index("incident_id")
    assert table["decision"].to_dict() == {
        "E1": "referred_police",
        "E2": "handled_in_setting",
        "E3": "referred_police",
    }
    # E2 is 12 (under 13) and was handled in the setting; E3 involves a 19-year-old
    # and was referred: the consistency follows from the translated decisions.
    assert table.loc["E2", "consistency"] == "under_escalation"
    assert table.loc["E3", "guidance_outcome"] == "refer_police"
    assert table.loc["E3", "consistency"] == "consistent_referral"
    assert table.loc["E2", "youngest_child_age"] == "12"
    assert not {"Pupil name", "Notes", "pupil_name", "notes"} & set(table.columns)
    written = target.read_text(encoding="utf-8")
    manifest = target.with_name("audit.manifest.json").read_text(encoding="utf-8")
    for secret in (*NAMES, NOTE_EMAIL):
        assert secret not in written and secret not in manifest
    assert json.loads(manifest)["input"]["mapping"] == str(mapping)
    assert export.read_bytes() == before


def test_without_the_mapping_the_export_is_refused(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert main(["validate", str(export)]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert "column 1's header is not in the contract: is it incident_id?" in message
    assert "Incident Ref" not in message and "incident_ref" not in message
    assert main(["assess", str(export), "--out", str(out_dir / "audit.csv")]) == 2
    assert one_line_error(capsys.readouterr().err) == message
    assert list(out_dir.iterdir()) == []


def test_unknown_export_columns_are_refused_by_number(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """With the identifier already named right, the remaining export headers are unknown:
    named by their number in the file, with a contract name when one is close."""
    source = tmp_path / "export.csv"
    renamed = EXPORT.rename(columns={"Incident Ref": "incident_id"})
    renamed.to_csv(source, index=False)
    # the e-mail address in Notes is refused first, without repeating it or its header
    assert main(["validate", str(source)]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert "column 11 (not a contract column) holds values shaped like personal data" in message
    assert NOTE_EMAIL not in message
    renamed.assign(Notes="nothing personal").to_csv(source, index=False)
    assert main(["validate", str(source)]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert (
        "column 6 (is it youngest_child_age?), column 9 (is it parents_informed?), "
        "column 10 (a pupil_name column), "
        "column 11 (a notes column): The file has columns the data contract does not know"
    ) in message
    for header in ("Youngest age", "youngest_age", "Police informed?", "police_informed"):
        assert header not in message
    for secret in NAMES:
        assert secret not in message


BAD_MAPPINGS = {
    "unknown-target": (
        "rename:\n  Incident Ref: incident_id\n  Youngest age: youngest_child_ag\n",
        ("'youngest_child_ag' is not a contract column", "did you mean 'youngest_child_age'"),
    ),
    "value-not-a-code": (
        MAPPING.replace("referred_police", "refered_police"),
        ("'refered_police' is not a code of decision", "did you mean 'referred_police'"),
    ),
    "unknown-section": (
        "renames:\n  Incident Ref: incident_id\n",
        ("unknown section 'renames'", "did you mean 'rename'"),
    ),
    "bool-value-not-a-bool": (
        "values:\n  adult_involved:\n    Maybe: perhaps\n",
        ("'perhaps' is not true, false or blank",),
    ),
    "drop-not-a-list": ("drop: Notes\n", ("'drop' must be a list",)),
    "not-yaml": ("rename: [unclosed\n", ("line 2, column 1", "not valid YAML")),
}


@pytest.mark.parametrize("name", list(BAD_MAPPINGS))
def test_mapping_errors_are_one_line_naming_the_file(
    name: str, export: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    text, fragments = BAD_MAPPINGS[name]
    bad = tmp_path / "bad_mapping.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_mapping(bad)
    assert info.value.path == str(bad)
    for command in (["validate"], ["assess", "--out", str(tmp_path / "out" / "audit.csv")]):
        code = main([command[0], str(export), "--mapping", str(bad), *command[1:]])
        message = one_line_error(capsys.readouterr().err)
        assert code == 2
        assert message.startswith(f"ypsi-audit: {bad}")
        for fragment in fragments:
            assert fragment in message, message
    assert not (tmp_path / "out").exists()  # nothing was written


def test_missing_mapping_file_is_one_line(export: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no_such_mapping.yaml"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ypsi_audit.cli",
            "validate",
            str(export),
            "--mapping",
            str(missing),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    message = one_line_error(result.stderr)
    assert str(missing) in message and "does not exist" in message
    assert result.stdout == ""


def test_bad_mapping_through_the_real_command_has_no_traceback(
    export: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad_mapping.yaml"
    bad.write_text(BAD_MAPPINGS["unknown-target"][0], encoding="utf-8")
    target = tmp_path / "out" / "audit.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ypsi_audit.cli",
            "assess",
            str(export),
            "--mapping",
            str(bad),
            "--out",
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    message = one_line_error(result.stderr)
    assert str(bad) in message and "did you mean 'youngest_child_age'" in message
    assert not target.parent.exists()


def test_shipped_example_mapping_has_rename_values_and_drop() -> None:
    example = load_mapping(EXAMPLE_MAPPING)
    assert example.rename and example.values and example.drop
    assert example.rename["incident_ref"] == "incident_id"
    assert example.values["decision"] == {
        "yes": "referred_police",
        "no": "handled_in_setting",
    }
    assert {"pupil_name", "notes"} <= example.drop


def test_shipped_example_mapping_reads_the_export_it_describes(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """An export with the example's own headers and codes validates with the example."""
    source = tmp_path / "export.csv"
    pd.DataFrame(
        {
            "Incident Ref": ["X1", "X2"],
            "School": ["Oakfield Primary School", "S02"],  # a listed name, a listed code
            "Type of incident": ["Nudes / semi-nudes", "Online contact"],
            "Date reported": ["13/03/2025", "14/03/2025"],
            "Date decided": ["14/03/2025", "15/03/2025"],
            "Youngest age": ["14", "15"],
            "Police informed?": ["No", "Yes"],
            "Reasons written down?": ["yes", "no"],
            "Pupil name": NAMES[:2],
            "Notes": ["-", NOTE_EMAIL],
        }
    ).to_csv(source, index=False)
    assert main(["validate", str(source), "--mapping", str(EXAMPLE_MAPPING)]) == 0
    assert "2 rows read, 2 valid" in capsys.readouterr().out
    gate = run_gate(source, mapping=load_mapping(EXAMPLE_MAPPING))
    assert gate.frame["incident_type"].tolist() == ["image_sharing", "online_sexual_contact"]
    assert gate.frame["decision"].tolist() == ["handled_in_setting", "referred_police"]
    assert gate.frame["reported_on"].tolist() == [
        pd.Timestamp("2025-03-13"),
        pd.Timestamp("2025-03-14"),
    ]
    assert gate.frame["rationale_recorded"].tolist() == [True, False]
    assert gate.frame["setting_id"].tolist() == ["S01", "S02"]


def test_unquoted_yes_no_keys_still_translate(tmp_path: Path) -> None:
    from ypsi_audit.mapping import load_mapping

    path = tmp_path / "m.yaml"
    path.write_text("values:\n  decision:\n    Yes: referred_police\n    No: handled_in_setting\n")
    mapping = load_mapping(path)
    assert mapping.values["decision"]["yes"] == "referred_police"
    assert mapping.values["decision"]["no"] == "handled_in_setting"


# ------------------------------------------------------------------------ the schema

# Odd-typed or malformed entries: each one line naming the file and the entry, exit 2.
SCHEMA_ERRORS = {
    "a-list-at-the-top": ("- rename\n- drop\n", ("holds named sections", "not a list")),
    "empty-file": ("", ("the mapping file is empty",)),
    "number-as-section": ("1: x\n", ("unknown section a number",)),
    "rename-is-a-list": ("rename:\n  - Incident Ref\n", ("'rename' must list", "not a list")),
    "rename-target-is-a-list": (
        "rename:\n  Incident Ref: [incident_id]\n",
        ("rename of 'Incident Ref' must name one contract column, not a list",),
    ),
    "rename-target-empty": (
        "rename:\n  Incident Ref:\n",
        ("rename of 'Incident Ref' must name one contract column, not empty",),
    ),
    "rename-header-true": (
        "rename:\n  Yes: decision\n",
        ("rename: a column name is true/false", "in quotes"),
    ),
    "rename-two-to-one": (
        "rename:\n  Police?: decision\n  Decision made: decision\n",
        ("'Police?' and 'Decision made' both become decision",),
    ),
    "values-not-a-mapping": (
        "values:\n  decision: referred_police\n",
        ("values for decision must map each export value to a code",),
    ),
    "values-key-is-a-list": (
        "values:\n  decision:\n    [a, b]: referred_police\n",
        ("has a key that is a list or a mapping",),
    ),
    "values-target-is-a-list": (
        "values:\n  decision:\n    Yes: [referred_police]\n",
        ("each export value needs one code, not a list",),
    ),
    "values-for-an-identifier": (
        "values:\n  setting_id:\n    Oakfield: S01\n",
        ("identifiers are not translated", "settings:"),
    ),
    "drop-holds-a-mapping": ("drop:\n  - {Notes: 1}\n", ("drop: a column name is a mapping",)),
    "missing-colon": (
        "rename:\n  Incident Ref incident_id\n  School: setting_id\n",
        ("line 3, column 9", "not valid YAML"),
    ),
    "settings-empty": ("settings:\n", ("settings: lists no setting",)),
    "settings-a-list": (
        "settings:\n  - Oakfield Primary School\n",
        ("'settings' must list one 'setting name: its code' per line, not a list",),
    ),
    "settings-code-a-number": (
        "settings:\n  Oakfield Primary School: 01\n",
        ("settings: 'Oakfield Primary School' needs a code written as text, not a number",),
    ),
    "settings-code-with-a-space": (
        "settings:\n  Oakfield Primary School: S 01\n",
        ("its code must be letters, digits, - and _, at most 32 characters",),
    ),
    "settings-code-a-postcode": (
        "settings:\n  Oakfield Primary School: CH12AB\n",
        ("its code is shaped like personal data",),
    ),
    "settings-name-a-number": ("settings:\n  1: S01\n", ("a setting's name must be text",)),
    "settings-name-twice": (
        "settings:\n  Oakfield Primary: S01\n  OAKFIELD  primary: S01\n",
        ("'OAKFIELD  primary' is listed twice",),
    ),
    "settings-name-two-codes": (
        "settings:\n  Oakfield Primary: S01\n  S01: S02\n",
        ("'S01' also stands for the setting 'Oakfield Primary' (S01)",),
    ),
    "settings-key-twice": (
        "settings:\n  Oakfield: S01\n  Oakfield: S02\n",
        ("line 3, column 3", "writes the key 'Oakfield' twice"),
    ),
}


@pytest.mark.parametrize("name", list(SCHEMA_ERRORS))
def test_schema_errors_are_one_line_naming_the_file_and_entry(
    name: str, export: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    text, fragments = SCHEMA_ERRORS[name]
    bad = tmp_path / "bad_mapping.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_mapping(bad)
    assert info.value.path == str(bad)
    assert main(["validate", str(export), "--mapping", str(bad)]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert message.startswith(f"ypsi-audit: {bad}")
    for fragment in fragments:
        assert fragment in message, message


def test_numbers_as_headers_and_export_values_are_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "rename:\n  2024: decision\nvalues:\n  adult_involved:\n    1: true\n    0: false\n"
        "drop: [99]\n"
    )
    mapping = load_mapping(path)
    assert mapping.rename == {"2024": "decision"}
    assert mapping.values["adult_involved"] == {"1": "true", "0": "false"}
    assert mapping.drop == frozenset({"99"})
    assert mapping.headers == {"decision": "2024"}


# ------------------------------------------------------------------ settings register

REGISTER = """\
settings:
  Oakfield Primary School: S01
  "St Mary's High School": S02
  Ysgol Gymraeg Aberystwyth: S03
"""


def test_the_register_lists_names_and_codes(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(REGISTER, encoding="utf-8")
    register = load_mapping(path).settings
    assert register is not None and len(register) == 3
    assert register.codes == ("S01", "S02", "S03")
    assert register.code_for("Oakfield Primary School") == "S01"
    assert register.code_for("  oakfield   PRIMARY school ") == "S01"  # case and spacing
    assert register.code_for("st mary's high school") == "S02"
    assert register.code_for("s03") == "S03"  # a listed code, any case
    assert register.code_for("S 01") == "S01"
    assert register.code_for("S1") is None  # a typo for S01
    assert register.code_for("Jane Smith") is None
    assert load_mapping(EXAMPLE_MAPPING).settings is not None


def test_with_a_register_names_become_codes_and_nothing_else_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = tmp_path / "export.csv"
    EXPORT.assign(setting_id=["Oakfield Primary School", "S02", "ST MARY'S HIGH SCHOOL"]).to_csv(
        source, index=False
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MAPPING + REGISTER, encoding="utf-8")
    gate = run_gate(source, mapping=load_mapping(mapping))
    assert gate.frame["setting_id"].tolist() == ["S01", "S02", "S02"]
    target = tmp_path / "out" / "audit.csv"
    assert main(["assess", str(source), "--mapping", str(mapping), "--out", str(target)]) == 0
    capsys.readouterr()
    assert "Oakfield" not in target.read_text(encoding="utf-8")
    # one unlisted value refuses the whole file, without repeating it
    EXPORT.assign(setting_id=["S01", "Jane Smith", "S1"]).to_csv(source, index=False)
    assert main(["validate", str(source), "--mapping", str(mapping)]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert (
        f"column setting_id holds values that are neither a name nor a code listed under "
        f"settings: in {mapping} (rows 3, 4)" in message
    )
    assert "Jane Smith" not in message and "S1," not in message


def test_without_a_register_a_setting_name_is_refused_pointing_to_it(
    export: Path, mapping: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = tmp_path / "named.csv"
    EXPORT.assign(setting_id=["Oakfield Primary School"] * 3).to_csv(source, index=False)
    assert main(["validate", str(source), "--mapping", str(mapping)]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert "column setting_id holds values that are not setting codes (rows 2, 3, 4)" in message
    assert "settings:" in message and "Oakfield" not in message


def test_errors_about_a_mapped_column_name_the_users_own_header(
    export: Path, mapping: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = tmp_path / "bad.csv"
    EXPORT.assign(**{"Youngest age": ["15", "twelve", "14"]}).to_csv(source, index=False)
    target = tmp_path / "out" / "audit.csv"
    assert main(["assess", str(source), "--mapping", str(mapping), "--out", str(target)]) == 1
    out = capsys.readouterr().out
    assert "In column youngest_child_age (your column 'Youngest age'), a value of 6" in out
    assert "twelve" not in out
    # a renamed column that is not in the file: the mapping's own header is named
    EXPORT.drop(columns="Incident Ref").to_csv(source, index=False)
    assert main(["validate", str(source), "--mapping", str(mapping)]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert "the mapping file renames 'Incident Ref' to incident_id" in message
