"""Disclosure control for what the reports publish: one ledger of declared tables, a
protection method applied to all of it at once, and an attacker's audit of the result.

See `README.md` in this folder for the method chosen, why, and the measurements.
"""

from __future__ import annotations

from .audit import AuditReport, audit
from .cellkey import CellKey, load_secret, record_keys
from .ledger import NOT_RECORDED, TOTAL, Cell, Ledger, LedgerError
from .pack import Exact, Form, Pack, Published

__all__ = [
    "NOT_RECORDED",
    "TOTAL",
    "AuditReport",
    "Cell",
    "CellKey",
    "Exact",
    "Form",
    "Ledger",
    "LedgerError",
    "Pack",
    "Published",
    "audit",
    "load_secret",
    "record_keys",
]
