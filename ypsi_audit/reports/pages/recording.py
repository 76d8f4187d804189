"""Recording and handling: whether the steps the policy asks staff to take, and to write
down, were taken and written down; which settings fall short more often than the trust,
whether that is changing, how quickly decisions are made, and devices given back.

The page's tables and categories are declared in `recording_figures`, the sections over
time in `recording_time`; every number comes from a declared ledger table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..compare import (
    ONE_SETTING,
    compared,
    could_be_above,
    doubts,
    flagged,
    positions,
)
from ..ledger import TOTAL, CountTable, Figure, none_shown, of_the, share_text
from ..measures import ANY_GAP
from ..page import Headline, Page, Section
from ..words import (
    CONTEXT_ONLY,
    NOT_RECORDED,
    REQUIREMENT_STATES,
    empty_headline,
    no_incidents,
    shown_larger,
    zero_caveat,
    zero_note,
)
from . import Context
from .recording_figures import (
    CASES,
    KNOWN,
    REFER,
    SHORT,
    STATES,
    Devices,
    Requirement,
    add_categories,
    and_list,
    capital,
    case_words,
    device_tables,
    equals,
    names,
    requirement_tables,
    share_cell,
    total_of,
)
from .recording_time import timeliness_section, trend_section, year_on_year_section

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

ATTENTION_SHARE = 0.25  # a requirement not met in a quarter of its incidents needs a look
ATTENTION_MIN = 10  # ... when the share rests on at least this many incidents
GRID_WIDTH = 6  # at most this many requirements per settings table, so each fits A4
LABEL_ALL_UP_TO = 20  # a funnel plot names every setting up to this many, else the flagged

# ---------------------------------------------------------------------------- building


def build(ctx: Context) -> Page:
    page = Page(NAME, TITLE, INTRO)
    add_categories(ctx)
    current = ctx.current
    requirements = requirement_tables(ctx, current)
    gaps = ctx.ledger.table(
        "recording_gaps_by_setting",
        caption="Incidents with at least one requirement not met, by setting",
        rows="setting",
        cols="any_gap",
        col_order=("yes", "no"),
        where=current,
    )
    published = ctx.spec.threshold if ctx.spec.publication else None
    placed = positions(gaps, ANY_GAP, exact=True, threshold=published)
    devices = device_tables(ctx, current, requirements)
    empty = is_empty(gaps, placed, devices)

    _summary(ctx, page, gaps, placed, requirements, devices, empty)
    _requirements_section(ctx, page, requirements)
    _settings_section(ctx, page, gaps, placed, requirements)
    trend_section(ctx, page)
    year_on_year_section(ctx, page)
    timeliness_section(ctx, page, current)
    _devices_section(ctx, page, devices)
    _scope_section(ctx, page, current, requirements)
    if empty:
        page.headlines.append(empty_headline("Recording and handling", ctx.spec))
    else:
        page.headlines.append(
            headline(gaps, placed, requirements, devices, ctx.route, spec=ctx.spec)
        )
    return page


# ---------------------------------------------------------------------------- summary


def is_empty(gaps: CountTable, placed: pd.DataFrame, devices: Devices) -> bool:
    """Whether the selection holds no incidents: every figure of the summary shown as 0
    (in a publication a part can be shown as 5 beside a total shown as 0; then the
    figures are said as they are)."""
    above = flagged(placed, ANY_GAP)
    figures = [gaps.value(TOTAL, TOTAL), gaps.value(TOTAL, "yes")]
    if devices.any:
        figures += [devices.returned(), devices.not_low_risk()]
    return none_shown(*figures) and not (above["above_998"] or above["above_95"])


def _summary(
    ctx: Context,
    page: Page,
    gaps: CountTable,
    placed: pd.DataFrame,
    requirements: list[Requirement],
    devices: Devices,
    empty: bool,
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
            "value": (
                "not compared"
                if compared(placed)[1] == 1
                else str(len(above["above_998"]) + len(above["above_95"]))
            ),
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
    if empty:
        section.say(no_incidents(ctx.spec) + (f" {CONTEXT_ONLY}" if ctx.spec.period else ""))
        return
    sentences = [gap_sentence(incidents, with_gap, share, caveat=zero_caveat(ctx.spec))]
    most = most_often_not_met(requirements, 2)
    if most:
        named = ", then ".join(f"“{r.title}” ({r.share().text} of {r.known().text})" for r in most)
        sentences.append(
            f"Most often not met, as a share of the incidents each is known to apply to: {named}."
        )
    elif all_met(requirements):
        sentences.append(all_met_sentence(ctx.spec, with_gap))
    sentences.append(settings_sentence(placed))
    if devices.any:
        sentences.append(devices_sentence(devices, ctx.spec))
    parts = [(with_gap, incidents), *((r.known(), incidents) for r in most)]
    note = shown_larger(ctx.spec, parts) or split_note(ctx.spec, gaps, share)
    if note and note not in " ".join(sentences):  # the devices sentence may have said it
        sentences.append(note)
    section.say(" ".join(sentences))


def split_note(spec: Any, gaps: CountTable, share: Figure) -> str:
    """In a publication, where the shown split (fell short or not) does not add up to the
    shown number of incidents, say what the share is of, so that a reader who divides the
    two counts in the sentence is not left with a different percentage; "" otherwise."""
    yes, no, total = (gaps.value(TOTAL, c) for c in ("yes", "no", TOTAL))
    if not (spec.publication and share.shown and yes.shown and no.shown and total.shown):
        return ""
    split = yes.value + no.value  # type: ignore[operator]
    if split == total.value:
        return ""
    return (
        f"The {share.text} is of the {round(split):,} incidents shown as falling short "
        f"({yes.text}) or not ({no.text}); counts adjusted for publication need not add up "
        f"to the {total.text} incidents shown."
    )


def gap_sentence(incidents: Figure, with_gap: Figure, share: Figure, *, caveat: str = "") -> str:
    """How many incidents fell short of any requirement (`caveat`: a publication's note on
    what a 0 stands for)."""
    if incidents.shown and incidents.value == 0:
        # only in a publication (a selection with no incidents is said by `no_incidents`):
        # a total shown as 0 beside a part shown as more
        return (
            "The number of incidents is shown as 0; counts in this version are adjusted to "
            "protect children, so the figures beside it need not add up."
        )
    if with_gap.shown and with_gap.value == 0:
        if caveat:
            return (
                f"None of the {incidents.text} incidents is shown as falling short of a "
                f"recording or handling requirement of the policy{caveat}."
            )
        return (
            f"None of the {incidents.text} incidents fell short of any recording or handling "
            "requirement of the policy."
        )
    if not with_gap.shown:
        return (
            f"{of_the(incidents, 'incidents')}, the number that fell short of a recording or "
            "handling requirement is not shown, to protect small numbers."
        )
    return (
        f"{of_the(incidents, 'incidents')}, {with_gap.text} ({share.text}) fell short of at least "
        "one recording or handling requirement of the policy."
    )


def most_often_not_met(requirements: Sequence[Requirement], top: int) -> list[Requirement]:
    """Requirements with a shown share above nothing, largest first."""
    shown = [(r, r.share()) for r in requirements]
    shown = [(r, s) for r, s in shown if s.shown and s.value > 0]  # type: ignore[operator]
    shown.sort(key=lambda pair: -pair[1].value)  # type: ignore[operator]
    return [r for r, _ in shown[:top]]


def all_met_sentence(spec: Any, with_gap: Figure) -> str:
    """Said when every requirement's shortfall is shown as 0. In a publication that is not
    a promise of none, and beside a number of incidents that fell short it would read as a
    contradiction, so the sentence says how the two fit."""
    if not spec.publication:
        return "Every requirement was met wherever the record shows it applied."
    if with_gap.shown and with_gap.value == 0:  # the sentence before gave the caveat
        return "No requirement is shown as not met in any incident either."
    text = f"No requirement is shown as not met in any incident{zero_caveat(spec)}."
    if with_gap.shown:
        text += (
            f" The {with_gap.text} incidents shown as falling short did so against "
            "requirements each missed too few times to show."
        )
    return text


def all_met(requirements: Sequence[Requirement]) -> bool:
    """Only when every requirement's shortfall is shown, and is nothing."""
    figures = [r.not_met() for r in requirements]
    return all(f.shown and f.value == 0 for f in figures)


def settings_sentence(placed: pd.DataFrame) -> str:
    """Which settings lie above the funnel's limits, and how many could be compared."""
    above = flagged(placed, ANY_GAP)
    k, n = compared(placed)
    if n == 1:  # the trust's share is the setting's own: nothing to set it against
        return ONE_SETTING
    theta = placed.attrs.get("theta", float("nan"))
    trust = share_text(theta) if np.isfinite(theta) else "not shown"
    parts = []
    if above["above_998"]:
        parts.append(
            f"{names(above['above_998'])} had incidents with a requirement not met more often "
            f"than the trust as a whole ({trust}), by more than chance would explain."
        )
    if above["above_95"]:
        verb = "is" if len(above["above_95"]) == 1 else "are"
        parts.append(
            f"{names(above['above_95'])} {verb} above the inner limit only: worth watching, "
            "as about one setting in forty lands there by chance."
        )
    parts += doubts(placed, "incidents with a requirement not met")
    if not parts:
        if n and k == n:
            parts.append(
                f"No setting is above the limits: all {n} settings could be compared with the "
                f"trust's share ({trust})."
            )
        elif k:
            parts.append(
                f"{k} of {n} settings could be compared with the trust's share ({trust}); none "
                "of them is above the limits."
            )
        else:
            parts.append(
                f"None of the {n} settings could be compared with the trust's share: the "
                "numbers the comparison rests on are too few or not shown."
            )
    else:
        parts.append(f"{k} of {n} settings could be compared." if k < n else
                     f"All {n} settings could be compared.")  # fmt: skip
    return " ".join(parts)


def devices_sentence(devices: Devices, spec: Any = None) -> str:
    """What the devices given back show (`spec`: a publication's, whose 0s may be a few)."""
    publication = spec is not None and spec.publication
    returned = devices.returned()
    if returned.shown and returned.value == 0:
        if publication:
            return f"No device is shown as given back{zero_caveat(spec)}."
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
    if publication:
        text += zero_note(spec, figures)
        if note := shown_larger(spec, [(f, returned) for f in figures[1:]]):
            text += f" {note}"
    return text


def headline(
    gaps: CountTable,
    placed: pd.DataFrame,
    requirements: list[Requirement],
    devices: Devices,
    route: str,
    *,
    spec: Any = None,
) -> Headline:
    """What the front page says: where recording stands, and what to look at (`spec`: a
    publication's says what a 0 stands for and what a share is of)."""
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
            f"{names(above['above_998'])}: a requirement not met in more incidents than the "
            f"trust's {share_text(theta)} by more than chance ({shares}); look at which "
            "requirement each falls short of."
        )
    if above["above_95"]:
        look.append(
            f"{names(above['above_95'])}: a requirement not met in more incidents than the "
            "trust's rate would give, could be chance, worth watching (above the funnel "
            "plot's inner limit)."
        )
    doubt = could_be_above(placed)
    look += doubts(placed, "incidents with a requirement not met")
    large = large_shortfalls(requirements)
    for r in large[:2]:
        look.append(
            f"“{r.title}” (a step that falls short): found in {r.share().text} of the "
            f"{r.known().text} incidents the step is known to apply to."
        )
    if devices.any:
        refer = devices.by_setting.value(TOTAL, REFER)  # type: ignore[union-attr]
        if refer.shown and refer.value > 0:
            table = devices.by_setting  # type: ignore[union-attr]
            most = sorted(
                (
                    (f.value, s)
                    for s in table.row_order
                    if (f := table.value(s, REFER)).shown and f.value and s != TOTAL
                ),
                key=lambda pair: (-pair[0], pair[1]),
            )[:3]
            where = (
                and_list([f"{s} ({table.value(s, REFER).text})" for _, s in most]) if most else ""
            )
            as_shown = " as shown (adjusted for publication)" if table.adjusted else ""
            if table.adjusted and sum(v for v, _ in most) > refer.value:
                as_shown = (
                    " as shown (counts adjusted for publication, so these can add up to more "
                    "than the total)"
                )
            look.append(
                f"{refer.text} devices were given back in cases the guidance says should go to "
                f"{route}" + (f", the most in {where}{as_shown}." if where else ".")
            )
    return Headline(
        area="Recording and handling",
        status=gap_sentence(
            incidents, with_gap, share, caveat=zero_caveat(spec) if spec is not None else ""
        )
        + (f" {note}" if spec is not None and (note := split_note(spec, gaps, share)) else ""),
        look_at=look,
        section="settings" if above["above_998"] or above["above_95"] or doubt else "requirements",
        attention=bool(above["above_998"] or large or doubt),
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
            (
                f"Shown as not met in no incident{zero_caveat(ctx.spec)}: "
                if ctx.spec.publication
                else "Not found unmet in any incident: "
            )
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
    not_placed = _not_placed(placed, gaps, shown_only=ctx.spec.publication)
    if not_placed:
        section.say(not_placed)
    shown = placed[placed["rate"].notna()]
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
        "alone": "not compared: the only setting",
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
                "position": (
                    "shown within the limits; the true counts could be above the inner limit"
                    if record.could_be_above
                    else words[str(record.position)]
                    + (
                        "; the true counts could be within the limits"
                        if record.could_be_within
                        else ""
                    )
                ),
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


def _not_placed(placed: pd.DataFrame, gaps: CountTable, *, shown_only: bool = False) -> str:
    """Why settings could not be compared, from the published figures (`shown_only`: a
    publication, where a 0 shown is not a promise of none)."""
    missing = placed[placed["position"] == "not_shown"]["unit"].astype(str).tolist()
    if not missing:
        return ""
    empty = [s for s in missing if gaps.value(s, TOTAL).shown and gaps.value(s, TOTAL).value == 0]
    hidden = [s for s in missing if s not in empty]
    parts = []
    if empty:
        parts.append(
            f"{names(empty)} had no incidents "
            + ("shown " if shown_only else "")
            + "in this period"
        )
    if hidden:
        parts.append(f"the figures of {names(hidden, capital=False)} are not shown")
    return "Not compared: " + "; ".join(parts) + "."


def _funnel(placed: pd.DataFrame) -> Any:
    """The funnel plot: limits drawn where the words put them (`critical_limits`)."""
    from ..charts import funnel_chart
    from ..compare import critical_limits

    units = placed[placed["rate"].notna()].copy()
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


def grid_cell(requirement: Requirement, row: str) -> str:
    known = requirement.known(row)
    return share_cell(requirement.share(row), known)


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
    section.say(devices_sentence(devices, ctx.spec))
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
        f"{capital(inside)}: {gaps.value('yes', 'yes').text} of {gaps.value('yes', TOTAL).text} "
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
        may_apply = ~equals(ctx, column, "not_applicable")
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
            {"key": "inside", "label": capital(inside), "align": "right"},
            {"key": "outside", "label": capital(outside), "align": "right"},
        ],
        rows=rows,
        note="Each cell is the share not met of the incidents the requirement is known to "
        "apply to, with that number in brackets. “–”: it is not known to apply to any. From "
        f"the policy: {scope.description}",
        name="recording_by_scope",
    )


def _scope_cell(table: CountTable, row: str) -> str:
    return share_cell(table.share(SHORT, KNOWN, row=row), total_of(table, KNOWN, row))
