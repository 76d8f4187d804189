"""Synthetic incident logs: a believable trust's YPSI log, made from a seed.

How the sample was made. The log is invented; no real child, school or incident is in
it. A trust of schools and other settings is made up first: each setting gets a code
(S01, S02, ...), a phase (mostly secondary, some primary, special, college, alternative
provision and all-through), a size (a small primary logs about five incidents a year,
a large secondary thirty to forty) and a practice profile. Most settings follow the police
guidance nine times in ten or better; a few tend to keep in school cases that needed
the police (under-escalation), one or two refer low-risk cases the guidance would let
them handle themselves (over-escalation), and a couple keep poorer records.

Each incident is dated on a school day of an English academic year (September to
August), with fewer in the holidays and hardly any in August. Most incidents are
image sharing; a minority are inappropriate sexual contact online, where often no
image was sent, the contact was persistent, and an adult was more often behind it.
A good share of image-sharing cases are "experimental": two children of a similar age
in, or seeking, a relationship, sending images to each other willingly, with no
threats and no wider sharing. Others are aggravated: the image was passed round a
group chat, a child was threatened or blackmailed, grooming was suspected, an adult
was involved, a child was under 13, the content showed a sexual act, or the children
in a relationship were years apart. Children in primary settings are younger; the
children's sex, special educational needs, ethnicity group, looked-after status and
disadvantage follow broad English school proportions, and they shape some facts (a
looked-after child is more often at high risk; a child with SEN more often raises a
concern about capacity to consent).

The setting's safeguarding lead is taken to know the full facts. Whether the police
guidance calls for a referral is worked out by the toolkit's own engine on that
complete record, so the sample and the audit cannot disagree about the rules. The
lead then decides according to the setting's profile: usually as the guidance says,
sometimes not, and in a few per cent of cases no decision is written down. The
handling that follows (viewing the image, seizing and returning a phone, telling
parents, a police outcome after a referral) is filled in with the care the setting
usually takes. Last, the record is made incomplete the way real logs are: a few per
cent of fields are left blank, more in the settings that record poorly, so some cases
can no longer be assessed from the record alone.

Two optional plants let a report be tested on a known answer: a `BiasPlan` makes
settings less likely to refer children of one group when they should (and a little
more likely to refer them when they need not), and a `RecordingPlan` makes named
settings leave out recording steps more often. The shipped sample uses moderate
amounts of both (`SAMPLE_BIAS`, `SAMPLE_RECORDING`).

No date is after the day the log is made, and a decision never comes before its
report. The same seed gives the same log, byte for byte: every random draw comes from
one `numpy.random.default_rng(seed)` in a fixed order, whatever the plants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from . import contract
from .errors import did_you_mean
from .writing import TABLE_SUFFIXES, as_text, atomic_path, write_table

__all__ = [
    "SAMPLE_BIAS",
    "SAMPLE_RECORDING",
    "BiasPlan",
    "RecordingPlan",
    "generate",
    "write_log",
]

BLANK = -1  # internal code for "not recorded" in every int8/int64 code array
# Internal columns by name: int8 codes (BLANK = not recorded) for yes/no and category
# columns, int64 ages, datetime64[D] dates, pandas string arrays for the identifiers.
Columns: TypeAlias = dict[str, Any]


@dataclass(frozen=True)
class BiasPlan:
    """Settings treat children of one group differently (a planted unfairness).

    Among cases the guidance sends to the police, children whose `column` equals
    `group` ("true"/"false" for a yes/no column) are kept in the setting with extra
    probability `strength`; among cases the setting may handle itself they are
    referred with extra probability `strength / 2`.
    """

    column: str
    group: str
    strength: float


@dataclass(frozen=True)
class RecordingPlan:
    """Named settings leave recording steps out with extra probability `strength`."""

    settings: tuple[str, ...]
    strength: float


SAMPLE_BIAS = BiasPlan("child_sen", "true", 0.2)
SAMPLE_RECORDING = RecordingPlan(("S05", "S08"), 0.6)

# Fields a RecordingPlan degrades: the steps the quick guide asks staff to record or do.
RECORDING_FIELDS: tuple[str, ...] = (
    "rationale_recorded",
    "viewing_authorised",
    "viewing_witnessed",
    "viewing_recorded",
    "parents_contacted_before_return",
    "images_deleted_before_return",
    "deletion_recorded",
    "staff_copy_deleted",
    "staff_reported_to_manager",
    "staff_reported_to_police",
    "parents_told_can_report",
)

# Facts the guidance's factors and experimental criteria read; real logs leave some blank.
FACT_FIELDS: tuple[str, ...] = (
    "youngest_child_age",
    "oldest_party_age",
    "adult_involved",
    "multiple_victims",
    "in_relationship",
    "content_level",
    "content_violent_or_atypical",
    "distribution",
    "threats_or_coercion",
    "harassment",
    "grooming_or_exploitation_suspected",
    "capacity_to_consent_concern",
    "immediate_risk_of_harm",
    "high_risk_vulnerability",
    "motivation",
    "consensual",
    "persistent_contact",
    "contact_age_appropriate",
)

# Blank rates of the child's characteristics (ethnicity is most often not obtained).
PROTECTED_BLANK: tuple[tuple[str, float], ...] = (
    ("child_sex", 0.01),
    ("child_sen", 0.04),
    ("child_ethnicity_group", 0.06),
    ("child_looked_after", 0.03),
    ("child_disadvantaged", 0.05),
)


def _codes(column: str) -> tuple[str, ...]:
    return contract.BY_NAME[column].codes


def _code(column: str, value: str) -> int:
    return _codes(column).index(value)


PHASES = _codes("setting_phase")
PRIMARY, SECONDARY, ALL_THROUGH, SPECIAL, AP, COLLEGE = range(6)
assert PHASES[COLLEGE] == "college" and PHASES[AP] == "alternative_provision"

# A trust of twelve, repeated for larger trusts and shuffled by the seed.
_PHASE_CYCLE = (
    SECONDARY, SECONDARY, PRIMARY, SECONDARY, SPECIAL, SECONDARY,
    COLLEGE, SECONDARY, PRIMARY, AP, SECONDARY, ALL_THROUGH,
)  # fmt: skip
FOLLOWS, UNDER, OVER = 0, 1, 2
_PROFILE_CYCLE = (FOLLOWS, FOLLOWS, UNDER, FOLLOWS, FOLLOWS, OVER,
                  FOLLOWS, UNDER, FOLLOWS, FOLLOWS, FOLLOWS, FOLLOWS)  # fmt: skip
_POOR_CYCLE = (0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0)
# Incidents a year for a typical setting of each phase (index = phase code).
_PHASE_RATE = np.array([5.0, 22.0, 28.0, 6.0, 9.0, 18.0])

# Youngest child's age 9..17 by phase: primary children are younger.
AGES = np.arange(9, 18)
_AGE_BY_PHASE = np.array(
    [
        [0.15, 0.35, 0.50, 0, 0, 0, 0, 0, 0],
        [0, 0, 0.03, 0.09, 0.21, 0.29, 0.26, 0.12, 0],
        [0.03, 0.05, 0.08, 0.12, 0.17, 0.20, 0.18, 0.10, 0.07],
        [0, 0, 0.06, 0.10, 0.15, 0.20, 0.20, 0.15, 0.14],
        [0, 0, 0, 0.10, 0.20, 0.30, 0.30, 0.10, 0],
        [0, 0, 0, 0, 0, 0, 0, 0.55, 0.45],
    ]
)

# School holidays as (month*100 + day) ranges, approximate English term dates.
_HOLIDAYS = ((1021, 1031), (1220, 1231), (101, 103), (212, 220), (401, 414), (526, 531),
             (722, 831))  # fmt: skip


@dataclass(frozen=True)
class _Trust:
    """The made-up settings: one entry per setting."""

    ids: np.ndarray  # setting codes, "S01"...
    phase: np.ndarray  # phase code
    rate: np.ndarray  # expected incidents a year
    profile: np.ndarray  # FOLLOWS / UNDER / OVER
    poor: np.ndarray  # bool: records poorly
    p_under: np.ndarray  # chance of keeping in school a case the guidance refers
    p_over: np.ndarray  # chance of referring a case the guidance lets the setting handle


# ----------------------------------------------------------------------------- public


def generate(
    settings: int = 12,
    years: int = 3,
    seed: int = 0,
    *,
    first_year: int = 2022,
    incidents_per_setting_year: float | None = None,
    n: int | None = None,
    bias: BiasPlan | None = None,
    poor_recording: RecordingPlan | None = None,
    today: date | None = None,
) -> pd.DataFrame:
    """A synthetic incident log in the contract's columns and the loader's dtypes.

    `first_year` 2022 means the academic year 2022-23. `incidents_per_setting_year`
    sets the mean size of a setting (sizes still differ); `n` forces the exact number
    of rows, split across settings and years by size. `today` (default: the real date)
    only matters when the years reach into the future: no date is ever after it.
    """
    _check_arguments(settings, years, n, incidents_per_setting_year, bias, poor_recording)
    rng = np.random.default_rng(seed)
    today64 = np.datetime64(today or date.today(), "D")
    trust = _make_trust(rng, settings, incidents_per_setting_year)
    days, past_share, cdf = _calendar(first_year, years, today64)
    setting, year = _allocate(rng, trust, past_share, n)
    reported = _draw_dates(rng, days, cdf, year)
    order = np.argsort(reported, kind="stable")
    setting, reported = setting[order], reported[order]
    cols = _incidents(rng, trust, setting, reported)
    truth = _guidance_truth(_to_frame(cols)) if len(setting) else np.zeros(0, bool)
    _decide(rng, trust, setting, cols, truth, bias)
    _decision_dates(rng, trust, setting, cols, today64)
    _handling(rng, trust, setting, cols)
    _apply_recording_plan(rng, trust, setting, cols, poor_recording)
    _blank_out(rng, trust, setting, cols)
    return _to_frame(cols)


def write_log(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a log as CSV (default), Parquet or Excel, chosen by the file's extension.

    CSV and Excel hold the contract's canonical text (ISO dates, true/false, blanks
    empty), so any tool reads them without guessing. The project's writer is used so a
    log is written atomically and readable by its owner only, like every output.
    """
    target = Path(path)
    if target.suffix.lower() in TABLE_SUFFIXES:
        return write_table(frame, target)
    with atomic_path(target) as temp:
        as_text(frame).to_csv(temp, index=False, encoding="utf-8", lineterminator="\n")
    return target


# ------------------------------------------------------------------------ the truth


def _guidance_truth(frame: pd.DataFrame) -> np.ndarray:
    """Does the guidance call for the police on each complete record? The engine says.

    Asking the project's engine (not a copy of the rules) keeps the sample and the
    audit in step when the policy changes.
    """
    from .engine import assess

    outcome = assess(frame)["guidance_outcome"]
    return np.asarray(outcome == "refer_police", dtype=bool)


# ------------------------------------------------------------------ arguments, trust


def _check_arguments(
    settings: int,
    years: int,
    n: int | None,
    per_year: float | None,
    bias: BiasPlan | None,
    recording: RecordingPlan | None,
) -> None:
    """Refuse arguments that would give a wrong or empty log, in one plain sentence."""
    if settings < 1 or years < 1:
        raise ValueError("settings and years must each be at least 1")
    if n is not None and n < 0:
        raise ValueError("n must not be negative")
    if per_year is not None and per_year <= 0:
        raise ValueError("incidents_per_setting_year must be positive")
    if bias is not None:
        _bias_group(bias)  # validates
    if recording is not None:
        if not 0 <= recording.strength <= 1:
            raise ValueError("RecordingPlan strength must be between 0 and 1")
        known = list(_setting_ids(settings))
        for code in recording.settings:
            if code not in known:
                raise ValueError(
                    f"RecordingPlan names setting {code!r}, which is not in the "
                    f"log; {did_you_mean(code, known)}"
                )


def _bias_group(plan: BiasPlan) -> int:
    """The internal code of the planted group (1/0 for yes/no columns)."""
    column = contract.BY_NAME.get(plan.column)
    protected = [c.name for c in contract.COLUMNS if c.protected]
    if column is None or not column.protected:
        raise ValueError(
            f"BiasPlan column {plan.column!r} is not a child characteristic; "
            f"{did_you_mean(plan.column, protected)}"
        )
    if not 0 <= plan.strength <= 1:
        raise ValueError("BiasPlan strength must be between 0 and 1")
    groups = ("false", "true") if column.kind == "bool" else column.codes
    group = str(plan.group).strip().lower()
    if group not in groups:
        raise ValueError(
            f"BiasPlan group {plan.group!r} is not a value of {plan.column}; "
            f"{did_you_mean(group, groups)}"
        )
    return groups.index(group)


def _setting_ids(k: int) -> np.ndarray:
    """S01, S02, ... (wider when a trust has a hundred settings or more)."""
    width = max(2, len(str(k)))
    return np.array([f"S{i + 1:0{width}d}" for i in range(k)])


def _make_trust(rng: np.random.Generator, k: int, per_year: float | None) -> _Trust:
    """Settings of different phases, sizes and habits, shuffled by the seed."""
    reps = -(-k // len(_PHASE_CYCLE))
    phase = np.tile(_PHASE_CYCLE, reps)[:k][rng.permutation(k)]
    profile = np.tile(_PROFILE_CYCLE, reps)[:k][rng.permutation(k)]
    poor = np.tile(_POOR_CYCLE, reps)[:k][rng.permutation(k)].astype(bool)
    rate = _PHASE_RATE[phase] * rng.lognormal(0.0, 0.35, k)
    if per_year is not None:
        rate = rate * (per_year / rate.mean())
    slip = rng.uniform(0.04, 0.09, k)  # a careful setting still errs now and then
    p_under = np.where(profile == UNDER, rng.uniform(0.25, 0.45, k), slip)
    p_over = np.where(profile == OVER, rng.uniform(0.25, 0.40, k), slip * 0.8)
    return _Trust(_setting_ids(k), phase, rate, profile, poor, p_under, p_over)


# ------------------------------------------------------------------ dates and counts


def _day_weights(days: np.ndarray) -> np.ndarray:
    """How likely an incident is to be dated on each day.

    Weekends weigh nothing (incidents are dated when staff hear of them), holidays a
    little, August almost nothing, Mondays a bit more (weekend incidents come in).
    """
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    month_start = days.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    mday = (days - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    md = month * 100 + mday
    holiday = np.zeros(len(days), bool)
    for low, high in _HOLIDAYS:
        holiday |= (md >= low) & (md <= high)
    weight = np.where(weekday == 0, 1.25, 1.0)
    weight = np.where(holiday, 0.15, weight)
    weight = np.where(month == 8, 0.04, weight)
    return np.where(weekday >= 5, 0.0, weight)


def _calendar(
    first_year: int, years: int, today: np.datetime64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every day of the academic years, each year's share already past, and a CDF.

    The CDF runs from y to y + 1 over academic year y, so one sorted search draws a
    day of each row's own year. Days after `today` weigh nothing.
    """
    bounds = np.array([f"{first_year + y}-09-01" for y in range(years + 1)], "datetime64[D]")
    days = np.arange(bounds[0], bounds[-1], dtype="datetime64[D]")
    day_year = np.searchsorted(bounds, days, side="right") - 1
    weight = _day_weights(days)
    full = np.bincount(day_year, weight, minlength=years)
    weight = np.where(days > today, 0.0, weight)
    past = np.bincount(day_year, weight, minlength=years)
    if past.sum() == 0:
        raise ValueError("every academic year asked for is still in the future")
    cdf = np.empty(len(days))
    for y in range(years):
        sel = day_year == y
        part = np.cumsum(weight[sel]) / past[y] if past[y] > 0 else np.zeros(sel.sum())
        part[part >= part[-1]] = 1.0  # no rounding gap at the end of a year
        cdf[sel] = y + part
    return days, past / full, cdf


def _allocate(
    rng: np.random.Generator, trust: _Trust, past_share: np.ndarray, n: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """How many incidents each setting logs each year; returns setting and year per row.

    Reports grow a little year on year, as national figures have.
    """
    years = len(past_share)
    trend = 1.0 + 0.08 * np.arange(years)
    expected = np.outer(trust.rate, trend * past_share).ravel()
    share = expected / expected.sum()
    counts = rng.poisson(expected) if n is None else rng.multinomial(n, share)
    cell = np.repeat(np.arange(len(expected)), counts)
    return cell // years, cell % years


def _draw_dates(
    rng: np.random.Generator, days: np.ndarray, cdf: np.ndarray, year: np.ndarray
) -> np.ndarray:
    """One school day per row, within the row's academic year."""
    u = rng.random(len(year))
    return days[np.searchsorted(cdf, year + u, side="right")]


# ------------------------------------------------------------------ random helpers


def _pick(rng: np.random.Generator, probs: npt.ArrayLike, group: np.ndarray) -> np.ndarray:
    """Draw a code per row from its group's distribution (one row of `probs` per group)."""
    probs = np.asarray(probs, float)
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(group))
    out = np.empty(len(group), np.int64)
    for g in range(len(probs)):
        sel = group == g
        out[sel] = np.searchsorted(cum[g], u[sel], side="right")
    return np.minimum(out, probs.shape[1] - 1)


def _yes(rng: np.random.Generator, p: np.ndarray | float, n: int) -> np.ndarray:
    """True with probability p per row."""
    return rng.random(n) < p


def _tri(
    rng: np.random.Generator, p_true: np.ndarray | float, p_blank: np.ndarray | float, n: int
) -> np.ndarray:
    """A recorded yes/no: 1 with p_true, blank with p_blank, else 0 (one draw per row)."""
    u = rng.random(n)
    out = (u < p_true).astype(np.int8)
    out[u >= 1.0 - np.asarray(p_blank)] = BLANK
    return out


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pd.api.extensions.ExtensionArray:
    """Zero-padded codes like INC-000123, built as bytes so a million take milliseconds."""
    head = np.frombuffer(prefix.encode("ascii"), np.uint8)
    size = len(head) + width
    chars = np.empty((len(numbers), size), np.uint8)
    chars[:, : len(head)] = head
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    chars[:, len(head) :] = (numbers[:, None] // powers) % 10 + ord("0")
    offsets = np.arange(0, (len(numbers) + 1) * size, size, dtype=np.int64)
    text = pa.LargeStringArray.from_buffers(
        len(numbers), pa.py_buffer(offsets), pa.py_buffer(chars.tobytes())
    )
    return pd.array(text.cast(pa.string()), dtype="string")


# ------------------------------------------------------------------ the incidents


def _empty_columns(n: int) -> Columns:
    """Every contract column, all blank, in the internal codes."""
    cols: Columns = {}
    for column in contract.COLUMNS:
        if column.kind == "date":
            cols[column.name] = np.full(n, np.datetime64("NaT"), "datetime64[D]")
        elif column.kind == "int":
            cols[column.name] = np.full(n, BLANK, np.int64)
        elif column.kind == "string":
            cols[column.name] = np.full(n, None, object)
        else:
            cols[column.name] = np.full(n, BLANK, np.int8)
    return cols


def _incidents(
    rng: np.random.Generator, trust: _Trust, setting: np.ndarray, reported: np.ndarray
) -> Columns:
    """The complete, true record of each incident before any decision."""
    n = len(setting)
    phase = trust.phase[setting]
    cols = _empty_columns(n)
    cols["incident_id"] = _ids("INC-", np.arange(1, n + 1), max(6, len(str(n))))
    cols["setting_id"] = pd.array(pa.array(trust.ids).take(setting), dtype="string")
    cols["setting_phase"] = phase.astype(np.int8)
    cols["reported_on"] = reported
    online = _yes(rng, np.where(phase == PRIMARY, 0.28, 0.18), n)
    cols["incident_type"] = np.where(
        online,
        _code("incident_type", "online_sexual_contact"),
        _code("incident_type", "image_sharing"),
    ).astype(np.int8)
    _children(rng, phase, cols)
    experimental = _yes(
        rng,
        np.where(online, 0.12, 0.56) * np.where((phase == AP) | (phase == SPECIAL), 0.7, 1.0),
        n,
    )
    adult = _ages(rng, phase, online, experimental, cols)
    _facts(rng, online, experimental, adult, cols)
    return cols


def _children(rng: np.random.Generator, phase: np.ndarray, cols: Columns) -> None:
    """The child's characteristics, in broad English school proportions by phase.

    SEN is near universal in special schools and common in alternative provision, as
    are looked-after and disadvantaged children.
    """
    n = len(phase)
    cols["child_sex"] = _pick(rng, [[0.66, 0.33, 0.01]], np.zeros(n, np.int64)).astype(np.int8)
    by_phase = np.array([0.20, 0.20, 0.20, 0.97, 0.55, 0.17])
    cols["child_sen"] = _yes(rng, by_phase[phase], n).astype(np.int8)
    ethnicity = [[0.715, 0.07, 0.125, 0.06, 0.007, 0.023]]
    cols["child_ethnicity_group"] = _pick(rng, ethnicity, np.zeros(n, np.int64)).astype(np.int8)
    by_phase = np.array([0.02, 0.025, 0.025, 0.05, 0.12, 0.02])
    cols["child_looked_after"] = _yes(rng, by_phase[phase], n).astype(np.int8)
    by_phase = np.array([0.25, 0.26, 0.26, 0.42, 0.60, 0.24])
    cols["child_disadvantaged"] = _yes(rng, by_phase[phase], n).astype(np.int8)


def _ages(
    rng: np.random.Generator,
    phase: np.ndarray,
    online: np.ndarray,
    experimental: np.ndarray,
    cols: Columns,
) -> np.ndarray:
    """Ages of the youngest child and the oldest party; returns whether an adult is in it.

    Adults are rare in image sharing (often an 18- or 19-year-old boyfriend) and more
    common online, where they are often much older. Colleges see more 18-year-olds.
    """
    n = len(phase)
    youngest = AGES[_pick(rng, _AGE_BY_PHASE, phase)]
    p_adult = np.where(online, 0.28, np.where(experimental, 0.02, 0.06))
    p_adult = p_adult + np.where(phase == COLLEGE, 0.12, 0.0)
    adult = _yes(rng, p_adult, n)
    young_adult = _yes(rng, np.where(online, 0.3, np.where(experimental, 1.0, 0.6)), n)
    adult_age = np.where(young_adult, rng.integers(18, 20, n), rng.integers(20, 56, n))
    gap_probs = [[0.45, 0.35, 0.17, 0.03, 0.0], [0.33, 0.30, 0.18, 0.11, 0.08]]
    gap = _pick(rng, gap_probs, (~experimental).astype(np.int64))
    oldest = np.where(adult, adult_age, np.minimum(youngest + gap, 17))
    cols["youngest_child_age"] = youngest.astype(np.int64)
    cols["oldest_party_age"] = oldest.astype(np.int64)
    cols["adult_involved"] = (oldest >= 18).astype(np.int8)
    return oldest >= 18


def _facts(
    rng: np.random.Generator,
    online: np.ndarray,
    experimental: np.ndarray,
    adult: np.ndarray,
    cols: Columns,
) -> None:
    """The facts the guidance weighs, drawn by kind of case.

    Experimental cases carry no risk flags; aggravated image sharing is about onward
    sharing, malice and coercion; online contact is about persistence and adults.
    Each list below gives a probability for the four kinds: experimental image
    sharing, aggravated image sharing, aggravated online contact, experimental online
    contact (two children of an age, messages without an image).
    """
    n = len(online)
    kind = np.where(online, np.where(experimental, 3, 2), np.where(experimental, 0, 1))
    aggravated = ~experimental
    adult_case = adult & aggravated
    sen = cols["child_sen"] == 1
    looked_after = cols["child_looked_after"] == 1
    youngest = cols["youngest_child_age"]

    def flag(p_by_kind: list[float], extra: np.ndarray | float = 0.0) -> np.ndarray:
        p = np.asarray(p_by_kind)[kind] + extra
        return _yes(rng, np.clip(p, 0.0, 1.0), n).astype(np.int8)

    def level(column: str, probs: list[list[float]]) -> None:
        cols[column] = _pick(rng, np.array(probs), kind).astype(np.int8)

    cols["in_relationship"] = flag([0.85, 0.30, 0.10, 0.70], np.where(adult & online, 0.05, 0))
    cols["multiple_victims"] = flag([0.0, 0.12, 0.15, 0.0], np.where(adult & online, 0.10, 0))
    level(
        "content_level",
        [
            [0, 0.15, 0.35, 0.47, 0.03],
            [0, 0.10, 0.30, 0.45, 0.15],
            [0.50, 0.25, 0.10, 0.10, 0.05],
            [0.60, 0.35, 0.05, 0, 0],
        ],
    )
    cols["content_violent_or_atypical"] = flag(
        [0.01, 0.05, 0.05, 0.01], np.where(youngest < 11, 0.05, 0.0)
    )
    level("distribution", [[1.0, 0, 0], [0.45, 0.35, 0.20], [0.85, 0.10, 0.05], [1.0, 0, 0]])
    cols["threats_or_coercion"] = flag([0.0, 0.16, 0.30, 0.0], np.where(adult_case, 0.25, 0))
    cols["harassment"] = flag([0.0, 0.12, 0.20, 0.0])
    older_adult = cols["oldest_party_age"] >= 20
    grooming = np.where(adult, np.where(older_adult, 0.80, 0.45), 0.0)
    cols["grooming_or_exploitation_suspected"] = flag([0.0, 0.03, 0.08, 0.0], grooming)
    cols["capacity_to_consent_concern"] = flag([0.01, 0.02, 0.02, 0.01], np.where(sen, 0.18, 0))
    cols["immediate_risk_of_harm"] = flag([0.005, 0.035, 0.035, 0.005])
    cols["high_risk_vulnerability"] = flag(
        [0.0, 0.08, 0.10, 0.0], np.where(looked_after & aggravated, 0.30, 0.0)
    )
    level(
        "motivation",
        [
            [0.70, 0.30, 0, 0, 0],
            [0.20, 0.15, 0.30, 0.25, 0.10],
            [0.10, 0.10, 0.25, 0.10, 0.45],
            [0.60, 0.40, 0, 0, 0],
        ],
    )
    cols["consensual"] = flag([1.0, 0.35, 0.10, 1.0], np.where(adult_case, -0.10, 0.0))
    cols["persistent_contact"] = flag([0.0, 0.15, 0.50, 0.0], np.where(adult_case, 0.20, 0))
    appropriate = flag([1.0, 0.60, 0.30, 1.0])
    cols["contact_age_appropriate"] = np.where(adult_case, 0, appropriate).astype(np.int8)


# ------------------------------------------------------------------ decisions


REFERRED = _code("decision", "referred_police")
HANDLED = _code("decision", "handled_in_setting")


def _decide(
    rng: np.random.Generator,
    trust: _Trust,
    setting: np.ndarray,
    cols: Columns,
    truth: np.ndarray,
    bias: BiasPlan | None,
) -> None:
    """The lead decides from the true facts, as the setting's profile makes them.

    A setting that under-escalates still refers most cases with an adult, grooming
    or threats: the milder factors (a wide age gap, a forwarded image) are the ones
    kept in school. The plant changes only probabilities, never the draws, so a plan
    of strength 0 gives exactly the unplanted log.
    """
    n = len(setting)
    severe = (cols["adult_involved"] == 1) | (cols["grooming_or_exploitation_suspected"] == 1)
    severe |= cols["threats_or_coercion"] == 1
    p_under = trust.p_under[setting] * np.where(severe, 0.4, 1.0)
    p_refer = np.where(truth, 1.0 - p_under, trust.p_over[setting])
    if bias is not None:
        member = cols[bias.column] == _bias_group(bias)
        kept = p_refer * (1.0 - bias.strength)
        pushed = 1.0 - (1.0 - p_refer) * (1.0 - bias.strength / 2)
        p_refer = np.where(member, np.where(truth, kept, pushed), p_refer)
    decision = np.where(rng.random(n) < p_refer, REFERRED, HANDLED).astype(np.int8)
    missing = _yes(rng, np.where(trust.poor[setting], 0.08, 0.025), n)
    cols["decision"] = np.where(missing, BLANK, decision).astype(np.int8)


def _decision_dates(
    rng: np.random.Generator,
    trust: _Trust,
    setting: np.ndarray,
    cols: Columns,
    today: np.datetime64,
) -> None:
    """Decisions come 0-10 days after the report on a weekday, now and then later; none if
    unrecorded."""
    n = len(setting)
    lag_probs = [[0.30, 0.22, 0.14, 0.10, 0.07, 0.05, 0.04, 0.03, 0.02, 0.02, 0.01]]
    lag = _pick(rng, lag_probs, np.zeros(n, np.int64))
    late = _yes(rng, 0.03, n)
    lag = np.where(late, rng.integers(11, 31, n), lag)
    decided = cols["reported_on"] + lag.astype("timedelta64[D]")
    weekday = (decided.astype(np.int64) + 3) % 7  # 0 = Monday; decisions wait for Monday
    decided = decided + np.where(weekday >= 5, 7 - weekday, 0).astype("timedelta64[D]")
    decided = np.minimum(decided, today)
    undated = _yes(rng, np.where(trust.poor[setting], 0.04, 0.015), n)
    undated |= cols["decision"] == BLANK
    cols["decided_on"] = np.where(undated, np.datetime64("NaT"), decided).astype("datetime64[D]")


# ------------------------------------------------------------------ handling


def _followup(
    rng: np.random.Generator,
    parent: np.ndarray,
    p_true: np.ndarray | float,
    p_blank: np.ndarray | float,
) -> np.ndarray:
    """A follow-up step: recorded when its parent event happened, else blank or false."""
    n = len(parent)
    done = _tri(rng, p_true, p_blank, n)
    absent = _tri(rng, 0.0, 0.85, n)  # mostly left blank, sometimes written as false
    return np.where(parent == 1, done, np.where(parent == 0, absent, BLANK)).astype(np.int8)


def _handling(rng: np.random.Generator, trust: _Trust, setting: np.ndarray, cols: Columns) -> None:
    """What staff did after the decision, with the care the setting usually takes.

    Poor recorders write down less, and return more phones without the safeguards
    the quick guide asks for (parents agreed, images deleted, deletion recorded).
    """
    n = len(setting)
    poor = trust.poor[setting]
    decision = cols["decision"]
    referred, handled = decision == REFERRED, decision == HANDLED

    def careful(good: float, bad: float) -> np.ndarray:
        return np.where(poor, bad, good)

    risk = (cols["child_looked_after"] == 1) | (cols["high_risk_vulnerability"] == 1)
    risk |= cols["immediate_risk_of_harm"] == 1
    social = np.where(risk, 0.70, np.where(referred, 0.30, 0.08))
    cols["referred_social_care"] = _tri(rng, social, 0.04, n)
    rationale = np.where(decision == BLANK, 0.30, careful(0.93, 0.60))
    cols["rationale_recorded"] = _tri(rng, rationale, careful(0.06, 0.25), n)
    cols["parents_informed"] = _tri(rng, careful(0.90, 0.75), careful(0.06, 0.17), n)
    # Drawn from a child stream so that adding this field left every other field as it was.
    at_risk = _tri(rng.spawn(1)[0], 0.35, careful(0.30, 0.55), n)
    cols["child_at_risk_if_parents_told"] = np.where(
        cols["parents_informed"] == 0, at_risk, BLANK
    ).astype(np.int8)
    online = cols["incident_type"] == _code("incident_type", "online_sexual_contact")
    viewed = _tri(rng, np.where(online, 0.28, 0.16), 0.03, n)
    cols["image_viewed"] = viewed
    for name, good in (("viewing_authorised", 0.90), ("viewing_witnessed", 0.85),
                       ("viewing_recorded", 0.85)):  # fmt: skip
        cols[name] = _followup(rng, viewed, careful(good, good - 0.25), careful(0.06, 0.2))
    _devices(rng, poor, referred, handled, cols)
    _staff_copy(rng, poor, cols)
    _parents(rng, poor, handled, decision, cols)
    _police_outcome(rng, referred, cols)


def _devices(
    rng: np.random.Generator,
    poor: np.ndarray,
    referred: np.ndarray,
    handled: np.ndarray,
    cols: Columns,
) -> None:
    """Phones seized, handed back (police often keep them), and the return's safeguards."""
    n = len(poor)
    seized = _tri(rng, np.where(referred, 0.40, 0.22), 0.03, n)
    p_back = np.where(referred, np.where(poor, 0.50, 0.20), np.where(handled, 0.90, 0.70))
    returned = _followup(rng, seized, p_back, 0.04)
    cols["device_seized"], cols["device_returned"] = seized, returned
    for name, good, bad in (("parents_contacted_before_return", 0.90, 0.60),
                            ("images_deleted_before_return", 0.90, 0.60),
                            ("deletion_recorded", 0.85, 0.45)):  # fmt: skip
        cols[name] = _followup(rng, returned, np.where(poor, bad, good), np.where(poor, 0.3, 0.07))


def _staff_copy(rng: np.random.Generator, poor: np.ndarray, cols: Columns) -> None:
    """Now and then an image is sent to a member of staff; telling the police is the step missed."""
    n = len(poor)
    sent = _tri(rng, 0.02, 0.03, n)
    cols["image_sent_to_staff"] = sent
    for name, good in (("staff_copy_deleted", 0.85), ("staff_reported_to_manager", 0.90),
                       ("staff_reported_to_police", 0.55)):  # fmt: skip
        cols[name] = _followup(rng, sent, np.where(poor, good - 0.25, good), 0.08)


def _parents(
    rng: np.random.Generator,
    poor: np.ndarray,
    handled: np.ndarray,
    decision: np.ndarray,
    cols: Columns,
) -> None:
    """Parents unhappy that the police were not called, and whether they were told why."""
    n = len(poor)
    disagreed = _tri(rng, np.where(handled, 0.07, np.where(decision == BLANK, 0.04, 0.0)), 0.08, n)
    cols["parents_disagreed"] = disagreed
    told = _followup(rng, disagreed, np.where(poor, 0.45, 0.75), np.where(poor, 0.35, 0.15))
    cols["parents_told_can_report"] = np.where(disagreed == 1, told, BLANK).astype(np.int8)


def _police_outcome(rng: np.random.Generator, referred: np.ndarray, cols: Columns) -> None:
    """After a referral: mostly outcome 21; charges are rare and come with adults."""
    n = len(referred)
    # outcome_21, outcome_22, community_resolution, caution, charge, no_further_action, pending
    probs = [[0.58, 0.10, 0.05, 0.02, 0.005, 0.15, 0.095],
             [0.05, 0.05, 0.02, 0.08, 0.25, 0.20, 0.35]]  # fmt: skip
    outcome = _pick(rng, probs, (cols["adult_involved"] == 1).astype(np.int64))
    known = referred & ~_yes(rng, 0.12, n)
    cols["police_outcome"] = np.where(known, outcome, BLANK).astype(np.int8)


# ------------------------------------------------------------------ plants and gaps


def _apply_recording_plan(
    rng: np.random.Generator,
    trust: _Trust,
    setting: np.ndarray,
    cols: Columns,
    plan: RecordingPlan | None,
) -> None:
    """In the planned settings, a step recorded as done becomes false or blank.

    The draws are taken whatever the plan, so the rest of the log is the same with
    and without it.
    """
    n = len(setting)
    targeted = np.isin(trust.ids[setting], list(plan.settings)) if plan else np.zeros(n, bool)
    strength = plan.strength if plan else 0.0
    for name in RECORDING_FIELDS:
        dropped = targeted & (rng.random(n) < strength) & (cols[name] == 1)
        blank = rng.random(n) < 0.5
        cols[name] = np.where(dropped, np.where(blank, BLANK, 0), cols[name]).astype(np.int8)


def _blank_out(rng: np.random.Generator, trust: _Trust, setting: np.ndarray, cols: Columns) -> None:
    """Leave facts unrecorded as real logs do: a few per cent, more in poor recorders.

    An online contact's age is often not known, and then often whether they are an
    adult either. Blanking never breaks a cross-field fact: it only removes values.
    """
    n = len(setting)
    poor = trust.poor[setting]
    base = np.where(poor, 0.045, 0.012)
    online = cols["incident_type"] == _code("incident_type", "online_sexual_contact")
    scale = {"youngest_child_age": 0.6, "motivation": 1.5, "consensual": 1.5}
    for name in FACT_FIELDS:
        p = base * scale.get(name, 1.0)
        if name == "oldest_party_age":
            p = np.where(online, 0.12, base * 1.5)
        hide = _yes(rng, p, n)
        if name == "adult_involved":
            age_unknown = cols["oldest_party_age"] == BLANK
            hide |= age_unknown & online & _yes(rng, 0.5, n)
        cols[name] = np.where(hide, BLANK, cols[name]).astype(cols[name].dtype)
    for name, rate in PROTECTED_BLANK:
        hide = _yes(rng, np.where(poor, rate * 1.5, rate), n)
        cols[name] = np.where(hide, BLANK, cols[name]).astype(np.int8)


# ------------------------------------------------------------------ frames


def _to_frame(cols: Columns) -> pd.DataFrame:
    """The internal codes as the loader's dtypes, in contract order."""
    data: dict[str, pd.api.extensions.ExtensionArray | np.ndarray] = {}
    for column in contract.COLUMNS:
        values = cols[column.name]
        if column.kind == "string":
            data[column.name] = pd.array(values, dtype="string")
        elif column.kind in ("category", "ordinal"):
            dtype = pd.CategoricalDtype(list(column.codes), ordered=column.kind == "ordinal")
            data[column.name] = pd.Categorical.from_codes(values.astype(np.int64), dtype=dtype)
        elif column.kind == "int":
            data[column.name] = pd.arrays.IntegerArray(
                np.where(values == BLANK, 0, values).astype(np.int64), values == BLANK
            )
        elif column.kind == "bool":
            data[column.name] = pd.arrays.BooleanArray(values == 1, values == BLANK)
        else:
            data[column.name] = values.astype("datetime64[ns]")
    return pd.DataFrame(data, index=pd.RangeIndex(len(cols["incident_id"])))
