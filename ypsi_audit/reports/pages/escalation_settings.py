"""The escalation page's settings compared: each setting's split of incidents, its rates,
the funnel plot of incidents not referred though the guidance says refer (only settings
above the limits are named), and this year beside last year.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..compare import (
    CANT_TELL,
    NO_AS_SHOWN,
    ONE_SETTING,
    chance_word,
    compared,
    could_be_above,
    could_change_sentence,
    doubts,
    flagged,
    positions,
    year_on_year,
)
from ..ledger import TOTAL, CountTable, share_text
from ..measures import (
    DECISION_SPLIT,
    REFERRAL_BY_DECISION,
    RESOLVABLE_REFERRED,
    UNDER_ESCALATION,
    Measure,
)
from ..page import Page, Section
from ..words import shown_as_0
from . import Context
from .escalation_figures import (
    JUDGED,
    NOT_JUDGED,
    SPLIT_HEADINGS,
    Rate,
    Tables,
    allowed_always,
    interval_note,
    interval_text,
    not_referred,
    pct_point,
    rate,
    series_of,
    split_columns,
    trust_not_referred,
    years_in_log,
)

# How a setting's place on the funnel is said; only "above" is ever a flag.
PLACES = {
    "above_998": "Above the outer limit: unlikely to be chance",
    "above_95": "Above the inner limit: worth watching",
    "inside": "Within the limits",
    "below_95": "Below the limits",
    "below_998": "Below the limits",
}
COULD_BE_ABOVE_PLACE = "Shown within the limits; the true counts could be above the inner limit"
COULD_BE_WITHIN_PLACE = "; the true counts could be within the limits"
MARKERS = ("Within or below the limits", "Above the inner (95%) limit",
           "Above the outer (99.8%) limit")  # fmt: skip
MARKER_OF = {"above_998": MARKERS[2], "above_95": MARKERS[1]}


# ---------------------------------------------------------------------------- settings


def compare_settings(ctx: Context, page: Page, tables: Tables) -> pd.DataFrame:
    route = ctx.route
    policy = ctx.log.policy
    table = tables.by_setting
    section = page.section("settings", "Settings compared")
    settings = [s for s in table.row_order]
    published = ctx.spec.threshold if ctx.spec.publication else None
    placed = positions(table, UNDER_ESCALATION, threshold=published)
    places = placed.set_index("unit")
    trust = rate(table, UNDER_ESCALATION)
    text = f"Across the trust, {trust_not_referred(trust, route, published)}."
    if trust.shown and trust.n:
        text += " The funnel plot below sets each setting's share against that rate."
    section.say(text)
    for sentence in _funnel_sentences(placed, table, route):
        section.say(sentence)
    if placed["rate"].notna().any():
        section.add(
            "chart",
            svg=ctx.chart(_funnel_chart(placed, route)),
            alt=_funnel_alt(placed),
            caption=_funnel_caption(placed),
        )
    describe = allowed_always(policy) is not True  # the Cheshire guide's resolvable share
    rows = []
    for setting in [*settings, TOTAL]:
        under = rate(table, UNDER_ESCALATION, setting)
        row = {
            "setting": "All settings" if setting == TOTAL else setting,
            "incidents": table.value(setting, TOTAL).text,
            "referral": rate(table, REFERRAL_BY_DECISION, setting).pct(),
            "under": under.text(),
            "place": "" if setting == TOTAL else _place(places.loc[setting], under),
        }
        if describe:
            row["resolvable"] = rate(table, RESOLVABLE_REFERRED, setting).text()
        rows.append(row)
    columns = [
        {"key": "setting", "label": "Setting"},
        {"key": "incidents", "label": "Incidents", "align": "right"},
        {"key": "referral", "label": "Referral rate", "align": "right"},
        {"key": "under", "label": "Not referred though advised", "align": "right"},
        {"key": "place", "label": "On the funnel plot"},
    ]
    note = (
        f"Referral rate: {REFERRAL_BY_DECISION.explained(route)}. Not referred though "
        f"advised: {UNDER_ESCALATION.explained(route)}."
    )
    if describe:
        columns.append(
            {"key": "resolvable", "label": "Referred where the setting could resolve it",
             "align": "right"}
        )  # fmt: skip
        note += (
            f" Referred where the setting could resolve it: {RESOLVABLE_REFERRED.explained(route)}."
        )
    section.add(
        "table",
        caption="Each setting's rates",
        columns=columns,
        rows=rows,
        note=note,
        name="setting_rates",
    )
    _split_tables(ctx, section, table, settings)
    return placed


def _place(row: pd.Series, under: Rate) -> str:
    if row["position"] == "alone":
        return "Not compared: the only setting"
    if row["could_be_above"]:
        return COULD_BE_ABOVE_PLACE
    if row["position"] in PLACES:
        return PLACES[row["position"]] + (COULD_BE_WITHIN_PLACE if row["could_be_within"] else "")
    if under.shown and not under.n:
        return "Not placed: none shown" if under.adjusted else "Not placed: no such incidents"
    return "Not placed: rests on a number not shown"


def _split_tables(ctx: Context, section: Section, table: CountTable, settings: list[str]) -> None:
    """The published split, in two tables narrow enough to print on A4."""
    policy = ctx.log.policy
    for keys, caption, name in (
        (JUDGED, "Decisions the guidance can judge, by setting", "decisions_by_setting_judged"),
        (NOT_JUDGED, "Decisions that cannot be judged, by setting", "decisions_by_setting_other"),
    ):
        shown = split_columns(policy, keys)
        columns = [{"key": "setting", "label": "Setting"}]
        if keys == JUDGED:
            columns.append({"key": TOTAL, "label": "Incidents", "align": "right"})
        columns += [{"key": k, "label": SPLIT_HEADINGS[k], "align": "right"} for k in shown]
        rows = []
        for setting in [*settings, TOTAL]:
            row = {"setting": "All settings" if setting == TOTAL else setting}
            for key in [TOTAL, *shown]:
                row[key] = table.value(setting, key).text
            rows.append(row)
        section.add("table", caption=caption, columns=columns, rows=rows, name=name)
    section.add("text", text=_split_note(ctx))


def _split_note(ctx: Context) -> str:
    policy = ctx.log.policy
    allowed = allowed_always(policy)
    text = (
        "“Cannot be judged” means the guidance cannot decide the incident because a field it "
        "needs was left blank"
    )
    if allowed is None:
        text += " (or, for a referral, the record does not say whether the guidance allows it)"
    text += "; such incidents are split by whether the setting referred."
    if allowed is True:
        text += f" {policy.referral.allowed_because}"
    else:
        text += (
            " A referral where the guidance says the setting could resolve the incident is "
            "never wrong in itself; it is shown only to describe practice."
        )
        if allowed is None:
            text += f" {policy.referral.allowed_because}"
    return text


def _funnel_sentences(placed: pd.DataFrame, table: CountTable, route: str) -> list[str]:
    named = flagged(placed, UNDER_ESCALATION)
    k, n = compared(placed)
    if n == 1:  # the trust's rate is the setting's own: nothing to set it against
        return [ONE_SETTING]
    sentences = []
    for level, words in (
        ("above_998", "That is above the outer (99.8%) limit, so unlikely to be chance."),
        ("above_95", "That is above the inner (95%) limit but not the outer one: worth "
                     "watching, though it could be chance."),
    ):  # fmt: skip
        for setting in named[level]:
            share = rate(table, UNDER_ESCALATION, setting)
            sentences.append(f"{not_referred(f'**{setting}**', share, route)}. {words}")
    doubt = could_be_above(placed)
    sentences += doubts(placed, "incidents not referred")
    if not named["above_998"] and not named["above_95"] and not doubt:
        if k == n and n:
            sentences.append(
                "No setting lies above the limits: the differences between settings are "
                "within what chance would produce."
            )
        elif k:
            sentences.append(
                f"Of the {k} settings that could be compared, none lies above the limits."
            )
    if k < n:
        missing = placed.loc[placed["position"] == "not_shown", "unit"].astype(str).tolist()
        empty = [s for s in missing if rate(table, UNDER_ESCALATION, s).shown]
        hidden = [s for s in missing if s not in empty]
        text = f"{k} of {n} settings could be compared."
        if empty and table.adjusted:
            text += (
                " Not compared, having none shown that the guidance says refer with a "
                f"recorded decision {shown_as_0(table.threshold)}: {', '.join(empty)}."
            )
        elif empty:
            text += (
                f" Not compared, having no incident the guidance says refer with a recorded "
                f"decision: {', '.join(empty)}."
            )
        if hidden:
            text += (
                f" Not compared, because a number it rests on is not shown: {', '.join(hidden)}."
            )
        sentences.append(text)
    return sentences


def _funnel_chart(placed: pd.DataFrame, route: str) -> Any:
    from ...stats import funnel_curve
    from .. import charts

    units = placed.dropna(subset=["rate"]).copy()
    units["place"] = units["position"].map(MARKER_OF).fillna(MARKERS[0])
    units.attrs.update(placed.attrs)
    curve = funnel_curve(
        placed.attrs["theta"], max(float(units["n"].max()), 2.0), placed.attrs["phi"],
        placed.attrs["tau2"],
    )  # fmt: skip
    return charts.funnel_chart(
        units,
        curve,
        title="Not referred though the guidance says refer, by setting",
        y_title="Share not referred",
        x_title=f"Incidents the guidance says refer to {route}, with a recorded decision",
        marker="place",
        marker_order=MARKERS,
    )


def _funnel_alt(placed: pd.DataFrame) -> str:
    named = flagged(placed, UNDER_ESCALATION)
    above = named["above_998"] + named["above_95"]
    doubt = could_be_above(placed)
    text = (
        "Funnel plot of each setting's share of incidents not referred though the guidance "
        "says refer, against how many such incidents it had, with 95% and 99.8% limits "
        "around the trust's own rate."
    )
    if above:
        text += " Above the limits: " + ", ".join(above) + "."
    if doubt:
        return text + " Shown within the limits but could be above them: " + ", ".join(doubt) + "."
    return text if above else text + " No setting lies above the limits."


def _funnel_caption(placed: pd.DataFrame) -> str:
    theta = placed.attrs.get("theta")
    text = (
        f"The green line is the trust's own rate over all its incidents ({share_text(theta)}). "
        "Small settings swing more by chance, so their limits are wider. About 1 setting in "
        "20 lies outside the inner (95%) limits by chance alone, and about 1 in 500 outside "
        "the outer (99.8%) limits."
    )
    if placed.attrs.get("overdispersed"):
        text += (
            " Settings differ more than chance alone would explain (they see different kinds "
            "of incident), so the limits are widened to allow for it."
        )
    return text


# ---------------------------------------------------------------------------- year on year


def this_year_and_last(ctx: Context, page: Page, tables: Tables) -> None:
    route = ctx.route
    section = page.section("year_on_year", "This year and last year")
    years = years_in_log(ctx)
    this_year = ctx.spec.period or (years[-1] if years else None)
    trend = ctx.ledger.table(
        "decisions_by_year",
        caption="Incidents in every academic year by the decision against the guidance",
        rows="year",
        cols=DECISION_SPLIT,
        row_order=years,
    )
    if this_year is None:
        section.say("No incident has a date, so no academic year can be compared.")
        return
    start = int(this_year[:4])
    last_year = f"{start - 1}-{start % 100:02d}"
    year = ctx.incidents["year"].astype(str).to_numpy()
    if ctx.spec.period:
        now = tables.by_setting
    else:
        now = ctx.ledger.table(
            "decisions_by_setting_this_year",
            caption=f"Each setting's incidents in {this_year} by the decision against the guidance",
            rows="setting",
            cols=DECISION_SPLIT,
            where=year == this_year,
        )
    label = f"{this_year}" + ("" if ctx.spec.period else ", the latest year in the log")
    if last_year not in years:
        section.say(
            f"This year is {label}. The log holds no incident from {last_year}, so there is no "
            "last year to compare with."
        )
    else:
        before = ctx.ledger.table(
            "decisions_by_setting_last_year",
            caption=f"Each setting's incidents in {last_year} by the decision against the guidance",
            rows="setting",
            cols=DECISION_SPLIT,
            where=year == last_year,
        )
        section.say(f"This year is {label}; last year is {last_year}.")
        for measure, caption, phrase in (
            (UNDER_ESCALATION, "Not referred though the guidance says refer",
             "share not referred though the guidance says refer"),
            (REFERRAL_BY_DECISION, f"Referral rate (referred to {route})", "referral rate"),
        ):  # fmt: skip
            published = ctx.spec.threshold if ctx.spec.publication else None
            changes = year_on_year(now, before, measure, threshold=published)
            years_pair = (last_year, this_year)
            _changes_table(section, changes, measure, (caption, phrase), years_pair, now, before)
    _trust_trend(ctx, section, trend, years)


def _changes_table(
    section: Section,
    changes: pd.DataFrame,
    measure: Measure,
    words: tuple[str, str],
    years: tuple[str, str],
    now: CountTable,
    before: CountTable,
) -> None:
    """One measure, last year beside this year, for each setting and the trust."""
    caption, phrase = words
    last_year, this_year = years
    rows, moved, unsure, could = [], [], [], []
    for record in changes.itertuples():
        setting = record.setting
        earlier = rate(before, measure, setting)
        later = rate(now, measure, setting)
        change = "–" if pd.isna(record.change) else pct_point(record.change)
        chance = chance_word(record)
        if record.unsure:
            unsure.append("across all settings" if setting == TOTAL else setting)
        if record.could_change:
            could.append(setting)
        name = "All settings" if setting == TOTAL else setting
        rows.append({"setting": name, "before": earlier.text(), "now": later.text(),
                     "change": change, "chance": chance})  # fmt: skip
        if record.beyond_chance:
            direction = "rose" if record.change > 0 else "fell"
            moved.append(
                f"{'across all settings' if setting == TOTAL else setting} ({direction} from "
                f"{share_text(record.rate_before)} to {share_text(record.rate_now)})"
            )
    tested = int(changes["change"].notna().sum())
    if moved:
        section.say(f"The {phrase} changed by more than chance would explain: {'; '.join(moved)}.")
    elif not tested:
        section.say(f"No setting's {phrase} could be compared: none has it shown in both years.")
    elif not unsure:
        section.say(f"No setting's {phrase} changed by more than chance would explain.")
        if could:
            settings = changes[changes["setting"] != TOTAL]
            section.say(
                could_change_sentence(
                    [s for s in could if s != TOTAL],
                    int(settings["change"].notna().sum()),
                    trust=TOTAL in could,
                )
            )
    if unsure:
        section.say(
            f"The {phrase} shown changed by more than chance would explain "
            f"({'; '.join(unsure)}), but the counts behind it are small enough that the "
            "adjustment made to them for publication could account for that (“Can't tell” "
            "below); the safeguarding team's own report shows the true change."
        )
    section.add(
        "table",
        caption=f"{caption}: {last_year} and {this_year}",
        columns=[
            {"key": "setting", "label": "Setting"},
            {"key": "before", "label": last_year, "align": "right"},
            {"key": "now", "label": this_year, "align": "right"},
            {"key": "change", "label": "Change", "align": "right"},
            {"key": "chance", "label": "More than chance?", "align": "right"},
        ],
        rows=rows,
        note=(
            "Change is in percentage points. “More than chance” means Fisher's exact test "
            "finds the two years' shares differ at the 5% level; with many settings, about 1 "
            "in 20 will differ by chance alone."
            + (f" {CANT_TELL}" if unsure else "")
            + (f" {NO_AS_SHOWN}" if could else "")
        ),
        name=f"year_on_year_{measure.name}",
    )


def _trust_trend(ctx: Context, section: Section, trend: CountTable, years: list[str]) -> None:
    route = ctx.route
    context = " (wider context: every year in the log)" if ctx.spec.period else ""
    rows, chart_rows = [], []
    for year in years:
        under = rate(trend, UNDER_ESCALATION, year)
        referral = rate(trend, REFERRAL_BY_DECISION, year)
        rows.append(
            {
                "year": year,
                "incidents": trend.value(year, TOTAL).text,
                "under": under.text(),
                "under_ci": interval_text(under),
                "referral": referral.text(),
                "referral_ci": interval_text(referral),
            }
        )
        chart_rows.append({"period": year, **series_of("under", under),
                           **series_of("referral", referral)})  # fmt: skip
    if not rows:
        return
    section.add(
        "table",
        caption=f"The trust year by year{context}",
        columns=[
            {"key": "year", "label": "Academic year"},
            {"key": "incidents", "label": "Incidents", "align": "right"},
            {"key": "under", "label": "Not referred though advised", "align": "right"},
            {"key": "under_ci", "label": "95% interval", "align": "right"},
            {"key": "referral", "label": "Referral rate", "align": "right"},
            {"key": "referral_ci", "label": "95% interval", "align": "right"},
        ],
        rows=rows,
        note=(
            f"Not referred though advised: {UNDER_ESCALATION.explained(route)}. Referral rate: "
            f"{REFERRAL_BY_DECISION.explained(route)}.{interval_note(ctx.spec)}"
        ),
        name="decisions_by_year",
    )
    chart = pd.DataFrame(chart_rows)
    if len(chart) > 1 and chart[["rate_under", "rate_referral"]].notna().any().any():
        from .. import charts

        drawn = charts.trend_chart(
            chart,
            series={
                "under": "Not referred though the guidance says refer",
                "referral": f"Referral rate (to {route})",
            },
            title=f"The trust year by year{context}",
            y_title="Share",
            x_title="Academic year",
        )
        section.add(
            "chart",
            svg=ctx.chart(drawn),
            alt=(
                "Line chart by academic year of the trust's share not referred though the "
                "guidance says refer, and its referral rate, each with its 95% interval."
            ),
            caption="Each point is one academic year; the bars are 95% intervals.",
        )
