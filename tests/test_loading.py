"""Reading incident logs: formats, spellings, row numbers and plain-English problems."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from ypsi_audit import contract
from ypsi_audit.errors import InputError
from ypsi_audit.loading import LoadResult, load_incidents, normalise_name, read_incidents

PUBLIC = Path(__file__).parent / "data" / "cheshire_public.csv"


def make_log(
    tmp_path: Path,
    columns: dict[str, list[object]],
    *,
    name: str = "log.csv",
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    """A CSV log with the required columns filled in, plus the columns under test."""
    n = len(next(iter(columns.values()))) if columns else 1
    data: dict[str, list[object]] = {
        "incident_id": [f"I{i:03d}" for i in range(n)],
        "setting_id": ["S01"] * n,
        "incident_type": ["image_sharing"] * n,
        "reported_on": ["2025-03-03"] * n,
    }
    data.update(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(data)
    writer.writerows(zip(*data.values(), strict=True))
    path = tmp_path / name
    path.write_text(buffer.getvalue(), encoding=encoding)
    return path


def write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


HEADER = "incident_id,setting_id,incident_type,reported_on"


def expected_dtype(column: contract.Column) -> object:
    if column.kind in ("category", "ordinal"):
        return pd.CategoricalDtype(list(column.codes), ordered=column.kind == "ordinal")
    return {"string": "string", "int": "Int64", "bool": "boolean", "date": "datetime64[ns]"}[
        column.kind
    ]


def assert_contract_dtypes(frame: pd.DataFrame) -> None:
    assert list(frame.columns[: len(contract.COLUMNS)]) == list(contract.COLUMN_NAMES)
    for column in contract.COLUMNS:
        assert frame[column.name].dtype == expected_dtype(column), column.name


# ------------------------------------------------------------------------------ values


def test_every_boolean_spelling(tmp_path: Path) -> None:
    spellings = ["yes", "No", " Y ", "n", "1", "0", "TRUE", "false", "True ", " NO"]
    path = make_log(tmp_path, {"adult_involved": spellings})
    result = read_incidents(path)
    assert result.problems.empty
    assert result.frame["adult_involved"].tolist() == [True, False] * 5


@pytest.mark.parametrize(
    "spelling", ["", "   ", "unknown", "UNKNOWN", "not recorded", "Not Recorded", "n/k", "N/A"]
)
def test_unknown_spellings_are_unknown_not_false(tmp_path: Path, spelling: str) -> None:
    path = make_log(
        tmp_path,
        {
            "adult_involved": [spelling],
            "youngest_child_age": [spelling],
            "decided_on": [spelling],
            "decision": [spelling],
        },
    )
    result = read_incidents(path)
    assert result.problems.empty
    row = result.frame.iloc[0]
    assert row["adult_involved"] is pd.NA
    assert row["youngest_child_age"] is pd.NA
    assert pd.isna(row["decided_on"])
    assert pd.isna(row["decision"])


def test_unreadable_boolean_is_a_problem_not_unknown(tmp_path: Path) -> None:
    path = make_log(tmp_path, {"consensual": ["yes", "maybe"]})
    result = read_incidents(path)
    assert result.frame["consensual"].isna().tolist() == [False, True]
    problem = result.problems.iloc[0]
    assert (problem["row"], problem["column"], problem["check"]) == (
        3,
        "consensual",
        "unreadable_bool",
    )
    assert problem["reason"].startswith(
        "In column consensual, a value of 5 characters is not a yes/no value"
    )
    assert "maybe" not in problem["reason"]  # a value that cannot be read is never repeated


def test_category_and_ordinal_spellings(tmp_path: Path) -> None:
    path = make_log(
        tmp_path,
        {
            "decision": ["Handled in setting", " REFERRED_POLICE ", "handled-in-setting"],
            "content_level": ["Semi Nude", "sexual act", "NONE"],
            "setting_phase": ["All Through", "secondary", "Alternative provision"],
        },
    )
    result = read_incidents(path)
    frame = result.frame
    assert result.problems.empty
    assert frame["decision"].tolist() == [
        "handled_in_setting",
        "referred_police",
        "handled_in_setting",
    ]
    assert frame["content_level"].tolist() == ["semi_nude", "sexual_act", "none"]
    assert frame["setting_phase"].tolist() == ["all_through", "secondary", "alternative_provision"]
    assert frame["content_level"].cat.ordered
    assert not frame["decision"].cat.ordered
    assert frame["content_level"].iloc[1] > frame["content_level"].iloc[0]


def test_unknown_code_suggests_the_closest(tmp_path: Path) -> None:
    path = make_log(tmp_path, {"decision": ["refered police"]})
    result = read_incidents(path)
    problem = result.problems.iloc[0]
    assert problem["check"] == "unknown_code"
    assert "did you mean 'referred_police'" in problem["reason"]
    assert pd.isna(result.frame["decision"].iloc[0])


def test_unknown_code_far_from_any_lists_the_codes(tmp_path: Path) -> None:
    path = make_log(tmp_path, {"child_sex": ["zzzz"]})
    reason = read_incidents(path).problems.iloc[0]["reason"]
    assert "'female'" in reason and "'male'" in reason and "'other'" in reason


def test_whole_numbers(tmp_path: Path) -> None:
    path = make_log(tmp_path, {"youngest_child_age": ["15", " 15 ", "15.0", "", "15.5", "fifteen"]})
    result = read_incidents(path)
    ages = result.frame["youngest_child_age"]
    assert ages.dtype == "Int64"
    assert ages.iloc[:3].tolist() == [15, 15, 15]
    assert ages.iloc[3:].isna().all()
    assert result.problems["row"].tolist() == [6, 7]
    assert set(result.problems["check"]) == {"unreadable_int"}
    assert "a value of 7 characters is not a whole number" in result.problems["reason"].iloc[1]
    assert "fifteen" not in " ".join(result.problems["reason"])


def test_integer_range_is_not_checked_here(tmp_path: Path) -> None:
    # The validation gate owns ranges: the loader only parses.
    path = make_log(tmp_path, {"youngest_child_age": ["150", "-1"]})
    result = read_incidents(path)
    assert result.problems.empty
    assert result.frame["youngest_child_age"].tolist() == [150, -1]


def test_iso_and_day_first_dates(tmp_path: Path) -> None:
    values = [
        "2025-04-13",
        "2025-04-13 00:00:00",
        "2025-04-13T10:15:00",
        "13/04/2025",
        "03/04/2025",
        "3/4/2025",
        "03-04-2025",
        "03.04.2025",
        "13/04/2025 00:00",
    ]
    path = make_log(tmp_path, {"decided_on": values})
    result = read_incidents(path)
    assert result.problems.empty
    got = result.frame["decided_on"]
    assert got.dtype == "datetime64[ns]"
    april_13, april_3 = pd.Timestamp("2025-04-13"), pd.Timestamp("2025-04-03")
    assert got.tolist() == [april_13] * 4 + [april_3] * 4 + [april_13]


def test_day_first_is_never_month_first(tmp_path: Path) -> None:
    path = make_log(tmp_path, {"reported_on": ["03/04/2025", "04/13/2025"]})
    result = read_incidents(path)
    assert result.frame["reported_on"].iloc[0] == pd.Timestamp("2025-04-03")  # 3 April
    assert pd.isna(result.frame["reported_on"].iloc[1])
    assert result.problems["check"].tolist() == ["impossible_date"]


def test_impossible_and_unreadable_dates(tmp_path: Path) -> None:
    path = make_log(tmp_path, {"decided_on": ["31/02/2025", "03/04/25", "last week", "2025-13-01"]})
    result = read_incidents(path)
    assert result.frame["decided_on"].isna().all()
    checks = result.problems.set_index("row")["check"].to_dict()
    assert checks == {
        2: "impossible_date",
        3: "unreadable_date",
        4: "unreadable_date",
        5: "impossible_date",
    }
    reasons = result.problems["reason"].tolist()
    assert "a value of 10 characters is not a real calendar date" in reasons[0]
    assert "31/02/2025" not in " ".join(reasons)
    assert "two-digit year" in reasons[1]


def test_strings_are_trimmed_and_blank_is_unknown(tmp_path: Path) -> None:
    path = make_log(tmp_path, {"setting_id": ["  S01 ", ""], "note": ["  a b  ", " "]})
    frame = read_incidents(path).frame
    assert frame["setting_id"].tolist() == ["S01", pd.NA]
    assert frame["note"].tolist() == ["a b", pd.NA]
    assert frame["note"].dtype == "string"


def test_missing_optional_columns_are_all_unknown_with_the_right_dtypes(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\nI1,S1,image_sharing,2025-03-03\n")
    result = read_incidents(path)
    assert_contract_dtypes(result.frame)
    assert result.frame.drop(columns=list(contract.REQUIRED)).isna().all().all()
    assert result.extra_columns == []


def test_problems_are_in_row_then_column_order(tmp_path: Path) -> None:
    path = make_log(
        tmp_path,
        {"decision": ["x", "handled_in_setting", "y"], "adult_involved": ["z", "yes", "yes"]},
    )
    problems = read_incidents(path).problems
    assert list(problems.columns) == ["row", "column", "check", "reason"]
    assert problems["row"].dtype == "int64"
    assert problems[["row", "column"]].values.tolist() == [
        [2, "adult_involved"],
        [2, "decision"],
        [4, "decision"],
    ]


# ------------------------------------------------------------------------------ formats


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str) -> None:
    path = make_log(
        tmp_path, {"decision": ["referred_police"], "note": ["a;b, c"]}, delimiter=delimiter
    )
    result = read_incidents(path)
    assert result.delimiter == delimiter
    assert result.frame["decision"].tolist() == ["referred_police"]
    assert result.frame["note"].tolist() == ["a;b, c"]


def test_tsv_extension(tmp_path: Path) -> None:
    path = make_log(tmp_path, {"decision": ["referred_police"]}, delimiter="\t", name="log.tsv")
    result = read_incidents(path)
    assert result.delimiter == "\t"
    assert result.frame["incident_id"].tolist() == ["I000"]


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252")],
)
def test_encodings(tmp_path: Path, encoding: str, reported: str) -> None:
    path = make_log(tmp_path, {"note": ["£5 café"]}, encoding=encoding)
    result = read_incidents(path)
    assert result.encoding == reported
    assert result.frame["note"].tolist() == ["£5 café"]
    assert result.frame["incident_id"].tolist() == ["I000"]  # the BOM is not in the header


def test_excel_unicode_text_is_utf16_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    text = f"{HEADER},note\nI1,S1,image_sharing,13/04/2025,café\n".replace(",", "\t")
    path.write_bytes(text.encode("utf-16"))
    result = read_incidents(path)
    assert (result.encoding, result.delimiter) == ("utf-16", "\t")
    assert result.frame["note"].tolist() == ["café"]
    assert result.frame["reported_on"].tolist() == [pd.Timestamp("2025-04-13")]


def test_cp1252_header_with_accent(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(f"{HEADER},Année\nI1,S1,image_sharing,2025-03-03,été\n".encode("cp1252"))
    result = read_incidents(path)
    assert result.extra_columns == ["année"]
    assert result.frame["année"].tolist() == ["été"]


def test_binary_junk_renamed_csv(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(InputError, match="binary") as caught:
        read_incidents(path)
    assert caught.value.path == str(path)


def test_undecodable_bytes_without_nul(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(HEADER.encode() + b"\n\x81\x8d\x8f,\x90,\x9d,x\n")
    with pytest.raises(InputError, match="binary"):
        read_incidents(path)


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    with pytest.raises(InputError, match="empty"):
        read_incidents(path)


def test_only_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "\n\n  \n")
    with pytest.raises(InputError, match="no header row"):
        read_incidents(path)


def test_header_only_gives_an_empty_typed_frame(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + ",note\n")
    result = read_incidents(path)
    assert len(result.frame) == 0
    assert result.frame.index.name == "row"
    assert result.extra_columns == ["note"]
    assert_contract_dtypes(result.frame)
    assert result.problems.empty


def test_missing_required_columns_are_listed_with_a_near_miss(tmp_path: Path) -> None:
    path = write(tmp_path, "incident_id,reportedon\nI1,2025-03-03\n")
    with pytest.raises(InputError) as caught:
        read_incidents(path)
    message = str(caught.value)
    assert "setting_id, incident_type, reported_on are missing" in message
    assert "column 2's header is not in the contract: is it reported_on?" in message
    assert "reportedon" not in message  # a header is the file's content: not repeated
    assert caught.value.row is None


def test_headers_match_regardless_of_case_and_spaces(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        " Incident ID ,SETTING-ID,Incident Type,Reported  On,Adult Involved\n"
        "I1,S1,Image Sharing,2025-03-03,Yes\n",
    )
    result = read_incidents(path)
    assert result.extra_columns == []
    assert result.frame["incident_type"].tolist() == ["image_sharing"]
    assert result.frame["adult_involved"].tolist() == [True]
    assert normalise_name(" Reported - On ") == "reported_on"


def test_duplicate_header_names(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER},Incident ID\nI1,S1,image_sharing,2025-03-03,I2\n")
    with pytest.raises(InputError, match="names incident_id twice"):
        read_incidents(path)


def test_unsupported_extension_and_missing_file(tmp_path: Path) -> None:
    odd = write(tmp_path, HEADER + "\n", name="log.json")
    with pytest.raises(InputError, match="cannot be read"):
        read_incidents(odd)
    with pytest.raises(InputError, match="does not exist"):
        read_incidents(tmp_path / "nowhere.csv")


def test_row_with_the_wrong_number_of_values(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\nI1,S1,image_sharing,2025-03-03\nI2,S1,x\n")
    with pytest.raises(InputError, match="3 values but the header names 4") as caught:
        read_incidents(path)
    assert caught.value.row == 3


def test_unnamed_column_with_values_is_an_error_but_empty_ones_are_dropped(
    tmp_path: Path,
) -> None:
    trailing = write(tmp_path, f"{HEADER},\nI1,S1,image_sharing,2025-03-03,\n", name="a.csv")
    assert list(read_incidents(trailing).frame.columns) == list(contract.COLUMN_NAMES)
    filled = write(tmp_path, f"{HEADER},\nI1,S1,image_sharing,2025-03-03,x\n", name="b.csv")
    with pytest.raises(InputError, match="column 5 has values but no header name"):
        read_incidents(filled)


# ------------------------------------------------------------------------------ row numbers


def test_row_numbers_count_blank_lines(tmp_path: Path) -> None:
    text = (
        f"{HEADER},decision\n"
        "I1,S1,image_sharing,2025-03-03,referred_police\n"
        "\n"
        "I2,S1,image_sharing,2025-03-03,bad\n"
        ",,,,\n"
        "   \n"
        "I3,S1,image_sharing,2025-03-03,handled_in_setting\n"
        "\n"
    )
    result = read_incidents(write(tmp_path, text))
    assert result.frame.index.tolist() == [2, 4, 7]
    assert result.frame.index.name == "row"
    assert result.problems["row"].tolist() == [4]


def test_row_numbers_with_windows_line_endings_and_a_blank_line(tmp_path: Path) -> None:
    text = f"{HEADER}\r\nI1,S1,image_sharing,2025-03-03\r\n\r\nI2,S1,image_sharing,x\r\n"
    result = read_incidents(write(tmp_path, text))
    assert result.frame.index.tolist() == [2, 4]
    assert result.problems["row"].tolist() == [4]


def test_row_numbers_with_a_quoted_line_break(tmp_path: Path) -> None:
    text = (
        f"{HEADER},note\n"
        'I1,S1,image_sharing,2025-03-03,"two\nlines"\n'
        "\n"
        "I2,S1,image_sharing,2025-03-03,x\n"
    )
    result = read_incidents(write(tmp_path, text))
    assert result.frame.index.tolist() == [2, 4]
    assert result.frame["note"].iloc[0] == "two\nlines"


# ------------------------------------------------------------------------------ XLSX


def make_workbook(tmp_path: Path) -> Path:
    book = openpyxl.Workbook()
    cover = book.active
    cover.title = "Notes"
    cover.append(["This workbook holds the incident log on the next sheet"])
    sheet = book.create_sheet("Incident log")
    sheet.append(
        [
            "Incident ID",
            "Setting ID",
            "Incident Type",
            "Reported On",
            "Decided On",
            "Youngest Child Age",
            "Adult Involved",
            "Decision",
        ]
    )
    april_3, april_13_morning = dt.datetime(2025, 4, 3), dt.datetime(2025, 4, 13, 9, 30)
    sheet.append(
        ["I1", "S1", "image_sharing", april_3, april_13_morning, 15.0, True, "Referred police"]
    )
    sheet.append([])  # a blank row still counts
    sheet.append(["I2", 101, "online_sexual_contact", "13/04/2025", 45760, 14, False, None])
    sheet.append(["I3", "S1", "image_sharing", "2025-04-03", None, 15.5, "maybe", "x"])
    path = tmp_path / "log.xlsx"
    book.save(path)
    return path


def test_xlsx_named_sheet_with_typed_cells(tmp_path: Path) -> None:
    result = read_incidents(make_workbook(tmp_path), sheet="Incident log")
    frame = result.frame
    assert frame.index.tolist() == [2, 4, 5]
    assert frame["reported_on"].tolist()[:2] == [
        pd.Timestamp("2025-04-03"),
        pd.Timestamp("2025-04-13"),
    ]
    assert frame["decided_on"].iloc[0] == pd.Timestamp("2025-04-13")  # time of day dropped
    assert frame["decided_on"].iloc[1] == pd.Timestamp("2025-04-13")  # Excel serial 45760
    assert frame["youngest_child_age"].tolist()[:2] == [15, 14]
    assert frame["adult_involved"].tolist()[:2] == [True, False]
    assert frame["setting_id"].tolist() == ["S1", "101", "S1"]
    assert frame["decision"].iloc[0] == "referred_police"
    assert result.problems[["row", "column"]].values.tolist() == [
        [5, "youngest_child_age"],
        [5, "adult_involved"],
        [5, "decision"],
    ]
    assert result.encoding is None and result.delimiter is None
    assert_contract_dtypes(frame)


def test_xlsx_sheet_by_number_and_first_sheet_default(tmp_path: Path) -> None:
    path = make_workbook(tmp_path)
    assert len(read_incidents(path, sheet=1).frame) == 3
    with pytest.raises(InputError, match="required columns"):
        read_incidents(path)  # the first sheet is the cover note


def test_xlsx_header_only(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(list(contract.REQUIRED))
    book.save(tmp_path / "log.xlsx")
    result = read_incidents(tmp_path / "log.xlsx")
    assert len(result.frame) == 0
    assert_contract_dtypes(result.frame)


def test_xlsx_missing_sheet_names_no_sheet_of_the_workbook(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no sheet of that name") as caught:
        read_incidents(make_workbook(tmp_path), sheet="Incident logs")
    message = str(caught.value)
    assert "it has 2 sheets" in message
    assert "the closest name is that of sheet 1" in message
    assert "Incident log" not in message and "Notes" not in message


def test_serial_numbers_are_not_dates_in_text_files(tmp_path: Path) -> None:
    path = make_log(tmp_path, {"decided_on": ["45761"]})
    assert read_incidents(path).problems["check"].tolist() == ["unreadable_date"]


def test_junk_renamed_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "log.xlsx"
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(InputError, match="not a readable Excel workbook"):
        read_incidents(path)


# ------------------------------------------------------------------------------ Parquet


def test_parquet_typed_and_untyped_agree(tmp_path: Path) -> None:
    typed = pd.DataFrame(
        {
            "incident_id": ["I1", "I2", "I3"],
            "setting_id": pd.Series(["S1", "S1", None], dtype="string"),
            "incident_type": pd.Categorical(
                ["image_sharing", "online_sexual_contact", "image_sharing"]
            ),
            "reported_on": pd.to_datetime(["2025-04-03", "2025-04-13", "2025-01-01"]),
            "decided_on": [dt.date(2025, 4, 4), None, dt.date(2025, 1, 2)],
            "youngest_child_age": [15.0, np.nan, 14.0],
            "oldest_party_age": pd.array([15, None, 19], dtype="Int64"),
            "adult_involved": pd.array([False, None, True], dtype="boolean"),
            "multiple_victims": [True, False, True],
            "decision": ["referred_police", None, "handled_in_setting"],
        }
    )
    untyped = typed.astype(object).where(typed.notna(), "").astype(str)
    untyped["decided_on"] = ["04/04/2025", "", "02/01/2025"]
    typed.to_parquet(tmp_path / "typed.parquet")
    untyped.to_parquet(tmp_path / "untyped.parquet", index=False)
    first = read_incidents(tmp_path / "typed.parquet")
    second = read_incidents(tmp_path / "untyped.parquet")
    assert first.problems.empty and second.problems.empty
    pd.testing.assert_frame_equal(first.frame, second.frame)
    frame = first.frame
    assert frame.index.tolist() == [2, 3, 4]
    assert frame["youngest_child_age"].tolist() == [15, pd.NA, 14]
    assert frame["decided_on"].iloc[0] == pd.Timestamp("2025-04-04")
    assert frame["adult_involved"].tolist() == [False, pd.NA, True]
    assert_contract_dtypes(frame)


def test_parquet_booleans_across_row_groups_and_a_blank_row(tmp_path: Path) -> None:
    """Typed booleans are taken straight from Arrow: several chunks, nulls, and a row
    blank in every column (which is dropped) must come out as from text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "incident_id": ["I1", "I2", None, "I4"],
            "setting_id": ["S1", "S1", None, "S2"],
            "incident_type": ["image_sharing", "image_sharing", None, "image_sharing"],
            "reported_on": ["2025-04-03", "2025-04-13", None, "2025-01-01"],
            "adult_involved": pa.array([True, None, None, False], pa.bool_()),
            "multiple_victims": pa.array([None, False, None, True], pa.bool_()),
        }
    )
    pq.write_table(table, tmp_path / "log.parquet", row_group_size=1)
    result = read_incidents(tmp_path / "log.parquet")
    assert result.problems.empty
    frame = result.frame
    assert frame.index.tolist() == [2, 3, 5]  # the blank third record is not an incident
    assert frame["adult_involved"].tolist() == [True, pd.NA, False]
    assert frame["multiple_victims"].tolist() == [pd.NA, False, True]
    assert_contract_dtypes(frame)


def test_parquet_with_a_non_whole_float(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "incident_id": ["I1"],
            "setting_id": ["S1"],
            "incident_type": ["image_sharing"],
            "reported_on": ["2025-04-03"],
            "youngest_child_age": [15.5],
        }
    )
    frame.to_parquet(tmp_path / "log.parquet")
    problems = read_incidents(tmp_path / "log.parquet").problems
    assert problems[["row", "check"]].values.tolist() == [[2, "unreadable_int"]]
    assert "a value of 4 characters is not a whole number" in problems["reason"].iloc[0]


def test_parquet_round_trip_of_a_loaded_log(tmp_path: Path) -> None:
    loaded = read_incidents(PUBLIC).frame
    loaded.to_parquet(tmp_path / "log.parquet")  # the "row" index is stored as a column
    again = read_incidents(tmp_path / "log.parquet")
    assert again.extra_columns == read_incidents(PUBLIC).extra_columns
    pd.testing.assert_frame_equal(again.frame, loaded)


def test_parquet_without_records(tmp_path: Path) -> None:
    empty = pd.DataFrame({name: pd.Series([], dtype="string") for name in contract.REQUIRED})
    empty.to_parquet(tmp_path / "log.parquet", index=False)
    result = read_incidents(tmp_path / "log.parquet")
    assert len(result.frame) == 0
    assert_contract_dtypes(result.frame)


def test_junk_renamed_parquet(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    path.write_bytes(b"PAR1 but not really")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        read_incidents(path)


# ------------------------------------------------------------------------------ load_incidents


def test_load_incidents_error_names_file_row_column_and_value(tmp_path: Path) -> None:
    path = make_log(tmp_path, {"youngest_child_age": ["15"] * 5 + ["fifteen"]})
    with pytest.raises(InputError) as caught:
        load_incidents(path)
    message = str(caught.value)
    assert message == (
        f"{path}, row 7, column youngest_child_age: a value of 7 characters is not a whole "
        "number; "
        "write the age in digits, or leave it blank if it was not recorded."
    )
    assert "\n" not in message
    assert (caught.value.row, caught.value.column) == (7, "youngest_child_age")


def test_load_incidents_reports_the_first_problem_in_row_order(tmp_path: Path) -> None:
    path = make_log(
        tmp_path, {"decision": ["ok", "referred_police"], "adult_involved": ["x", "no"]}
    )
    with pytest.raises(InputError) as caught:
        load_incidents(path)
    assert (caught.value.row, caught.value.column) == (2, "adult_involved")


def test_personal_looking_values_are_never_echoed(tmp_path: Path) -> None:
    path = make_log(
        tmp_path,
        {"youngest_child_age": ["jo.bloggs@example.com"], "decision": ["07700 900123"]},
    )
    result = read_incidents(path)
    reasons = " ".join(result.problems["reason"])
    assert "jo.bloggs" not in reasons and "07700" not in reasons
    assert "In column youngest_child_age, a value of 21 characters is not a whole" in reasons
    assert set(read_incidents(path).problems["check"]) == {"personal_data"}
    with pytest.raises(InputError) as caught:
        load_incidents(path)
    assert "jo.bloggs" not in str(caught.value)
    assert "a value of 21 characters is not a whole number" in str(caught.value)


def test_a_bare_date_is_personal_outside_date_columns_only(tmp_path: Path) -> None:
    path = make_log(
        tmp_path,
        {
            "youngest_child_age": ["13/04/2010"],  # could be a date of birth
            "decided_on": ["31/02/2025"],  # an impossible incident date
            "reported_on": ["DOB 12/03/2012"],  # says what it is
        },
    )
    problems = read_incidents(path).problems.set_index("column")
    assert problems["check"].to_dict() == {
        "reported_on": "personal_data",
        "youngest_child_age": "personal_data",
        "decided_on": "impossible_date",
    }
    for value in ("13/04/2010", "31/02/2025", "12/03/2012"):
        assert value not in " ".join(problems["reason"])


def test_names_typed_into_a_coded_column_are_never_repeated(tmp_path: Path) -> None:
    path = make_log(
        tmp_path,
        {"consensual": ["Jane Smith"], "decision": ["Jane Smith"], "youngest_child_age": ["Jo"]},
    )
    problems = read_incidents(path).problems
    assert problems["reason"].tolist() == [
        "In column youngest_child_age, a value of 2 characters is not a whole number; write "
        "the age in digits, or leave it blank if it was not recorded.",
        "In column consensual, a value of 10 characters is not a yes/no value; write true or "
        "false (yes/no, y/n and 1/0 work), or leave it blank if it was not recorded.",
        "In column decision, a value of 10 characters is not a code this column allows "
        "(valid values are 'referred_police', 'handled_in_setting'); use one of its codes, "
        "or leave it blank if it was not recorded.",
    ]


def test_load_incidents_returns_the_frame_with_its_source(tmp_path: Path) -> None:
    path = make_log(tmp_path, {"decision": ["referred_police"]})
    frame = load_incidents(path)
    assert frame.attrs["source"] == str(path)
    assert frame["decision"].tolist() == ["referred_police"]


# ------------------------------------------------------------------------------ public vignettes


def test_public_vignettes_load() -> None:
    result = read_incidents(PUBLIC)
    frame = result.frame
    assert isinstance(result, LoadResult)
    assert result.problems.empty
    assert len(frame) == 26
    assert frame.index.tolist() == list(range(2, 28))
    assert_contract_dtypes(frame)
    assert result.extra_columns == [
        "expected_outcome",
        "expected_factors",
        "expected_unknown",
        "expected_experimental",
        "expected_consistency",
        "expected_gaps",
    ]
    assert list(frame.columns[len(contract.COLUMNS) :]) == result.extra_columns
    assert all(frame[c].dtype == "string" for c in result.extra_columns)
    first = frame.loc[2]
    assert first["incident_id"] == "P01"
    assert first["youngest_child_age"] == 15
    assert first["decision"] == "handled_in_setting"
    assert first["reported_on"] == pd.Timestamp("2025-03-03")
    assert not first["adult_involved"]
    assert frame.loc[5, "adult_involved"]  # P04: an adult of 19
    assert frame.loc[5, "oldest_party_age"] == 19
    assert pd.isna(frame.loc[12, "youngest_child_age"])  # P11 left the age blank
    assert pd.isna(frame.loc[14, "decision"])  # P13: no decision recorded
    assert frame.attrs["source"] == str(PUBLIC)


def test_a_large_log_keeps_every_row_and_number(tmp_path: Path) -> None:
    # 200,000 rows of the public vignettes (speed is measured in benchmarks/, not here).
    lines = PUBLIC.read_text(encoding="utf-8").splitlines()
    body = lines[1:]
    rows = [f"X{i:07d}," + body[i % len(body)].split(",", 1)[1] for i in range(200_000)]
    path = tmp_path / "big.csv"
    path.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    result = read_incidents(path)
    assert len(result.frame) == 200_000 and result.problems.empty
    assert result.frame.index[-1] == 200_001
