"""Reading file formats: line endings, encodings, and an input that vanishes mid-run."""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd
import pytest

from ypsi_audit.errors import InputError
from ypsi_audit.loading import read_incidents
from ypsi_audit.readers import read_raw

PUBLIC = Path(__file__).parent / "data" / "cheshire_public.csv"
TEXT = PUBLIC.read_text(encoding="utf-8")


def write(tmp_path: Path, data: bytes, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def the_vignettes(path: Path) -> None:
    """The file read exactly as the vignettes themselves are."""
    got, want = read_incidents(path), read_incidents(PUBLIC)
    assert got.problems.empty
    pd.testing.assert_frame_equal(got.frame, want.frame, check_like=False, check_exact=True)


@pytest.mark.parametrize("ending", [b"\r", b"\r\n", b"\n"])
def test_every_line_ending_reads_alike(tmp_path: Path, ending: bytes) -> None:
    # CR alone (classic Mac OS) failed with a traceback from the csv module
    the_vignettes(write(tmp_path, TEXT.encode("utf-8").replace(b"\n", ending)))


def test_cr_only_keeps_row_numbers_of_blank_lines(tmp_path: Path) -> None:
    header = "incident_id,setting_id,incident_type,reported_on"
    text = f"{header}\rI1,S1,image_sharing,2025-03-03\r\rI2,S1,image_sharing,x\r"
    result = read_incidents(write(tmp_path, text.encode()))
    assert result.frame.index.tolist() == [2, 4]
    assert result.problems["row"].tolist() == [4]


@pytest.mark.parametrize(
    ("codec", "reported"),
    [
        ("utf-16", "utf-16"),  # with a byte-order mark, as Excel's "Unicode text"
        ("utf-16-le", "utf-16-le"),  # without one
        ("utf-16-be", "utf-16-be"),
        ("utf-32", "utf-32"),
    ],
)
def test_unicode_encodings(tmp_path: Path, codec: str, reported: str) -> None:
    path = write(tmp_path, TEXT.encode(codec))
    assert read_incidents(path).encoding == reported
    the_vignettes(path)


def test_binary_with_nul_bytes_is_still_binary(tmp_path: Path) -> None:
    path = write(tmp_path, b"incident_id\x00\x01\x02\x03" * 100)
    with pytest.raises(InputError, match="binary data"):
        read_incidents(path)


def test_a_stray_quote_in_the_header_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, b'incident_id,"setting_id\r,x\nI1,S1\n')
    with pytest.raises(InputError) as info:
        read_incidents(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("error", "fragment"),
    [
        (FileNotFoundError(2, "No such file or directory"), "removed or moved while"),
        (PermissionError(13, "Permission denied"), "permission denied"),
        (OSError(5, "Input/output error"), "cannot be read (input/output error)"),
    ],
)
@pytest.mark.parametrize("name", ["log.csv", "log.parquet", "log.xlsx"])
def test_an_input_that_vanishes_or_fails_mid_run_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, fragment: str, name: str
) -> None:
    """The file is there when checked, then gone (or unreadable) when read."""
    path = tmp_path / name
    frame = pd.read_csv(PUBLIC, dtype=str, keep_default_na=False)
    if name.endswith(".csv"):
        frame.to_csv(path, index=False)
    elif name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_excel(path, index=False)

    def fail(*args, **kwargs):
        raise error

    import zipfile

    import pyarrow.parquet as pq

    monkeypatch.setattr(Path, "read_bytes", fail)
    monkeypatch.setattr(pq, "read_table", fail)
    monkeypatch.setattr(zipfile.ZipFile, "__init__", fail)
    with pytest.raises(InputError) as info:
        read_raw(path, str(path), None)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_utf8_bom_text_and_cp1252_still_read(tmp_path: Path) -> None:
    the_vignettes(write(tmp_path, codecs.BOM_UTF8 + TEXT.encode("utf-8"), "bom.csv"))
    the_vignettes(write(tmp_path, TEXT.encode("cp1252"), "cp1252.csv"))
