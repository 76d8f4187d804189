"""Altair charts for the reports, built declaratively from already-aggregated frames.

Colours come from the Okabe–Ito palette, which readers with colour-vision deficiency
can tell apart; titles and axes are in plain English.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
WIDTH = 620


def _base(chart: alt.Chart, title: str, height: int = 300) -> alt.Chart:
    return (
        chart.properties(title=title, width=WIDTH, height=height)
        .configure_axis(labelFontSize=12, titleFontSize=13)
        .configure_title(fontSize=15, anchor="start")
    )


REFERRAL_SERIES = {
    "referred": "Referred to police",
    "guidance_refer": "Guidance recommends referral",
}


def trend_chart(
    table: pd.DataFrame,
    series: dict[str, str] | None = None,
    title: str = "Police referrals: what happened and what the guidance recommends",
    y_title: str = "Share of incidents",
    x_title: str = "Academic year and term",
) -> alt.Chart:
    """Rates by term with 95% intervals, one line per series (columns rate_X, low_X,
    high_X for each key X of `series`); points withheld for small numbers are left out."""
    rows = []
    for what, label in (series or REFERRAL_SERIES).items():
        part = table[["period", f"rate_{what}", f"low_{what}", f"high_{what}"]].copy()
        part.columns = ["period", "rate", "low", "high"]
        part["measure"] = label
        rows.append(part)
    data = pd.concat(rows, ignore_index=True).dropna(subset=["rate"])
    order = list(dict.fromkeys(table["period"]))
    x = alt.X("period:N", sort=order, title=x_title)
    colour = alt.Color(
        "measure:N",
        title=None,
        scale=alt.Scale(range=list(OKABE_ITO[: len(rows)])),
        legend=alt.Legend(orient="bottom", labelLimit=WIDTH),
    )
    band = (
        alt.Chart(data)
        .mark_errorbar(ticks=True)
        .encode(
            x=x,
            y=alt.Y("low:Q", title=y_title, axis=alt.Axis(format="%")),
            y2="high:Q",
            color=colour,
        )
    )
    line = alt.Chart(data).mark_line(point=True).encode(x=x, y="rate:Q", color=colour)
    return _base(alt.layer(band, line), title)


def heatmap(
    table: pd.DataFrame, x: str, y: str, value: str, title: str, legend_title: str
) -> alt.Chart:
    """A grid of shares (e.g. setting by requirement), darker where larger; cells withheld
    for small numbers stay blank, and each cell prints its value for readers who cannot
    tell the shades apart."""
    data = table.dropna(subset=[value])
    base = alt.Chart(data).encode(
        x=alt.X(f"{x}:N", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{y}:N", title=None, axis=alt.Axis(labelLimit=320)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            f"{value}:Q",
            title=legend_title,
            scale=alt.Scale(scheme="blues", domain=[0, 1]),
            legend=alt.Legend(format="%"),
        )
    )
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text(f"{value}:Q", format=".0%"),
        color=alt.condition(f"datum.{value} > 0.6", alt.value("white"), alt.value("black")),
    )
    return _base(alt.layer(cells, text), title, height=max(120, 26 * data[y].nunique()))


def funnel_chart(
    units: pd.DataFrame,
    curve: pd.DataFrame,
    title: str,
    y_title: str,
    x_title: str = "Incidents in the setting",
    marker: str | None = None,
    marker_order: tuple[str, ...] = (),
) -> alt.Chart:
    """Each setting's rate against its number of incidents, inside 95% and 99.8% limits.
    `marker` names a column of `units` whose labels (listed in `marker_order`, at most
    three) colour and shape the points, so a setting above the limits is seen without
    reading the numbers."""
    lines = curve.melt(id_vars="n", var_name="limit", value_name="rate")
    lines["band"] = lines["limit"].map(lambda s: "99.8% limits" if "998" in s else "95% limits")
    limits = (
        alt.Chart(lines)
        .mark_line(strokeDash=[4, 3])
        .encode(
            x=alt.X("n:Q", title=x_title),
            y=alt.Y(
                "rate:Q", title=y_title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
            ),
            detail="limit:N",
            color=alt.Color(
                "band:N",
                title=None,
                scale=alt.Scale(range=["#777777", "#000000"]),
                legend=alt.Legend(orient="bottom"),
            ),
        )
    )
    target = (
        alt.Chart(pd.DataFrame({"rate": [units.attrs.get("theta", 0.0)]}))
        .mark_rule(color=OKABE_ITO[2])
        .encode(y="rate:Q")
    )
    points = alt.Chart(units).mark_point(filled=True, size=70, color=OKABE_ITO[0])
    points = points.encode(x="n:Q", y="rate:Q")
    if marker is not None:
        present = set(units[marker].astype(str))
        palette = dict(zip(marker_order, (OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[3]), strict=False))
        shapes = dict(zip(marker_order, ("circle", "square", "diamond"), strict=False))
        domain = [label for label in marker_order if label in present]
        points = points.encode(
            color=alt.Color(
                f"{marker}:N",
                title=None,
                scale=alt.Scale(domain=domain, range=[palette[d] for d in domain]),
                legend=alt.Legend(orient="bottom", columns=1, labelLimit=WIDTH),
            ),
            shape=alt.Shape(
                f"{marker}:N",
                scale=alt.Scale(domain=domain, range=[shapes[d] for d in domain]),
                legend=None,
            ),
        )
    labels = (
        alt.Chart(units)
        .mark_text(dx=8, align="left", fontSize=11)
        .encode(x="n:Q", y="rate:Q", text="unit:N")
    )
    layered = alt.layer(limits, target, points, labels)
    if marker is not None:  # the limits' legend and the points' legend are separate
        layered = layered.resolve_scale(color="independent")
    return _base(layered, title)


def bar_chart(
    table: pd.DataFrame,
    category: str,
    value: str,
    title: str,
    x_title: str,
    y_title: str = "",
    percent: bool = True,
) -> alt.Chart:
    """A horizontal bar per category, largest first."""
    chart = (
        alt.Chart(table)
        .mark_bar(color=OKABE_ITO[0])
        .encode(
            y=alt.Y(
                f"{category}:N", sort="-x", title=y_title or None, axis=alt.Axis(labelLimit=320)
            ),
            x=alt.X(f"{value}:Q", title=x_title, axis=alt.Axis(format="%" if percent else ",")),
        )
    )
    return _base(chart, title)


def grouped_bars(
    table: pd.DataFrame, category: str, value: str, group: str, title: str, x_title: str
) -> alt.Chart:
    """Side-by-side bars per category, one colour per group (e.g. before and after)."""
    chart = (
        alt.Chart(table)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", title=None),
            yOffset=alt.YOffset(f"{group}:N"),
            x=alt.X(f"{value}:Q", title=x_title),
            color=alt.Color(
                f"{group}:N",
                title=None,
                scale=alt.Scale(range=list(OKABE_ITO[:2])),
                legend=alt.Legend(orient="bottom"),
            ),
        )
    )
    return _base(chart, title)


def stacked_bars(
    table: pd.DataFrame, category: str, value: str, part: str, title: str, x_title: str
) -> alt.Chart:
    """One bar per category split into coloured parts (e.g. phones given back, by why
    the return went against the guidance)."""
    chart = (
        alt.Chart(table)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", title=None),
            x=alt.X(f"sum({value}):Q", title=x_title, axis=alt.Axis(format="d")),
            color=alt.Color(
                f"{part}:N",
                title=None,
                scale=alt.Scale(range=[OKABE_ITO[0], OKABE_ITO[3], OKABE_ITO[1]]),
                legend=alt.Legend(orient="bottom"),
            ),
        )
    )
    return _base(chart, title)


def sweep_chart(table: pd.DataFrame, parameter: str) -> alt.Chart:
    """Referral and consistency rates across a parameter's values; the default marked."""
    names = {
        "rate_refer": "Guidance refers to police",
        "rate_consistent": "Decisions consistent with guidance",
        "rate_under_escalation": "Under-escalation",
        "rate_over_escalation": "Over-escalation",
    }
    data = table.melt(
        id_vars=["value", "default"], value_vars=list(names), var_name="measure", value_name="rate"
    ).dropna(subset=["rate"])
    data["measure"] = data["measure"].map(names)
    data["value"] = data["value"].astype(str)
    order = list(dict.fromkeys(table["value"].astype(str)))
    lines = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("value:N", sort=order, title=parameter.replace("_", " ")),
            y=alt.Y("rate:Q", title="Share", axis=alt.Axis(format="%")),
            color=alt.Color(
                "measure:N",
                title=None,
                scale=alt.Scale(range=list(OKABE_ITO[:4])),
                legend=alt.Legend(orient="bottom"),
            ),
        )
    )
    default = table.loc[table["default"], "value"].astype(str).tolist()
    marks = alt.Chart(pd.DataFrame({"value": default, "label": ["current default"] * len(default)}))
    rule = marks.mark_rule(strokeDash=[4, 3], color="#000000").encode(
        x=alt.X("value:N", sort=order)
    )
    text = marks.mark_text(dy=-150, dx=4, align="left").encode(
        x=alt.X("value:N", sort=order), text="label:N"
    )
    return _base(alt.layer(lines, rule, text), f"What each value of {parameter} would mean")


def forest_chart(
    table: pd.DataFrame,
    title: str,
    levels: tuple[str, ...],
    x_title: str = "Odds ratio (log scale): 1 means no difference",
) -> alt.Chart:
    """One row per group: a point at its odds ratio and a line across its 95% interval,
    on a log scale with a line at 1 (no difference). `table` has columns label,
    odds_ratio, low, high and level; `levels` lists the level labels from the most to the
    least certain (at most three: vermilion, orange, grey), so a finding is seen by
    colour and shape as well as by position. Rows keep the table's order."""
    data = table.copy()
    order = list(dict.fromkeys(data["label"]))
    present = [label for label in levels if label in set(data["level"])]
    palette = dict(zip(levels, (OKABE_ITO[3], OKABE_ITO[1], "#777777"), strict=False))
    shapes = dict(zip(levels, ("diamond", "square", "circle"), strict=False))
    low = float(min(data["low"].min(), 1.0)) if len(data) else 0.5
    high = float(max(data["high"].max(), 1.0)) if len(data) else 2.0
    scale = alt.Scale(type="log", domain=[max(low, 0.02), min(high, 50.0)], clamp=True)
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=360))
    colour = alt.Color(
        "level:N",
        title=None,
        scale=alt.Scale(domain=present, range=[palette[p] for p in present]),
        legend=alt.Legend(orient="bottom", columns=1, labelLimit=480),
    )
    shape = alt.Shape(
        "level:N", scale=alt.Scale(domain=present, range=[shapes[p] for p in present]), legend=None
    )
    lines = (
        alt.Chart(data)
        .mark_rule(strokeWidth=2)
        .encode(y=y, x=alt.X("low:Q", scale=scale, title=x_title), x2="high:Q", color=colour)
    )
    points = (
        alt.Chart(data)
        .mark_point(filled=True, size=80)
        .encode(y=y, x=alt.X("odds_ratio:Q", scale=scale), color=colour, shape=shape)
    )
    one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(color="#000000").encode(x="x:Q")
    return _base(alt.layer(lines, points, one), title, height=max(60, 22 * len(order)))


def context_trend_chart(table: pd.DataFrame, title: str, y_title: str) -> alt.Chart:
    """Rates by term with 95% intervals (columns period, rate, low, high, part), the
    chosen period in blue and wider context in grey, so a reader sees which is which."""
    order = list(dict.fromkeys(table["period"]))
    parts = list(dict.fromkeys(table["part"]))
    x = alt.X("period:N", sort=order, title="Academic year and term",
              axis=alt.Axis(labelAngle=-40))  # fmt: skip
    colour = alt.Color(
        "part:N",
        title=None,
        scale=alt.Scale(
            domain=parts,
            range=[OKABE_ITO[0] if p == "chosen year" else "#8c8c8c" for p in parts],
        ),
        legend=alt.Legend(orient="bottom") if len(parts) > 1 else None,
    )
    base = alt.Chart(table)
    band = base.mark_errorbar(ticks=True).encode(
        x=x, y=alt.Y("low:Q", title=y_title, axis=alt.Axis(format="%")), y2="high:Q", color=colour
    )
    line = base.mark_line(color="#8c8c8c").encode(x=x, y="rate:Q")
    points = base.mark_point(filled=True, size=60).encode(x=x, y="rate:Q", color=colour)
    return _base(alt.layer(band, line, points), title)


def sweep_lines(
    table: pd.DataFrame, order: list[str], default: str | None, title: str, x_title: str
) -> alt.Chart:
    """Shares across the values of one policy parameter, one line per series (columns
    value, series, share), with the policy's default value marked by a dashed rule."""
    x = alt.X("value:N", sort=order, title=x_title, axis=alt.Axis(labelAngle=0, labelLimit=160))
    lines = (
        alt.Chart(table)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("share:Q", title="Share of incidents", axis=alt.Axis(format="%")),
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(range=list(OKABE_ITO[:3])),
                legend=alt.Legend(orient="bottom", labelLimit=420),
            ),
        )
    )
    if default is None:
        return _base(lines, title)
    rule = (
        alt.Chart(pd.DataFrame({"value": [default]}))
        .mark_rule(strokeDash=[4, 3], color="#000000")
        .encode(x=x)
    )
    return _base(alt.layer(lines, rule), title)
