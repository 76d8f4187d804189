"""Recording and handling: whether the steps the policy asks staff to take, and to write
down, were taken and written down; which settings fall short more often than the trust,
whether that is changing, how quickly decisions are made, and devices given back.

Every requirement of the policy puts each incident in one state (the engine settles it
once, `states.py`): it does not apply; met; recorded as not done; not recorded (the only
gap is that nobody wrote the step down); or the record cannot tell. A share "not met" is
of the incidents a requirement is known to apply to: those the record cannot settle are
counted beside it, never read as met. Every number comes from a declared ledger table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...policy import Rule
from ..compare import compared, flagged, positions, year_on_year
from ..ledger import TOTAL, CountTable, Figure, count_text, share_text
from ..measures import ANY_GAP
from ..page import Headline, Page, Section
from ..words import NOT_RECORDED, REQUIREMENT_STATES, TERMS
from . import Context

NAME = "recording"
TITLE = "Recording and handling"
INTRO = (
    "Whether the steps the guidance asks staff to take, and to write down, were taken and "
    "written down: which steps fall short, in which settings, whether that is changing, how "
    "quickly decisions are made, and devices given back."
)
SECTIONS = (
    "summary",
    "requirements",
    "settings",
    "trend",
    "year_on_year",
    "timeliness",
    "devices",
    "scope",
)

SHORT = ("not_done", "not_recorded")  # the requirement was not met
KNOWN = ("met", *SHORT)  # the requirement is known to apply
STATES = (*KNOWN, "unsettled")  # every state of an incident a requirement may concern
ATTENTION_SHARE = 0.25  # a requirement not met in a quarter of its incidents needs a look
ATTENTION_MIN = 10  # ... when the share rests on at least this many incidents
GRID_WIDTH = 6  # at most this many requirements per settings table, so each fits A4
LABEL_ALL_UP_TO = 20  # a funnel plot names every setting up to this many, else the flagged

# Days from report to decision, in bands a reader can act on.
DAYS = "recording:days"
BANDS = (
    (0, 0, "same day"),
    (1, 1, "1 day"),
    (2, 3, "2 to 3 days"),
    (4, 7, "4 to 7 days"),
    (8, 14, "8 to 14 days"),
    (15, None, "15 days or more"),
)
NO_DATE = "no decision date"
BAND_NAMES = tuple(band[2] for band in BANDS)
WITHIN_WEEK = BAND_NAMES[:4]

# Devices given back, by what the guidance said about the case.
DEVICE_CASE = "recording:device_case"
DEVICE_COLUMN = "device_returned"
LOW_RISK = "low-risk case"
REFER = "guidance says refer"
UNDECIDED = "guidance cannot decide"
NOT_SHOWN = "low-risk conditions not all shown"
NOT_GIVEN_BACK = "no device given back"
CASES = (LOW_RISK, REFER, UNDECIDED, NOT_SHOWN)
NOT_LOW_RISK = (REFER, UNDECIDED, NOT_SHOWN)


def case_words(route: str) -> dict[str, str]:
    """What the guidance said about a case, as a table row names it."""
    return {
        LOW_RISK: "Low-risk: the setting may deal with it and every low-risk condition holds",
        REFER: f"The guidance says refer to {route}",
        UNDECIDED: "The guidance cannot decide: a field it needs is blank",
        NOT_SHOWN: "The setting may deal with it, but not every low-risk condition is shown",
    }


@dataclass
class Requirement:
    """One requirement of the policy and its table: settings by state, among the
    incidents it may concern (known to apply, or the record cannot tell)."""

    rule: Rule
    table: CountTable

    @property
    def title(self) -> str:
        return self.rule.title

    def not_met(self, row: str = TOTAL) -> Figure:
        return total_of(self.table, SHORT, row)

    def known(self, row: str = TOTAL) -> Figure:
        return total_of(self.table, KNOWN, row)

    def share(self, row: str = TOTAL) -> Figure:
        return self.table.share(SHORT, KNOWN, row=row)


@dataclass
class Devices:
    """The device tables, when the policy has a requirement about a device given back."""

    rules: list[Requirement] = field(default_factory=list)
    by_setting: CountTable | None = None  # settings by what the guidance said about the case
    by_case: dict[str, CountTable] = field(default_factory=dict)  # rule id -> case by state

    @property
    def any(self) -> bool:
        return self.by_setting is not None

    def returned(self, row: str = TOTAL) -> Figure:
        assert self.by_setting is not None
        return self.by_setting.value(row, TOTAL)

    def not_low_risk(self, row: str = TOTAL) -> Figure:
        assert self.by_setting is not None
        return total_of(self.by_setting, NOT_LOW_RISK, row)

    def not_met(self, rule_id: str, row: str = TOTAL) -> Figure:
        return total_of(self.by_case[rule_id], SHORT, row)


def total_of(table: CountTable, cols: Sequence[str], row: str = TOTAL) -> Figure:
    """The sum of published cells of one row, withheld when any of them is."""
    figures = [table.value(row, c) for c in cols]
    if any(not f.shown for f in figures):
        return Figure(None, "not shown", "rests on a number not shown")
    value = float(sum(f.value for f in figures))  # type: ignore[misc]
    return Figure(value, count_text(value))


# ---------------------------------------------------------------------------- building


def build(ctx: Context) -> Page:
    page = Page(NAME, TITLE, INTRO)
    add_categories(ctx)
    current = ctx.current
    requirements = _requirement_tables(ctx, current)
    gaps = ctx.ledger.table(
        "recording_gaps_by_setting",
        caption="Incidents with at least one requirement not met, by setting",
        rows="setting",
        cols="any_gap",
        col_order=("yes", "no"),
        where=current,
    )
    placed = positions(gaps, ANY_GAP, exact=True)
    devices = _device_tables(ctx, current, requirements)

    _summary(page, gaps, placed, requirements, devices)
    _requirements_section(ctx, page, requirements)
    _settings_section(ctx, page, gaps, placed, requirements)
    _trend_section(ctx, page)
    _year_on_year_section(ctx, page)
    _timeliness_section(ctx, page, current)
    _devices_section(ctx, page, devices)
    _scope_section(ctx, page, current, requirements)
    page.headlines.append(headline(gaps, placed, requirements, devices, ctx.route))
    return page


def add_categories(ctx: Context) -> None:
    """Days to decision in bands, and what the guidance said about a device given back:
    categories the ledger counts by, made from the rows once, before any table."""
    frame = ctx.log.frame
    reported = pd.to_datetime(frame["reported_on"], errors="coerce")
    decided = pd.to_datetime(frame["decided_on"], errors="coerce")
    days = (decided - reported).dt.days.to_numpy(dtype=float)
    ctx.add_category(DAYS, days_band(days), [*BAND_NAMES, NO_DATE])

    outcome = ctx.incidents["outcome"].astype(str).to_numpy()
    low = ctx.incidents["experimental"].astype(str).to_numpy() == "yes"
    case = np.select(
        [
            outcome == "refer_police",
            outcome == "insufficient_information",
            (outcome == "handle_in_setting") & low,
        ],
        [REFER, UNDECIDED, LOW_RISK],
        NOT_SHOWN,
    ).astype(object)
    case[~given_back(frame)] = NOT_GIVEN_BACK
    ctx.add_category(DEVICE_CASE, case, [*CASES, NOT_GIVEN_BACK])


def days_band(days: np.ndarray) -> np.ndarray:
    """Whole days from report to decision as a band's name ("no decision date" if blank)."""
    out = np.full(len(days), NO_DATE, dtype=object)
    known = ~np.isnan(days)
    for low, high, name in BANDS:
        inside = (days >= low) if high is None else (days >= low) & (days <= high)
        out[inside & known] = name
    return out


def given_back(frame: pd.DataFrame) -> np.ndarray:
    """Incidents whose record says a device was given back."""
    if DEVICE_COLUMN not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[DEVICE_COLUMN].astype("boolean").fillna(False).to_numpy(dtype=bool)


def device_rules(policy: Any) -> list[Rule]:
    """The policy's requirements about a device given back: those whose `applies` (or,
    without one, whose condition) reads whether a device was given back."""
    return [
        rule
        for rule in policy.recording
        if DEVICE_COLUMN in (rule.applies or rule.condition).columns()
    ]


def _requirement_tables(ctx: Context, current: np.ndarray) -> list[Requirement]:
    out = []
    for rule in ctx.log.policy.recording:
        column = f"requirement:{rule.id}"
        may_apply = ctx.incidents[column].astype(str).to_numpy() != "not_applicable"
        table = ctx.ledger.table(
            f"recording_{rule.id}_by_setting",
            caption=f"Incidents “{rule.title}” may concern, by setting and whether it was met",
            rows="setting",
            cols=column,
            col_order=STATES,
            where=current & may_apply,
        )
        out.append(Requirement(rule, table))
    return out


def _device_tables(ctx: Context, current: np.ndarray, requirements: list[Requirement]) -> Devices:
    ids = {rule.id for rule in device_rules(ctx.log.policy)}
    rules = [r for r in requirements if r.rule.id in ids]
    if not rules:
        return Devices()
    back = current & (ctx.incidents[DEVICE_CASE].astype(str).to_numpy() != NOT_GIVEN_BACK)
    by_setting = ctx.ledger.table(
        "recording_devices_by_setting",
        caption="Devices given back, by setting and what the guidance said about the case",
        rows="setting",
        cols=DEVICE_CASE,
        col_order=CASES,
        where=back,
    )
    by_case = {
        r.rule.id: ctx.ledger.table(
            f"recording_devices_{r.rule.id}",
            caption=f"Devices given back, by what the guidance said about the case and "
            f"whether “{r.title}” was met",
            rows=DEVICE_CASE,
            row_order=CASES,
            cols=f"requirement:{r.rule.id}",
            col_order=STATES,
            where=back,
        )
        for r in rules
    }
    return Devices(rules, by_setting, by_case)


# ---------------------------------------------------------------------------- summary


def _summary(
    page: Page,
    gaps: CountTable,
    placed: pd.DataFrame,
    requirements: list[Requirement],
    devices: Devices,
) -> None:
    section = page.section("summary", "Summary")
    incidents = gaps.value(TOTAL, TOTAL)
    with_gap = gaps.value(TOTAL, "yes")
    share = gaps.share("yes", ("yes", "no"))
    above = flagged(placed, ANY_GAP)
    figures = [
        {"label": "incidents", "value": incidents.text},
        {"label": "with a requirement not met", "value": with_gap.text},
        {"label": "share with a requirement not met", "value": share.text},
        {
            "label": "settings above the limits",
            "value": str(len(above["above_998"]) + len(above["above_95"])),
        },
    ]
    if devices.any:
        figures.append(
            {
                "label": "devices given back when not shown to be low risk",
                "value": devices.not_low_risk().text,
            }
        )
    section.add("figures", rows=figures)
    sentences = [gap_sentence(incidents, with_gap, share)]
    most = most_often_not_met(requirements, 2)
    if most:
        named = ", then ".join(f"“{r.title}” ({r.share().text} of {r.known().text})" for r in most)
        sentences.append(
            f"Most often not met, as a share of the incidents each is known to apply to: {named}."
        )
    elif all_met(requirements):
        sentences.append("Every requirement was met wherever the record shows it applied.")
    sentences.append(settings_sentence(placed))
    if devices.any:
        sentences.append(devices_sentence(devices))
    section.say(" ".join(sentences))


def gap_sentence(incidents: Figure, with_gap: Figure, share: Figure) -> str:
    if incidents.shown and incidents.value == 0:
        return "There are no incidents in this period."
    if with_gap.shown and with_gap.value == 0:
        return (
            f"None of the {incidents.text} incidents fell short of any recording or handling "
            "requirement of the policy."
        )
    if not with_gap.shown:
        return (
            f"Of {incidents.text} incidents, the number that fell short of a recording or "
            "handling requirement is not shown, to protect small numbers."
        )
    return (
        f"Of {incidents.text} incidents, {with_gap.text} ({share.text}) fell short of at least "
        "one recording or handling requirement of the policy."
    )


def most_often_not_met(requirements: Sequence[Requirement], top: int) -> list[Requirement]:
    """Requirements with a shown share above nothing, largest first."""
    shown = [(r, r.share()) for r in requirements]
    shown = [(r, s) for r, s in shown if s.shown and s.value > 0]  # type: ignore[operator]
    shown.sort(key=lambda pair: -pair[1].value)  # type: ignore[operator]
    return [r for r, _ in shown[:top]]


def all_met(requirements: Sequence[Requirement]) -> bool:
    """Only when every requirement's shortfall is shown, and is nothing."""
    figures = [r.not_met() for r in requirements]
    return all(f.shown and f.value == 0 for f in figures)


def settings_sentence(placed: pd.DataFrame) -> str:
    """Which settings lie above the funnel's limits, and how many could be compared."""
    above = flagged(placed, ANY_GAP)
    k, n = compared(placed)
    theta = placed.attrs.get("theta", float("nan"))
    trust = share_text(theta) if np.isfinite(theta) else "not shown"
    parts = []
    if above["above_998"]:
        parts.append(
            f"{_names(above['above_998'])} had incidents with a requirement not met more often "
            f"than the trust as a whole ({trust}), by more than chance would explain."
        )
    if above["above_95"]:
        verb = "is" if len(above["above_95"]) == 1 else "are"
        parts.append(
            f"{_names(above['above_95'])} {verb} above the inner limit only: worth watching, "
            "as about one setting in forty lands there by chance."
        )
    if not parts:
        if n and k == n:
            parts.append(
                f"No setting is above the limits: all {n} settings could be compared with the "
                f"trust's share ({trust})."
            )
        else:
            parts.append(
                f"{k} of {n} settings could be compared with the trust's share ({trust}); none "
                "of them is above the limits."
            )
    elif k < n:
        parts.append(f"{k} of {n} settings could be compared.")
    return " ".join(parts)


def devices_sentence(devices: Devices) -> str:
    returned = devices.returned()
    if returned.shown and returned.value == 0:
        return "No device was recorded as given back."
    not_low = devices.not_low_risk()
    figures = [returned, not_low, *(devices.not_met(r.rule.id) for r in devices.rules)]
    if not any(f.shown for f in figures[1:]):
        return "The figures on devices given back are not shown, to protect small numbers."
    said = [f"{not_low.text} were in cases not shown to be low risk"] if not_low.shown else []
    said += [
        f"“{r.title}” was not met for {f.text}"
        for r, f in zip(devices.rules, figures[2:], strict=True)
        if f.shown
    ]
    start = f"Of {returned.text} devices given back" if returned.shown else "Of devices given back"
    text = f"{start}, " + "; ".join(said) + "."
    if not all(f.shown for f in figures):
        text += " Some of these figures are not shown, to protect small numbers."
    return text


def headline(
    gaps: CountTable,
    placed: pd.DataFrame,
    requirements: list[Requirement],
    devices: Devices,
    route: str,
) -> Headline:
    """What the front page says: where recording stands, and what to look at."""
    incidents = gaps.value(TOTAL, TOTAL)
    with_gap = gaps.value(TOTAL, "yes")
    share = gaps.share("yes", ("yes", "no"))
    above = flagged(placed, ANY_GAP)
    rates = placed.set_index("unit")["rate"]
    theta = placed.attrs.get("theta", float("nan"))
    look = []
    if above["above_998"]:
        shares = ", ".join(f"{s} {share_text(rates[s])}" for s in above["above_998"])
        look.append(
            f"{_names(above['above_998'])}: a requirement not met in more incidents than the "
            f"trust's {share_text(theta)} by more than chance ({shares}); look at which "
            "requirement each falls short of."
        )
    if above["above_95"]:
        look.append(f"{_names(above['above_95'])}: above the inner limit, worth watching.")
    large = large_shortfalls(requirements)
    for r in large[:2]:
        look.append(
            f"“{r.title}”: not met in {r.share().text} of the {r.known().text} incidents it is "
            "known to apply to."
        )
    if devices.any:
        refer = devices.by_setting.value(TOTAL, REFER)  # type: ignore[union-attr]
        if refer.shown and refer.value > 0:
            look.append(
                f"{refer.text} devices were given back in cases the guidance says should go to "
                f"{route} (see Devices given back for which settings)."
            )
    return Headline(
        area="Recording and handling",
        status=gap_sentence(incidents, with_gap, share),
        look_at=look,
        section="settings" if above["above_998"] or above["above_95"] else "requirements",
        attention=bool(above["above_998"] or large),
    )


def large_shortfalls(requirements: Sequence[Requirement]) -> list[Requirement]:
    """Requirements not met in at least ATTENTION_SHARE of at least ATTENTION_MIN incidents."""
    out = []
    for r in most_often_not_met(requirements, len(requirements)):
        known = r.known()
        if r.share().value >= ATTENTION_SHARE and known.shown and known.value >= ATTENTION_MIN:  # type: ignore[operator]
            out.append(r)
    return out


# ---------------------------------------------------------------------------- requirements


def _requirements_section(ctx: Context, page: Page, requirements: list[Requirement]) -> None:
    section = page.section("requirements", "Each requirement")
    if not requirements:
        section.say("The policy in use has no recording or handling requirements.")
        return
    most = most_often_not_met(requirements, 1)
    if most:
        worst = most[0]
        section.say(
            f"Most often not met: “{worst.title}”, in {worst.share().text} of the "
            f"{worst.known().text} incidents it is known to apply to "
            f"({worst.table.value(TOTAL, 'not_done').text} recorded as not done, "
            f"{worst.table.value(TOTAL, 'not_recorded').text} not recorded)."
        )
    clean = [r for r in requirements if r.not_met().shown and r.not_met().value == 0]
    if clean:
        section.say(
            "Not found unmet in any incident: "
            + "; ".join(f"“{r.title}”" for r in clean)
            + " (see the table for how many incidents each was known to apply to)."
        )
    rows = []
    for r in requirements:
        known = r.known()
        rows.append(
            {
                "requirement": r.title,
                "concerns": r.table.value(TOTAL, TOTAL).text,
                **{state: r.table.value(TOTAL, state).text for state in STATES},
                "share": "–" if known.shown and known.value == 0 else r.share().text,
            }
        )
    section.add(
        "table",
        caption="Each requirement of the policy: the incidents it may concern and whether it "
        "was met",
        columns=[
            {"key": "requirement", "label": "Requirement"},
            {"key": "concerns", "label": "Incidents it may concern", "align": "right"},
            *(
                {"key": state, "label": REQUIREMENT_STATES[state], "align": "right"}
                for state in STATES
            ),
            {"key": "share", "label": "Share not met", "align": "right"},
        ],
        rows=rows,
        note="Not met means recorded as not done or not recorded. The share is of the "
        "incidents the requirement is known to apply to (met, recorded as not done, not "
        "recorded); incidents whose record cannot tell are left out of it, never counted as "
        "met. “–”: no incident it is known to apply to.",
        name="recording_requirements",
    )
    data = pd.DataFrame(
        [{"requirement": r.title, "share": r.share().value} for r in requirements],
        columns=["requirement", "share"],
    ).dropna()
    if len(data):
        from ..charts import bar_chart

        section.add(
            "chart",
            svg=ctx.chart(
                bar_chart(
                    data,
                    "requirement",
                    "share",
                    "How often each requirement was not met",
                    "Share of the incidents it is known to apply to",
                )
            ),
            alt="Bar chart: for each requirement of the policy, the share of the incidents it "
            "is known to apply to in which it was not met.",
            caption="Share of the incidents each requirement is known to apply to in which it "
            "was not met.",
        )


# ---------------------------------------------------------------------------- settings


def _settings_section(
    ctx: Context,
    page: Page,
    gaps: CountTable,
    placed: pd.DataFrame,
    requirements: list[Requirement],
) -> None:
    section = page.section("settings", "Settings compared")
    section.say(settings_sentence(placed))
    not_placed = _not_placed(placed, gaps)
    if not_placed:
        section.say(not_placed)
    shown = placed[placed["position"] != "not_shown"]
    if len(shown):
        section.add(
            "chart",
            svg=ctx.chart(_funnel(placed)),
            alt="Funnel plot: each setting's share of incidents with a requirement not met, "
            "against its number of incidents, with the trust's share and the limits chance "
            "allows around it.",
            caption="Each setting's share of incidents with at least one requirement not met. "
            "The green line is the trust's share; points above the dashed lines are above the "
            "limits.",
        )
    words = {
        "above_998": "above the outer limit: more often, beyond chance",
        "above_95": "above the inner limit: worth watching",
        "inside": "within the limits",
        "below_95": "below the inner limit: less often",
        "below_998": "below the outer limit: less often, beyond chance",
        "not_shown": "not compared",
    }
    rows = []
    for record in placed.itertuples():
        unit = str(record.unit)
        rows.append(
            {
                "setting": unit,
                "incidents": gaps.value(unit, TOTAL).text,
                "with_gap": gaps.value(unit, "yes").text,
                "share": gaps.share("yes", ("yes", "no"), row=unit).text,
                "position": words[str(record.position)],
            }
        )
    rows.append(
        {
            "setting": "All settings",
            "incidents": gaps.value(TOTAL, TOTAL).text,
            "with_gap": gaps.value(TOTAL, "yes").text,
            "share": gaps.share("yes", ("yes", "no")).text,
            "position": "",
        }
    )
    section.add(
        "table",
        caption="Each setting's incidents with at least one requirement not met",
        columns=[
            {"key": "setting", "label": "Setting"},
            {"key": "incidents", "label": "Incidents", "align": "right"},
            {"key": "with_gap", "label": "With a requirement not met", "align": "right"},
            {"key": "share", "label": "Share", "align": "right"},
            {"key": "position", "label": "Against the trust's share"},
        ],
        rows=rows,
        note="How to read this: a setting's share is set against the trust's own share over "
        "all its incidents. Small settings swing more by chance, so their limits are wider. "
        "The limits are exact binomial ones (Spiegelhalter's funnel plot): the inner limit is "
        "where 95% of settings recording as well as the trust would fall, the outer one "
        "99.8%. No allowance is made for settings simply differing: every setting is asked "
        "to record to the same standard. The limits zigzag because counts are whole "
        "numbers. Settings see different kinds of incident, which this does not adjust for; "
        "the grid below shows which requirement each falls short of.",
        name="recording_by_setting",
    )
    _grid(section, gaps, requirements)


def _not_placed(placed: pd.DataFrame, gaps: CountTable) -> str:
    """Why settings could not be compared, from the published figures."""
    missing = placed[placed["position"] == "not_shown"]["unit"].astype(str).tolist()
    if not missing:
        return ""
    empty = [s for s in missing if gaps.value(s, TOTAL).shown and gaps.value(s, TOTAL).value == 0]
    hidden = [s for s in missing if s not in empty]
    parts = []
    if empty:
        parts.append(f"{_names(empty)} had no incidents in this period")
    if hidden:
        parts.append(f"the figures of {_names(hidden, capital=False)} are not shown")
    return "Not compared: " + "; ".join(parts) + "."


def _funnel(placed: pd.DataFrame) -> Any:
    """The funnel plot: limits drawn where the words put them (`critical_limits`)."""
    from ..charts import funnel_chart
    from ..compare import critical_limits

    units = placed[placed["position"] != "not_shown"].copy()
    if len(placed) > LABEL_ALL_UP_TO:
        named = units["position"].isin(["above_998", "above_95"])
        units["unit"] = np.where(named, units["unit"], "")
    units.attrs = dict(placed.attrs)
    theta = float(placed.attrs["theta"])
    top = max(int(units["n"].max()), 2)
    grid = np.unique(np.geomspace(1, top, min(top, 400)).round().astype(int))
    curve = pd.DataFrame({"n": grid})
    for level, label in ((0.95, "95"), (0.998, "998")):
        low, high = critical_limits(theta, grid, level)
        curve[f"lower{label}"], curve[f"upper{label}"] = low, high
    return funnel_chart(
        units,
        curve,
        "Incidents with a requirement not met, by setting",
        "Share of incidents with a requirement not met",
    )


def _grid(section: Section, gaps: CountTable, requirements: list[Requirement]) -> None:
    """Settings by requirement: the share not met, split so each table fits A4."""
    if not requirements:
        return
    settings = [s for s in gaps.row_order]
    section.say(
        "Which requirement each setting falls short of: the share not met of the incidents it "
        "is known to apply to there, with that number of incidents in brackets."
    )
    parts = -(-len(requirements) // GRID_WIDTH)
    width = -(-len(requirements) // parts)  # tables of even width: 7 is 4 and 3, not 6 and 1
    for start in range(0, len(requirements), width):
        part = requirements[start : start + width]
        columns = [{"key": "setting", "label": "Setting"}]
        columns += [
            {"key": f"r{k}", "label": r.title, "align": "right"} for k, r in enumerate(part)
        ]
        rows = []
        for setting, label in [*((s, s) for s in settings), (TOTAL, "All settings")]:
            row = {"setting": label}
            for k, r in enumerate(part):
                row[f"r{k}"] = grid_cell(r, setting)
            rows.append(row)
        first, last = start + 1, start + len(part)
        which = "" if parts == 1 else f" (requirements {first} to {last})"
        section.add(
            "table",
            caption=f"Share not met, by setting and requirement{which}",
            columns=columns,
            rows=rows,
            note="“–”: the requirement is not known to apply to any incident in the setting.",
            name=f"recording_grid_{start // width + 1}",
        )


def share_cell(share: Figure, of: Figure) -> str:
    """A share with how many incidents it is of: "40% (15)"; "–" of none."""
    if of.shown and of.value == 0:
        return "–"
    if not share.shown:
        return "not shown"
    return f"{share.text} ({of.text})"


def grid_cell(requirement: Requirement, row: str) -> str:
    known = requirement.known(row)
    return share_cell(requirement.share(row), known)


# ---------------------------------------------------------------------------- over time


def _years(ctx: Context) -> list[str]:
    """The academic years of the log, from the year category (the same in any decoy)."""
    categories = ctx.incidents["year"].cat.categories
    return sorted(str(y) for y in categories if str(y) != NOT_RECORDED)


def _trend_section(ctx: Context, page: Page) -> None:
    section = page.section("trend", "Term by term")
    years = _years(ctx)
    year_column = ctx.incidents["year"].astype(str).to_numpy()
    rows = []
    for year in years:
        table = ctx.ledger.table(
            f"recording_gaps_by_term_{year}",
            caption=f"Incidents with at least one requirement not met, by term of {year}",
            rows="term",
            row_order=TERMS,
            cols="any_gap",
            col_order=("yes", "no"),
            where=year_column == year,
        )
        for term in TERMS:
            k, n = table.value(term, "yes"), table.value(term, TOTAL)
            rows.append(
                {
                    "year": year,
                    "period": f"{year} {term}",
                    "k": k,
                    "n": n,
                    "share": table.share("yes", ("yes", "no"), row=term),
                }
            )
    chosen = ctx.spec.period
    if chosen:
        section.say(
            f"The chosen year is {chosen}; the other years of the log are shown for context, "
            "so the trend can be read."
        )
    dated = [r for r in rows if r["n"].shown and r["n"].value > 0 and r["share"].shown]
    if dated:
        section.say(_trend_sentence(dated, chosen))
        section.add(
            "chart",
            svg=ctx.chart(_trend_chart(dated, chosen)),
            alt="Line chart by term of the share of incidents with at least one requirement "
            "not met, with 95% intervals.",
            caption="Share of incidents with a requirement not met, term by term, with the "
            "range chance allows (95% interval)."
            + (f" The chosen year {chosen} is in blue; other years are context." if chosen else ""),
        )
    section.add(
        "table",
        caption="Incidents with at least one requirement not met, term by term"
        + (" (every year of the log, for context)" if chosen else ""),
        columns=[
            {"key": "period", "label": "Term"},
            {"key": "n", "label": "Incidents", "align": "right"},
            {"key": "k", "label": "With a requirement not met", "align": "right"},
            {"key": "share", "label": "Share", "align": "right"},
        ],
        rows=[
            {
                "period": r["period"]
                + (" (chosen year)" if chosen and r["year"] == chosen else ""),
                "n": r["n"].text,
                "k": r["k"].text,
                "share": r["share"].text,
            }
            for r in rows
        ],
        name="recording_by_term",
    )


def _trend_sentence(dated: list[dict[str, Any]], chosen: str | None) -> str:
    """The chosen year's terms; without one, the first term against the last."""
    if chosen:
        terms = [r for r in dated if r["year"] == chosen]
        if not terms:
            return f"No term of {chosen} has incidents to show."
        said = _and([f"{r['share'].text} in {r['period'].split()[1]}" for r in terms])
        return (
            f"In {chosen}, the share of incidents with at least one requirement not met was {said}."
        )
    first, last = dated[0], dated[-1]
    if first is last:
        return f"The share of incidents with a requirement not met was {first['share'].text}."
    return (
        f"The share of incidents with at least one requirement not met was "
        f"{first['share'].text} in {first['period']} and {last['share'].text} in "
        f"{last['period']}."
    )


def _trend_chart(rows: list[dict[str, Any]], chosen: str | None) -> Any:
    from ...stats import wilson_interval
    from ..charts import context_trend_chart

    k = np.array([r["k"].value for r in rows], dtype=float)
    n = np.array([r["n"].value for r in rows], dtype=float)
    low, high = wilson_interval(k, n)
    data = pd.DataFrame(
        {
            "period": [r["period"] for r in rows],
            "rate": k / n,
            "low": low,
            "high": high,
            "part": [
                "chosen year" if (chosen is None or r["year"] == chosen) else CONTEXT for r in rows
            ],
        }
    )
    return context_trend_chart(
        data,
        "Incidents with a requirement not met, term by term",
        "Share of incidents",
    )


CONTEXT = "other years, for context"


def previous_year(year: str) -> str:
    start = int(year[:4]) - 1
    return f"{start}-{(start + 1) % 100:02d}"


def _year_on_year_section(ctx: Context, page: Page) -> None:
    section = page.section("year_on_year", "This year against last year")
    years = _years(ctx)
    now = ctx.spec.period or (years[-1] if years else None)
    before = previous_year(now) if now else None
    if not now or before not in years:
        section.say(
            "The log holds no academic year before "
            + (f"{now}" if now else "the chosen one")
            + ", so no setting can be compared with its own previous year."
        )
        return
    year_column = ctx.incidents["year"].astype(str).to_numpy()
    tables = {
        year: ctx.ledger.table(
            f"recording_gaps_by_setting_{year}",
            caption=f"Incidents with at least one requirement not met, by setting, {year}",
            rows="setting",
            cols="any_gap",
            col_order=("yes", "no"),
            where=year_column == year,
        )
        for year in (before, now)
    }
    changes = year_on_year(tables[now], tables[before], ANY_GAP)
    if not ctx.spec.period:
        section.say(
            f"The latest academic year in the log, {now}, against {before} (the rest of the "
            "page covers every year)."
        )
    trust = changes[changes["setting"] == TOTAL].iloc[0]
    sentences = []
    if np.isfinite(trust["change"]):
        direction = "rose" if trust["change"] > 0 else "fell" if trust["change"] < 0 else "held"
        sentences.append(
            f"Across the trust, the share of incidents with a requirement not met {direction} "
            f"from {share_text(trust['rate_before'])} to {share_text(trust['rate_now'])}"
            + (
                ", more than chance would explain."
                if trust["beyond_chance"]
                else ", within what chance can produce."
            )
        )
    settings = changes[changes["setting"] != TOTAL]
    worse = settings[settings["beyond_chance"] & (settings["change"] > 0)]["setting"].tolist()
    better = settings[settings["beyond_chance"] & (settings["change"] < 0)]["setting"].tolist()
    if worse:
        sentences.append(
            f"{_names(worse)} had a requirement not met in more incidents than the year "
            "before, by more than chance would explain."
        )
    if better:
        sentences.append(f"{_names(better)} improved by more than chance would explain.")
    tested = int(np.isfinite(settings["change"].to_numpy(dtype=float)).sum())
    if not worse and not better:
        sentences.append(
            f"No setting changed by more than chance would explain ({tested} of "
            f"{len(settings)} settings had figures in both years)."
        )
    section.say(" ".join(sentences))
    rows = []
    for record in changes.itertuples():
        unit = str(record.setting)
        rows.append(
            {
                "setting": "All settings" if unit == TOTAL else unit,
                "before": _k_of_n(tables[before], unit),
                "now": _k_of_n(tables[now], unit),
                "change": _points(record.change),
                "beyond": (
                    ("yes" if record.beyond_chance else "no") if np.isfinite(record.change) else "–"
                ),
            }
        )
    section.add(
        "table",
        caption=f"Share of incidents with a requirement not met: {now} against {before}",
        columns=[
            {"key": "setting", "label": "Setting"},
            {"key": "before", "label": f"{before}", "align": "right"},
            {"key": "now", "label": f"{now}", "align": "right"},
            {"key": "change", "label": "Change", "align": "right"},
            {"key": "beyond", "label": "More than chance?"},
        ],
        rows=rows,
        note="How to read this: each year shows the share and, in brackets, how many incidents "
        "it is of. The change is in percentage points. “More than chance” means Fisher's exact "
        "test gives p below 0.05: about one setting in twenty will show such a change by "
        "chance alone. “–”: no incidents, or a figure not shown, in one of the years.",
        name="recording_year_on_year",
    )


def _k_of_n(table: CountTable, row: str) -> str:
    return share_cell(table.share("yes", ("yes", "no"), row=row), table.value(row, TOTAL))


def _points(change: float) -> str:
    if not np.isfinite(change):
        return "–"
    points = round(100 * change)
    if not points:
        return "no change"
    unit = "point" if abs(points) == 1 else "points"
    return f"{'up' if points > 0 else 'down'} {abs(points)} {unit}"


# ---------------------------------------------------------------------------- timeliness


def band_of(counts: Sequence[Figure], fraction: float) -> str | None:
    """The band holding the decision at `fraction` of the way through the dated ones
    (0.5: the middle decision, the lower one of two), from published counts; None when a
    count is not shown or nothing is dated."""
    if any(not f.shown for f in counts):
        return None
    values = [f.value for f in counts]
    total = sum(values)  # type: ignore[arg-type]
    if not total:
        return None
    rank = max(1, int(np.ceil(fraction * total)))
    running = 0.0
    for name, value in zip(BAND_NAMES, values, strict=True):
        running += value  # type: ignore[operator]
        if running >= rank:
            return name
    return None  # pragma: no cover - the ranks add up to the total


def _timeliness_section(ctx: Context, page: Page, current: np.ndarray) -> None:
    section = page.section("timeliness", "How quickly decisions are made")
    table = ctx.ledger.table(
        "recording_days_to_decision_by_setting",
        caption="Incidents by setting and days from the report to the decision",
        rows="setting",
        cols=DAYS,
        col_order=(*BAND_NAMES, NO_DATE),
        where=current,
    )

    def summary_of(row: str) -> dict[str, str]:
        counts = [table.value(row, band) for band in BAND_NAMES]
        middle = band_of(counts, 0.5)
        return {
            "dated": total_of(table, BAND_NAMES, row).text,
            "middle": middle or ("–" if all(f.shown for f in counts) else "not shown"),
            "week": table.share(WITHIN_WEEK, BAND_NAMES, row=row).text,
            "undated": table.value(row, NO_DATE).text,
        }

    trust = summary_of(TOTAL)
    counts = [table.value(TOTAL, band) for band in BAND_NAMES]
    middle = band_of(counts, 0.5)
    if middle:
        section.say(
            f"Across the trust, the middle decision was made {_band_words(middle)} after the "
            f"report, and {trust['week']} of the {trust['dated']} dated decisions within a "
            f"week. {trust['undated']} incidents have no decision date: most are still "
            "open, some were decided without the date being written down."
        )
    else:
        section.say(
            f"{trust['dated']} decisions are dated; {trust['undated']} incidents have no "
            "decision date."
        )
    slow = [
        s
        for s in table.row_order
        if band_of([table.value(s, band) for band in BAND_NAMES], 0.5) in BAND_NAMES[4:]
    ]
    if slow:
        section.say(f"Settings where the middle decision took more than a week: {_names(slow)}.")
    rows = [{"setting": s, **summary_of(s)} for s in table.row_order]
    rows.append({"setting": "All settings", **trust})
    section.add(
        "table",
        caption="How quickly each setting decided",
        columns=[
            {"key": "setting", "label": "Setting"},
            {"key": "dated", "label": "Decisions dated", "align": "right"},
            {"key": "middle", "label": "The middle decision took"},
            {"key": "week", "label": "Decided within a week", "align": "right"},
            {"key": "undated", "label": "No decision date", "align": "right"},
        ],
        rows=rows,
        note="The middle decision is the median: half the dated decisions took no longer. It "
        "is given as the band it falls in, worked out from the counts below.",
        name="recording_timeliness",
    )
    headings = {name: name.capitalize() for name in (*BAND_NAMES, NO_DATE)}
    section.add(
        "table",
        caption="Incidents by days from the report to the decision",
        columns=[
            {"key": "setting", "label": "Setting"},
            *({"key": b, "label": headings[b], "align": "right"} for b in (*BAND_NAMES, NO_DATE)),
        ],
        rows=[
            {
                "setting": "All settings" if s == TOTAL else s,
                **{b: table.value(s, b).text for b in (*BAND_NAMES, NO_DATE)},
            }
            for s in [*table.row_order, TOTAL]
        ],
        name="recording_days_to_decision",
    )


def _band_words(band: str) -> str:
    return "on the same day" if band == "same day" else f"within {band}"


# ---------------------------------------------------------------------------- devices


def _devices_section(ctx: Context, page: Page, devices: Devices) -> None:
    section = page.section("devices", "Devices given back")
    if not devices.any:
        section.say(
            "The policy in use has no requirement about a device given back, so devices are "
            "not looked at here."
        )
        return
    assert devices.by_setting is not None
    words = case_words(ctx.route)
    section.say(devices_sentence(devices))
    refer = devices.by_setting.value(TOTAL, REFER)
    if refer.shown and refer.value > 0:
        section.say(
            f"In {refer.text} of them the guidance says the case should go to {ctx.route}: "
            "a device there may be evidence."
        )
    titles = "; ".join(f"“{r.title}”" for r in devices.rules)
    section.say(f"The policy's requirements about a device given back: {titles}.")
    table = devices.by_setting
    columns = [
        {"key": "setting", "label": "Setting"},
        {"key": "returned", "label": "Devices given back", "align": "right"},
        {"key": "not_low", "label": "Not shown to be low risk", "align": "right"},
    ]
    columns += [
        {"key": f"r{k}", "label": f"“{r.title}” not met", "align": "right"}
        for k, r in enumerate(devices.rules)
    ]
    rows = []
    for setting in [*table.row_order, TOTAL]:
        row = {
            "setting": "All settings" if setting == TOTAL else setting,
            "returned": devices.returned(setting).text,
            "not_low": devices.not_low_risk(setting).text,
        }
        for k, r in enumerate(devices.rules):
            # the requirement's own table by setting counts the same incidents
            row[f"r{k}"] = r.not_met(setting).text
        rows.append(row)
    section.add(
        "table",
        caption="Devices given back, by setting",
        columns=columns,
        rows=rows,
        note="A case is low risk when the guidance lets the setting deal with it and every "
        "low-risk condition of the policy is shown to hold. Not met means recorded as not done "
        "or not recorded.",
        name="recording_devices_by_setting",
    )
    columns = [
        {"key": "case", "label": "What the guidance said about the case"},
        {"key": "returned", "label": "Devices given back", "align": "right"},
    ]
    for k, r in enumerate(devices.rules):
        columns.append({"key": f"s{k}", "label": f"“{r.title}” not met", "align": "right"})
        columns.append({"key": f"u{k}", "label": "Cannot tell", "align": "right"})
    rows = []
    for case in [*CASES, TOTAL]:
        row = {
            "case": "All devices given back" if case == TOTAL else words[case],
            "returned": table.value(TOTAL, case).text,
        }
        for k, r in enumerate(devices.rules):
            by_case = devices.by_case[r.rule.id]
            row[f"s{k}"] = total_of(by_case, SHORT, case).text
            row[f"u{k}"] = by_case.value(case, "unsettled").text
        rows.append(row)
    section.add(
        "table",
        caption="Devices given back, by what the guidance said about the case",
        columns=columns,
        rows=rows,
        note="“Cannot tell”: the record does not say enough to judge the requirement.",
        name="recording_devices_by_case",
    )


# ---------------------------------------------------------------------------- scope


def _scope_section(
    ctx: Context, page: Page, current: np.ndarray, requirements: list[Requirement]
) -> None:
    section = page.section("scope", "Incidents the guidance is written for")
    scope = ctx.log.policy.scope
    if scope is None:
        section.say(
            "The policy in use asks the same of every incident, so incidents are not split here."
        )
        return
    inside, outside = scope.title, scope.outside
    gaps = ctx.ledger.table(
        "recording_gaps_by_scope",
        caption=f"Incidents with at least one requirement not met: {inside} and {outside}",
        rows="in_scope",
        row_order=("yes", "no", NOT_RECORDED),
        cols="any_gap",
        col_order=("yes", "no"),
        where=current,
    )
    section.say(f"The guidance is written for {inside}; {outside} are shown apart.")
    unknown = gaps.value(NOT_RECORDED, TOTAL)
    parts = [
        f"{_capital(inside)}: {gaps.value('yes', 'yes').text} of {gaps.value('yes', TOTAL).text} "
        f"({gaps.share('yes', ('yes', 'no'), row='yes').text}) had a requirement not met",
        f"{outside}: {gaps.value('no', 'yes').text} of {gaps.value('no', TOTAL).text} "
        f"({gaps.share('yes', ('yes', 'no'), row='no').text})",
    ]
    text = "; ".join(parts) + "."
    if not (unknown.shown and unknown.value == 0):
        text += f" For {unknown.text} incidents the record does not say which."
    section.say(text)
    rows = []
    for r in requirements:
        column = f"requirement:{r.rule.id}"
        may_apply = ctx.incidents[column].astype(str).to_numpy() != "not_applicable"
        table = ctx.ledger.table(
            f"recording_{r.rule.id}_by_scope",
            caption=f"Incidents “{r.title}” may concern: {inside} and {outside}",
            rows="in_scope",
            row_order=("yes", "no", NOT_RECORDED),
            cols=column,
            col_order=STATES,
            where=current & may_apply,
        )
        rows.append(
            {
                "requirement": r.title,
                "inside": _scope_cell(table, "yes"),
                "outside": _scope_cell(table, "no"),
            }
        )
    section.add(
        "table",
        caption=f"Share not met: {inside} and {outside}",
        columns=[
            {"key": "requirement", "label": "Requirement"},
            {"key": "inside", "label": _capital(inside), "align": "right"},
            {"key": "outside", "label": _capital(outside), "align": "right"},
        ],
        rows=rows,
        note="Each cell is the share not met of the incidents the requirement is known to "
        "apply to, with that number in brackets. “–”: it is not known to apply to any. From "
        f"the policy: {scope.description}",
        name="recording_by_scope",
    )


def _scope_cell(table: CountTable, row: str) -> str:
    return share_cell(table.share(SHORT, KNOWN, row=row), total_of(table, KNOWN, row))


# ---------------------------------------------------------------------------- words


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _and(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _names(items: Sequence[str], *, capital: bool = True) -> str:
    word = "Setting" if len(items) == 1 else "Settings"
    return f"{word if capital else word.lower()} {_and(items)}"
