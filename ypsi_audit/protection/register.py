"""The register of a trust's publications, kept beside its cell-key secret.

Every publication pack that passes its audit leaves a record here (`joint.PackRecord`:
the tables it declared, the incidents each counted by record key and category, and
every cell as it was shown), so the next publication can be audited together with all of
them (`joint.joint_audit`). A record holds no incident id, name or free text: record keys
are HMACs under the secret beside them, and the labels are the categories the pages count
by (setting, year, consistency, the children's characteristics the fairness page
compares, ...), incident by incident, so it is as sensitive as the log itself: the
folder and its files are the owner's only, and they never go into a pack.

One file per pack, `<fingerprint>.npz`: the fingerprint is a hash of the record's
content, so running the same report again adds nothing. Files are written whole (a
temporary file renamed into place) and read with `allow_pickle=False`.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from ..errors import YpsiError
from .joint import PackRecord, TableRecord
from .pack import STATUSES, Form

__all__ = ["Register", "RegisterError", "fingerprint"]

FORMAT = 1


class RegisterError(YpsiError):
    """The register of earlier publications cannot be read or written (exit code 2)."""


class Register:
    """The records in one folder (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*.npz"))

    def __len__(self) -> int:
        return len(self.files())

    def records(self) -> list[PackRecord]:
        """Every record, oldest first."""
        loaded = [_load(path) for path in self.files()]
        return sorted(loaded, key=lambda r: (r.meta.get("written", ""), r.meta.get("id", "")))

    def add(self, record: PackRecord) -> Path:
        """Keep `record` (a record already kept is not written again)."""
        arrays, meta = _arrays(record)
        digest = _fingerprint(arrays, meta)
        target = self.folder / f"{digest}.npz"
        if target.exists():
            return target
        if not self.folder.exists():
            self.folder.mkdir(parents=True, mode=0o700)
        meta = {**meta, "meta": {**record.meta, "id": digest}}
        arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
        temp = self.folder / f".{digest}.{os.getpid()}.tmp"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                np.savez_compressed(handle, **arrays)
            os.replace(temp, target)
        except OSError as error:
            temp.unlink(missing_ok=True)
            raise RegisterError(
                f"the register of publications {self.folder} cannot be written ({error}); "
                "free the space or fix its permissions and run again."
            ) from None
        return target


def fingerprint(record: PackRecord) -> str:
    """The name a record is kept under: a hash of everything it holds but its meta."""
    return _fingerprint(*_arrays(record))


def _arrays(record: PackRecord) -> tuple[dict[str, np.ndarray], dict]:
    arrays: dict[str, np.ndarray] = {"keys": np.asarray(record.keys, dtype=np.uint64)}
    columns = []
    for i, (name, labels) in enumerate(record.columns.items()):
        codes, uniques = _factorize(labels)
        arrays[f"column{i}"] = codes
        columns.append({"name": name, "labels": uniques})
    n_bytes = (record.n + 7) // 8
    masks = np.zeros((len(record.tables), n_bytes), dtype=np.uint8)
    for i, table in enumerate(record.tables):
        masks[i] = np.packbits(table.mask)
    arrays["masks"] = masks
    arrays["statuses"] = np.array([STATUSES.index(f.status) for f in record.forms], np.int8)
    arrays["values"] = np.array([-1 if f.value is None else f.value for f in record.forms])
    document = dict(record.document)
    ptable = document.pop("ptable", None)
    if ptable is not None:
        arrays["ptable"] = np.asarray(ptable, dtype=np.int64)
    meta = {
        "format": FORMAT,
        "n": record.n,
        "columns": columns,
        "tables": [
            {
                "name": t.name,
                "by": list(t.by),
                "margins": t.margins,
                "values": {d: list(v) for d, v in t.values.items()},
            }
            for t in record.tables
        ],
        "document": _plain(document),
        "determines": {c: list(f) for c, f in record.determines.items()},
    }
    return arrays, meta


def _load(path: Path) -> PackRecord:
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != FORMAT:
                raise ValueError("unknown format")
            n = int(meta["n"])
            columns = {
                c["name"]: np.asarray(c["labels"], dtype=object)[data[f"column{i}"]]
                for i, c in enumerate(meta["columns"])
            }
            masks = data["masks"]
            tables = [
                TableRecord(
                    t["name"],
                    tuple(t["by"]),
                    {d: tuple(v) for d, v in t["values"].items()},
                    bool(t["margins"]),
                    np.unpackbits(masks[i], count=n).astype(bool),
                )
                for i, t in enumerate(meta["tables"])
            ]
            forms = [
                Form(STATUSES[s], None if STATUSES[s] in ("primary", "secondary",
                     "suppressed", "withheld") else int(v))
                for s, v in zip(data["statuses"], data["values"], strict=True)
            ]  # fmt: skip
            document = dict(meta["document"])
            if "ptable" in data.files:
                document["ptable"] = data["ptable"]
            keys = data["keys"].astype(np.uint64)
    except (OSError, ValueError, KeyError, IndexError, TypeError, zipfile.BadZipFile) as error:
        raise RegisterError(
            f"{path} in the register of publications cannot be read ({type(error).__name__}); "
            "restore it from the trust's backup (the next pack cannot be checked without it)."
        ) from None
    return PackRecord(
        keys, columns, tables, forms, document,
        {c: tuple(f) for c, f in meta["determines"].items()}, dict(meta["meta"]),
    )  # fmt: skip


def _factorize(labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    uniques, codes = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    return codes.astype(np.int32), [str(u) for u in uniques]


def _plain(document: dict) -> dict:
    out = {}
    for key, value in document.items():
        if isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


def _fingerprint(arrays: dict[str, np.ndarray], meta: dict) -> str:
    digest = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    for name in sorted(arrays):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    return digest.hexdigest()[:24]
