"""The protection a publication run applies to its whole ledger, with the trust's secret.

`protector(spec, log)` is what the runner hands to `build_pages`: it gives every incident
of the pages' incident frame its cell-key record key (an HMAC of its incident id under
the trust's secret) and protects and audits the whole ledger with
`ypsi_audit.protection.adapter` (cell-key perturbation, the attacker's audit, fresh
draws of keys if the noise happened to pin a count; `DisclosureError`, exit code 4,
when none passes).

Where the secret lives. The same secret must be used for every publication the trust
makes, for ever: the same incidents then always get the same noise, so comparing two
packs, or two tables in one, gives nothing away; a new secret would let a reader average
the noise of two packs. So it belongs to the trust's machine, not to a report set (which
is shared) nor to the repository (which is public). In order:

1. `--secret FILE` on `report` and `impact`, or `secret:` in a schedule job;
2. the file named by the `YPSI_AUDIT_SECRET` environment variable (tests and CI point it
   at a temporary file, so they never write into anyone's home folder);
3. `$XDG_CONFIG_HOME/ypsi-audit/cell-key.secret` (`~/.config/...` when that is unset).

The file is made the first time (32 random bytes, owner-only, in an owner-only folder);
an existing file that other users can read is refused. The draw of keys that passed the
audit is kept beside it (`cell-key.secret.draw`), never in a pack, and every later run
uses it and only it, so cells keep their noise from one publication to the next: keys
are drawn afresh only before the first publication (see `protection/publish.py`). The
`.draw` file is written on every passing run, so a trust that has published has one.

Beside them is the register of the trust's publications (`cell-key.secret.packs/`,
`protection/register.py`): every pack that passes leaves its record there just before
its folder is committed, and every later pack is audited together with all of them
(`protection/joint.py`) and refused if, read beside them, it would give a count away.
Back it up with the secret: a pack cannot be checked against publications missing from it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import YpsiError
from .spec import RunSpec

__all__ = [
    "ENV_SECRET",
    "SecretError",
    "has_published",
    "protector",
    "read_draw",
    "secret_path",
]

ENV_SECRET = "YPSI_AUDIT_SECRET"
SECRET_NAME = "cell-key.secret"
DRAW_SUFFIX = ".draw"
REGISTER_SUFFIX = ".packs"  # the register of earlier publications (protection/register.py)
UNREGISTERED = (
    "Note: this secret has been used to publish before, but its register of publications "
    "({folder}) is empty, so this pack could not be checked together with the earlier "
    "ones (packs made before the register existed, or on another machine, are not in it). "
    "Publish it only if none of those earlier packs was made public."
)


class SecretError(YpsiError):
    """The cell-key secret cannot be used as it is (exit code 2)."""


def secret_path(spec: RunSpec) -> Path:
    """Where this run's cell-key secret lives (see the module docstring)."""
    if spec.secret:
        return Path(spec.secret).expanduser()
    chosen = os.environ.get(ENV_SECRET)
    if chosen:
        return Path(chosen).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config).expanduser() / "ypsi-audit" / SECRET_NAME


def protector(spec: RunSpec, log: Any) -> Callable[[Any], Any]:
    """The `protect` callable for `build_pages` on a publication run of `log`."""
    from ..protection.adapter import protector as ledger_protector
    from ..protection.cellkey import record_keys
    from ..protection.publish import MAX_DRAWS
    from ..protection.register import Register

    path = secret_path(spec)
    _outside_the_set(path, spec)
    secret = _secret(path)
    register = Register(register_path(path))
    earlier = register.records()
    published = has_published(path) or bool(earlier)
    first = read_draw(path) if has_published(path) or not earlier else _draw_of(earlier[-1])
    if any(_draw_of(r) != first for r in earlier):
        raise SecretError(
            f"the register of publications {register.folder} was made with another draw of "
            f"cell keys than {path.name}{DRAW_SUFFIX} holds; restore both from the same backup."
        )
    ids: list[Any] = []

    def keys(draw: int) -> Any:
        return record_keys(ids, secret, draw)

    def remember(draw: int) -> None:
        if not published or draw != first:
            _write_draw(path, draw)

    inner = ledger_protector(
        keys,
        first_draw=first,
        max_draws=1 if published else MAX_DRAWS,
        threshold=spec.threshold,
        on_pass=remember,
        earlier=earlier,
        meta={"written": _now(), "folder": Path(spec.out).name if spec.out else ""},
    )

    def protect(pages_ledger: Any) -> Any:
        ids[:] = incident_ids(log, pages_ledger.incidents)
        shown = inner(pages_ledger)
        if published and not earlier:  # published before this run, not by it
            pages_ledger.audit_line += " " + UNREGISTERED.format(folder=register.folder)
        record = pages_ledger.record
        pages_ledger.keep = lambda: register.add(record)
        return shown

    return protect


def register_path(path: Path) -> Path:
    """The folder of the trust's publication records, beside its secret."""
    return path.with_name(path.name + REGISTER_SUFFIX)


def _draw_of(record: Any) -> int:
    text = str(record.meta.get("draw", "0"))
    return int(text) if text.isdigit() else -1


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


def incident_ids(log: Any, incidents: Any) -> list[Any]:
    """The incident id of every row of the pages' incident frame, in its order (its index
    is the assessed frame's)."""
    frame = log.frame
    if incidents.index.equals(frame.index):
        return frame["incident_id"].tolist()
    if not frame.index.is_unique:
        raise RuntimeError("the assessed rows' index repeats: incidents cannot be matched")
    positions = frame.index.get_indexer(incidents.index)
    if (positions < 0).any():
        raise RuntimeError("the pages' incidents are not among the assessed rows")
    return frame["incident_id"].iloc[positions].tolist()


def has_published(path: Path) -> bool:
    """Whether a pack has passed its audit with this secret (its draw is kept)."""
    return path.with_name(path.name + DRAW_SUFFIX).exists()


def read_draw(path: Path) -> int:
    """The draw of keys that last passed the audit with this secret (0 when none did)."""
    kept = path.with_name(path.name + DRAW_SUFFIX)
    try:
        text = kept.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return 0
    except (OSError, UnicodeDecodeError) as error:
        raise SecretError(f"{kept} cannot be read ({error}); remove it to start again.") from None
    if not text.isdigit() or len(text) > 6:
        raise SecretError(
            f"{kept} does not hold a draw number; remove it (the next run starts again)."
        )
    return int(text)


def _write_draw(path: Path, draw: int) -> None:
    from ..writing import write_text

    target = path.with_name(path.name + DRAW_SUFFIX)
    write_text(f"{draw}\n", target)
    os.chmod(target, 0o600)


def _outside_the_set(path: Path, spec: RunSpec) -> None:
    """A secret inside the report folder would be shared with the pack (and replaced with
    the folder): refused."""
    if not spec.out:
        return
    out = Path(spec.out).expanduser().resolve()
    if path.expanduser().resolve().is_relative_to(out):
        raise SecretError(
            f"the cell-key secret {path} is inside the report folder {spec.out}, which is "
            "shared; keep the secret elsewhere (the default is in your configuration folder)."
        )


def _secret(path: Path) -> bytes:
    """The secret at `path`, made (owner-only) the first time; refused when others can
    read it or it is not a secret this tool made."""
    from ..protection.cellkey import load_secret

    if not path.exists():
        folder = path.parent
        if not folder.exists():
            folder.mkdir(parents=True, mode=0o700)
    elif not path.is_file():
        raise SecretError(f"the cell-key secret {path} is not a file; give a file with --secret.")
    else:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SecretError(
                f"the cell-key secret {path} can be read by other users; make it the owner's "
                f"only (chmod 600 {path}) and run again."
            )
    try:
        return load_secret(path)
    except ValueError:
        raise SecretError(
            f"{path} does not hold a cell-key secret (it is shorter than 16 bytes); give the "
            "trust's secret file, or a path where a new one may be made."
        ) from None
