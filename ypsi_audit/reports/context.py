"""What a report notebook works with: the assessed log, and the rules for publishing.

A notebook opens a `Report` from its parameters and then only states what to show;
`publish`, `chart` and `say` apply the same rules everywhere: small counts hidden
(`<5` on the page, `c` in the tables), rates resting on hidden counts withheld, every
chart drawn as inline SVG with a text alternative, no incident-level rows on a page.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import contract, resources
from ..stats import academic_year

SAMPLE = resources.sample_log()

STYLE = """<style>
.ypsi-table{border-collapse:collapse;margin:8px 0 16px;font-size:14px}
.ypsi-table th,.ypsi-table td{border:1px solid #bbb;padding:4px 8px;text-align:right}
.ypsi-table th:first-child,.ypsi-table td:first-child{text-align:left}
.ypsi-note{color:#444;font-size:13px}
figure.ypsi-chart{margin:8px 0 20px}
figure.ypsi-chart figcaption{color:#444;font-size:13px;max-width:760px}
</style>"""


@dataclass
class Report:
    """The assessed incidents a report is about, and where its tables go."""

    frame: pd.DataFrame
    gate: dict[str, Any]
    tables_dir: Path
    threshold: int
    policy: str
    params: dict[str, Any]
    period: str | None = None
    input_name: str = ""
    withheld: int = 0
    published: list[str] = field(default_factory=list)

    @property
    def in_period(self) -> pd.DataFrame:
        """Incidents reported in the chosen academic year (all years when none is chosen)."""
        if not self.period:
            return self.frame
        return self.frame[(academic_year(self.frame["reported_on"]) == self.period).to_numpy()]

    # --------------------------------------------------------------- publishing

    def publish(
        self,
        table: pd.DataFrame,
        name: str,
        *,
        caption: str,
        rates: Mapping[str, tuple[str, ...]] | None = None,
        row_total: str | None = None,
        col_totals: bool = False,
    ) -> pd.DataFrame:
        """Write tables/NAME.csv (hidden counts as `c`), show the table (`<5`), and return
        it with hidden counts and withheld rates as blanks, ready for a chart.

        Count columns are those named `n_...`. A rate in `rates` (rate -> the counts it
        rests on) is withheld when any of them is hidden or together they are fewer than
        the threshold.
        """
        from IPython.display import HTML, display

        from ..disclosure import render_counts
        from ..writing import write_table

        shown, mask, withheld = self._protected(table, rates, row_total, col_totals)
        self.withheld += int(withheld)
        csv = render_counts(shown, mask, for_page=False, threshold=self.threshold)
        write_table(csv, self.tables_dir / f"{name}.csv")
        self.published.append(name)
        page = render_counts(shown, mask, for_page=True, threshold=self.threshold)
        page = page.apply(_format_column).rename(columns=header)
        note = ""
        if withheld:
            note = (
                f'<p class="ypsi-note">{withheld} number(s) are hidden so that no child can '
                f"be identified: &lt;{self.threshold} marks a number from 1 to "
                f"{self.threshold - 1}; c marks a larger one hidden so that a small one "
                "cannot be worked out from the totals. Shares and rates that rest on a "
                "hidden number are left blank.</p>"
            )
        body = (
            page.to_html(index=False, classes="ypsi-table", border=0, na_rep="", escape=True)
            if len(page)
            else "<p>None.</p>"
        )
        display(HTML(f"{STYLE}<p><strong>{html.escape(caption)}</strong></p>{body}{note}"))
        return shown

    def protect(
        self,
        table: pd.DataFrame,
        *,
        rates: Mapping[str, tuple[str, ...]] | None = None,
        row_total: str | None = None,
        col_totals: bool = False,
    ) -> pd.DataFrame:
        """The table exactly as `publish` would return it, without showing or writing it:
        for a summary written before the table it describes."""
        return self._protected(table, rates, row_total, col_totals)[0]

    def _protected(
        self,
        table: pd.DataFrame,
        rates: Mapping[str, tuple[str, ...]] | None,
        row_total: str | None,
        col_totals: bool,
    ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
        return protect_table(
            table, self.threshold, rates=rates, row_total=row_total, col_totals=col_totals
        )

    def chart(self, chart: Any, description: str) -> None:
        """Draw an Altair chart as inline SVG (works offline) with a text alternative."""
        import vl_convert as vlc
        from IPython.display import HTML, display

        svg = vlc.vegalite_to_svg(chart.to_json())
        label = html.escape(description, quote=True)
        display(
            HTML(
                f'{STYLE}<figure class="ypsi-chart" role="img" aria-label="{label}">'
                f"{svg}<figcaption>{html.escape(description)}</figcaption></figure>"
            )
        )

    def say(self, text: str) -> None:
        """Narrative built from the numbers, as Markdown."""
        from IPython.display import Markdown, display

        display(Markdown(text))

    def small(self, count: int) -> str:
        """A count for a sentence: hidden as <5 (the threshold) when it is small."""
        if self.threshold and 0 < count < self.threshold:
            return f"fewer than {self.threshold}"
        return f"{count:,}"


def protect_table(
    table: pd.DataFrame,
    threshold: int,
    *,
    rates: Mapping[str, tuple[str, ...]] | None = None,
    row_total: str | None = None,
    col_totals: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The publishing rules on one table, for a page or for anything that must know what
    a page hides: (table with hidden counts and withheld rates blank, mask of hidden
    counts, number hidden). Count columns are those named `n_...`; a rate in `rates`
    (rate -> the counts it rests on) is withheld when any of them is hidden or together
    they are fewer than the threshold."""
    from ..disclosure import suppress

    counts = [c for c in table.columns if str(c).startswith("n_") and c != row_total]
    if threshold and (counts or row_total):
        hidden_table, mask, withheld = suppress(
            table, counts, threshold, row_total=row_total, col_totals=col_totals
        )
    else:
        protected = counts + ([row_total] if row_total else [])
        hidden_table, mask, withheld = table, table[protected].isna() & False, 0
    shown = hidden_table.copy()
    for rate, resting_on in (rates or {}).items():
        small = mask[list(resting_on)].any(axis=1)
        if threshold:  # resting on too few: their sum is below the threshold
            small |= hidden_table[list(resting_on)].fillna(0).sum(axis=1) < threshold
        shown[rate] = shown[rate].mask(small.to_numpy())
    return shown, mask, int(withheld)


HEADERS = {
    "n_incidents": "Incidents",
    "n_referred": "Referred to police",
    "n_guidance_refer": "Guidance: refer",
    "rate_referred": "Referral rate",
    "rate_guidance_refer": "Guidance referral rate",
    "n_events": "Events",
    "rate": "Rate",
    "outside_95": "Outside 95% limits",
    "outside_998": "Outside 99.8% limits",
    "n_rows": "Rows",
    "share": "Share",
    "setting_id": "Setting",
    "n_decision_referred": "Decision: referred",
    "n_decision_handled": "Decision: handled",
    "interval_from": "95% interval from",
    "interval_to": "95% interval to",
    "median_days": "Median days",
    "p90_days": "Days by which 9 in 10 were decided",
    "n_no_decision_date": "No decision date",
    "rate_gap": "Share with a gap",
    "n_with_gap": "With a recording gap",
    "n_without_gap": "Without a gap",
}


def header(name: str) -> str:
    """A plain-English column heading for a page (the CSV keeps the n_... name)."""
    if name in HEADERS:
        return HEADERS[name]
    for prefix, words in (("low_", "95% interval from"), ("high_", "95% interval to")):
        if name.startswith(prefix):
            return words
    return name.removeprefix("n_").replace("_", " ").capitalize()


PERCENT = ("rate", "share", "low_", "high_", "blank")


def _format_column(column: pd.Series) -> pd.Series:
    """Shares as percentages, other numbers as whole numbers or to two decimals; text as
    it is. Decided by what the column is, never by the size of its values."""
    name = str(column.name)
    if pd.api.types.is_bool_dtype(column.dtype):
        return column.map({True: "yes", False: ""})
    if not pd.api.types.is_numeric_dtype(column.dtype):
        numbers = pd.to_numeric(column, errors="coerce")
        if name.startswith(PERCENT) and (numbers.notna() | column.isna()).all():
            return _format_column(numbers.rename(name))  # shares padded with blanks
        return column.astype(object).where(column.notna(), "")  # text, or <5 / c
    values = column.astype("Float64")
    if name.startswith(PERCENT) or name in contract.COLUMN_NAMES:
        return values.map(lambda v: "" if pd.isna(v) else f"{v:.1%}")
    whole = values.dropna().eq(values.dropna().round()).all()
    return values.map(lambda v: "" if pd.isna(v) else f"{v:,.0f}" if whole else f"{v:,.2f}")


def open_report(
    *,
    input_path: str | None = None,
    assessed_path: str | None = None,
    gate_path: str | None = None,
    tables_dir: str | None = None,
    period: str | None = None,
    policy: str = "cheshire-quick-guide",
    params: Mapping[str, Any] | None = None,
    settings: Sequence[str] | None = None,
    threshold: int = 5,
    input_name: str = "",
) -> Report:
    """Open a report from the notebook's parameters.

    Run by `ypsi-audit report`, the log has already been gated and assessed once; opened
    by hand in JupyterLab with the defaults, the shipped sample is gated and assessed here.
    """
    if assessed_path:
        frame = pd.read_parquet(assessed_path)
        gate = json.loads(Path(gate_path).read_text()) if gate_path else {}
    else:
        frame, gate = _assess_here(input_path or str(SAMPLE), policy, params)
        input_name = input_name or Path(input_path or SAMPLE).name
    if settings:
        frame = frame[frame["setting_id"].isin(list(settings)).to_numpy()]
    folder = Path(tables_dir) if tables_dir else resources.default_tables_dir()
    label = str(frame["policy"].iloc[0]) if len(frame) else policy
    return Report(
        frame=frame,
        gate=gate,
        tables_dir=folder,
        threshold=int(threshold or 0),
        policy=label,
        params=dict(params or {}),
        period=period,
        input_name=input_name,
    )


def _assess_here(path: str, policy: str, params: Mapping[str, Any] | None) -> tuple:
    from ..engine import assess
    from ..validation import run_gate

    gate = run_gate(path)
    frame = assess(gate.frame, policy.split("@")[0], params, with_states=True)
    return frame, {**gate.summary(), "reconciliation": gate.reconciliation()}


def report_for(
    frame: pd.DataFrame,
    *,
    tables_dir: str | None = None,
    threshold: int = 5,
    policy: str = "",
    input_name: str = "",
) -> Report:
    """A report over a frame that is not a single assessment (an impact comparison)."""
    folder = Path(tables_dir) if tables_dir else resources.default_tables_dir()
    return Report(
        frame=frame,
        gate={},
        tables_dir=folder,
        threshold=int(threshold or 0),
        policy=policy,
        params={},
        input_name=input_name,
    )
