"""A memory size as DuckDB takes it ("4GB", "500MB"): checked where a run is specified,
without importing DuckDB."""

from __future__ import annotations


def checked_size(text: str) -> str:
    """The size, upper-cased without spaces; ValueError when it is not one."""
    cleaned = str(text).strip().upper().replace(" ", "")
    number = cleaned.rstrip("KMGTIB")
    if not number.replace(".", "", 1).isdigit() or cleaned[len(number) :] not in (
        "KB",
        "MB",
        "GB",
        "TB",
        "KIB",
        "MIB",
        "GIB",
        "TIB",
        "B",
    ):
        raise ValueError(f"a memory limit is written like 4GB or 500MB, not '{text}'")
    return cleaned
