"""What a change of policy would mean: the same past incidents judged by the policy in
use and by a proposed one (or by one policy with other parameters), and, when asked, by
one policy across the values of one parameter.

Both policies are evaluated on the assessed rows with the engine; their outcomes,
judgements, referrals and factors become incident categories, and every number on the
page is a cell of a declared ledger table over them. "Would be referred" counts only
incidents the named policy refers; incidents it cannot decide are said separately.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ... import contract, states
from ...engine import Evaluation, evaluate, tri_codes
from ...impact import CHANGE_TABLE, CHANGES, MAX_SWEEP_VALUES, sweep_points
from ..ledger import TOTAL, CountTable, Figure, count_text, of_the
from ..measures import GUIDANCE_REFER, RESOLVABLE_REFERRED, UNDER_ESCALATION
from ..page import Headline, Page
from ..words import (
    CONSISTENCY_HEADINGS,
    NOT_RECORDED,
    consistency_labels,
    empty_headline,
    no_incidents,
    outcome_labels,
    zero_caveat,
    zero_note,
)
from . import Context

NAME = "impact"
TITLE = "Impact of a change of policy"
INTRO = (
    "The same past incidents judged by the policy in use and by a proposed one: how many "
    "each would refer, which incidents change and why, how the settings' decisions would be "
    "judged, and what each value of one setting of the policy would mean."
)
SECTIONS = ("summary", "outcomes", "flips", "volume", "judgement", "scope", "sweep")
AREA = "Change of policy"
REFER, HANDLE, UNDECIDED = contract.OUTCOMES
TRI_WORDS = ("no", "yes", NOT_RECORDED)  # codes 0 absent, 1 present, 2 unknown
FOLLOW_UP = "flipped_incidents"
DECISIONS = {
    "referred_police": "referred to the police",
    "handled_in_setting": "dealt with in the setting",
}


# ---------------------------------------------------------------------------- the two sides


@dataclass(frozen=True)
class Side:
    """One policy of the comparison, as the page names it, with its evaluation."""

    key: str  # "current" or "proposed": the prefix of its incident categories
    policy: Any
    params: dict[str, Any]
    name: str  # the policy's title, with any parameter changed from its default
    ev: Evaluation

    @property
    def route(self) -> str:
        return self.policy.referral.route

    def category(self, what: str) -> str:
        return f"{self.key}:{what}"


def words(value: Any) -> str:
    """A parameter's name or a level code as a reader says it."""
    return str(value).replace("_", " ")


def policy_name(policy: Any, params: dict[str, Any]) -> str:
    changed = {k: v for k, v in params.items() if v != policy.parameters[k].default}
    if not changed:
        return policy.title
    settings = ", ".join(f"{words(k)} set to {words(v)}" for k, v in changed.items())
    return f"{policy.title} with {settings}"


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows without their attributes: pandas copies `attrs` (the whole policy document)
    on every column read, which the engine does once per column."""
    rows = frame.copy(deep=False)
    rows.attrs = {}
    return rows


def sides(frame: pd.DataFrame, spec: Any) -> tuple[Side, Side]:
    """Evaluate the current and the proposed policy on the same rows."""
    frame = plain(frame)
    made = []
    for key, ref in (("current", spec.policy), ("proposed", spec.compare_with or spec.policy)):
        policy = ref.policy()
        params = dict(ref.parameters)
        ev = evaluate(frame, policy, params)
        made.append(Side(key, policy, params, policy_name(policy, params), ev))
    current, proposed = made
    if current.name == proposed.name:  # the same policy and parameters: say which is which
        current = replace(current, name=f"{current.name} (current)")
        proposed = replace(proposed, name=f"{proposed.name} (proposed)")
    return current, proposed


def _labels(codes: np.ndarray, names: Sequence[str]) -> np.ndarray:
    return np.asarray(names, dtype=object)[np.asarray(codes, dtype=np.int64)]


def _add_categories(ctx: Context, pair: tuple[Side, Side]) -> None:
    for side in pair:
        ev = side.ev
        ctx.add_category(
            side.category("outcome"), _labels(ev.outcome, contract.OUTCOMES), contract.OUTCOMES
        )
        ctx.add_category(
            side.category("consistency"),
            _labels(ev.consistency, contract.CONSISTENCY),
            contract.CONSISTENCY,
        )
        ctx.add_category(
            side.category("referred"), _labels(tri_codes(ev.referred), TRI_WORDS), TRI_WORDS
        )
        for rule, value in zip(side.policy.factors, ev.factors, strict=True):
            ctx.add_category(
                side.category(f"factor:{rule.id}"),
                _labels(tri_codes(value), states.TRI),
                states.TRI,
            )
        if ev.scope is not None:
            ctx.add_category(
                side.category("in_scope"), _labels(tri_codes(ev.scope), TRI_WORDS), TRI_WORDS
            )
    current, proposed = pair
    change = CHANGE_TABLE[current.ev.outcome, proposed.ev.outcome]
    ctx.add_category("change", _labels(change, CHANGES), CHANGES)


# ---------------------------------------------------------------------------- figures


def total_of(figures: Sequence[Figure]) -> Figure:
    """The sum of published figures (not shown when any of them is not)."""
    if any(not f.shown for f in figures):
        return Figure(None, "not shown", "rests on a number not shown")
    value = float(sum(f.value for f in figures))  # type: ignore[misc]
    return Figure(value, count_text(value))


def difference(after: Figure, before: Figure, *, signed: bool = True) -> Figure:
    """after - before from published figures: signed (a change) or as a count."""
    if not (after.shown and before.shown):
        return Figure(None, "not shown", "rests on a number not shown")
    value = float(after.value - before.value)  # type: ignore[operator]
    if not signed:
        if value < 0:  # only from a publication's adjusted counts: no count to show
            return Figure(None, "not shown", "the adjusted counts it rests on give less than 0")
        return Figure(value, count_text(value))
    text = "0" if value == 0 else f"{value:+,.0f}".replace("-", "−")
    return Figure(value, text)


def is_zero(figure: Figure) -> bool:
    return figure.shown and figure.value == 0


def positive(figure: Figure) -> bool:
    return figure.shown and (figure.value or 0) > 0


@dataclass(frozen=True)
class Answers:
    """The headline figures, all cells (or sums of cells) of the outcome cross-table."""

    table: CountTable

    def cell(self, current: str, proposed: str) -> Figure:
        return self.table.value(current, proposed)

    @property
    def total(self) -> Figure:
        return self.table.value(TOTAL, TOTAL)

    def refer(self, side: str) -> Figure:
        return self.cell(REFER, TOTAL) if side == "current" else self.cell(TOTAL, REFER)

    def undecided(self, side: str) -> Figure:
        return self.cell(UNDECIDED, TOTAL) if side == "current" else self.cell(TOTAL, UNDECIDED)

    @property
    def unchanged(self) -> Figure:
        return total_of([self.cell(o, o) for o in contract.OUTCOMES])

    @property
    def changed(self) -> Figure:
        return total_of(
            [self.cell(a, b) for a in contract.OUTCOMES for b in contract.OUTCOMES if a != b]
        )

    @property
    def only_proposed(self) -> Figure:
        return total_of([self.cell(HANDLE, REFER), self.cell(UNDECIDED, REFER)])

    @property
    def only_current(self) -> Figure:
        return total_of([self.cell(REFER, HANDLE), self.cell(REFER, UNDECIDED)])

    @property
    def between_undecided(self) -> Figure:
        return total_of([self.cell(HANDLE, UNDECIDED), self.cell(UNDECIDED, HANDLE)])


# ---------------------------------------------------------------------------- the page


def build(ctx: Context) -> Page:
    page = Page(NAME, TITLE, INTRO)
    pair = sides(ctx.log.frame, ctx.spec)
    _add_categories(ctx, pair)
    current, proposed = pair
    answers = Answers(
        ctx.ledger.table(
            "impact_outcomes",
            caption="Incidents by what the current policy (rows) and the proposed one "
            "(columns) say",
            rows=current.category("outcome"),
            cols=proposed.category("outcome"),
            where=ctx.current,
        )
    )
    _summary(ctx, page, pair, answers)
    _outcomes(page, pair, answers)
    _flips(ctx, page, pair, answers)
    _volume(ctx, page, pair)
    judged = _judgement(ctx, page, pair)
    _scope(ctx, page, pair)
    _sweep(ctx, page, current)
    page.headlines.append(_headline(ctx, pair, answers, judged))
    return page


def _period(ctx: Context) -> str:
    return f" reported in {ctx.spec.period}" if ctx.spec.period else ""


def _summary(ctx: Context, page: Page, pair: tuple[Side, Side], answers: Answers) -> None:
    current, proposed = pair
    section = page.section("summary", "Summary")
    section.add(
        "figures",
        rows=[
            {"label": "incidents", "value": answers.total.text},
            {
                "label": "would be referred under the current policy",
                "value": answers.refer("current").text,
            },
            {
                "label": "would be referred under the proposed policy",
                "value": answers.refer("proposed").text,
            },
            {"label": "incidents whose answer changes", "value": answers.changed.text},
        ],
    )
    if is_zero(answers.total):
        section.say(no_incidents(ctx.spec))
        return
    section.say(
        f"{of_the(answers.total, 'incidents')}{_period(ctx)}, the current policy "
        f"(**{current.name}**) says {answers.refer('current').text} should be referred to "
        f"{current.route}; the proposed policy (**{proposed.name}**) says "
        f"{answers.refer('proposed').text} should be referred to {proposed.route}."
    )
    undecided = [answers.undecided("current"), answers.undecided("proposed")]
    section.say(
        "Neither count includes the incidents a policy cannot decide because a field it "
        f"needs is blank: {undecided[0].text} under the current policy and "
        f"{undecided[1].text} under the proposed one."
        + zero_note(ctx.spec, [answers.refer("current"), answers.refer("proposed"), *undecided])
    )
    section.say(_change_sentence(answers, ctx.spec))


def _change_sentence(answers: Answers, spec: Any) -> str:
    if is_zero(answers.changed):
        if spec.publication:
            return f"No incident is shown with a changed answer{zero_caveat(spec)}."
        return "The two policies give the same answer for every incident."
    cited = [answers.only_proposed, answers.only_current]
    text = (
        f"The answer changes for {answers.changed.text} incidents: "
        f"{answers.only_proposed.text} would be referred under the proposed policy only and "
        f"{answers.only_current.text} under the current policy only"
    )
    moving = answers.between_undecided
    if is_zero(moving):
        return text + "." + zero_note(spec, cited)
    return (
        text + f"; for {moving.text}, one policy says the setting may deal with the incident "
        "and the other cannot tell." + zero_note(spec, [*cited, moving])
    )


def _outcomes(page: Page, pair: tuple[Side, Side], answers: Answers) -> None:
    current, proposed = pair
    section = page.section("outcomes", "Outcomes under each policy")
    rows_words = outcome_labels(current.route)
    cols_words = {
        REFER: f"Proposed: refer to {proposed.route}",
        HANDLE: "Proposed: the setting may deal with it",
        UNDECIDED: "Proposed: cannot tell",
        TOTAL: "All incidents",
    }
    columns = [{"key": "row", "label": "The current policy says"}]
    columns += [_num(c, cols_words[c]) for c in [*contract.OUTCOMES, TOTAL]]
    rows = []
    for outcome in [*contract.OUTCOMES, TOTAL]:
        label = "All incidents" if outcome == TOTAL else _capital(rows_words[outcome])
        row = {"row": label}
        for col in [*contract.OUTCOMES, TOTAL]:
            row[col] = answers.cell(outcome, col).text
        rows.append(row)
    same = (
        ""
        if is_zero(answers.total)
        else f" {answers.unchanged.text} of {answers.total.text} incidents get the same "
        "answer from both."
    )
    section.say(
        f"Each row is what the current policy ({current.name}) says about an incident; each "
        f"column is what the proposed policy ({proposed.name}) says about the same incident." + same
    )
    section.add(
        "table",
        caption="What each policy says about the same incidents",
        columns=columns,
        rows=rows,
        note=(
            "“Cannot tell” means a field the policy needs is blank: a blank is never read as "
            "“no”, so such an incident is neither referred nor left to the setting."
        ),
        name="impact_outcomes",
    )


def _num(key: str, label: str) -> dict[str, str]:
    """A right-aligned (number) column of a page table."""
    return {"key": key, "label": label, "align": "right"}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# The moves in which one side's factors explain the change: present where only that
# policy says refer; open (unknown) where only that policy cannot tell.
PRESENT_WHEN = {
    "current": ("refer_to_handle", "refer_to_undecided"),
    "proposed": ("handle_to_refer", "undecided_to_refer"),
}
OPEN_WHEN = {
    "current": ("undecided_to_refer", "undecided_to_handle"),
    "proposed": ("refer_to_undecided", "handle_to_undecided"),
}


def _flips(ctx: Context, page: Page, pair: tuple[Side, Side], answers: Answers) -> None:
    current, proposed = pair
    section = page.section("flips", "Which incidents change, and why")
    for side, other in ((proposed, current), (current, proposed)):
        if is_zero(answers.total):  # the summary says there are none; no "0 of them"
            break
        only = answers.only_proposed if side is proposed else answers.only_current
        if side is proposed:
            may, cannot = answers.cell(HANDLE, REFER), answers.cell(UNDECIDED, REFER)
        else:
            may, cannot = answers.cell(REFER, HANDLE), answers.cell(REFER, UNDECIDED)
        section.say(
            f"**{only.text}** incidents would be referred under the {side.key} policy only: "
            f"the {other.key} policy says the setting may deal with {may.text} of them and "
            f"cannot tell for {cannot.text}." + zero_note(ctx.spec, [only, may, cannot])
        )
    for side in (proposed, current):
        rows = []
        for rule in side.policy.factors:
            table = ctx.ledger.table(
                f"impact_change_{side.key}_{rule.id}",
                caption=f"Incidents by how their answer changes, and whether the {side.key} "
                f"policy finds “{rule.title}”",
                rows="change",
                cols=side.category(f"factor:{rule.id}"),
                where=ctx.current,
            )
            present = total_of([table.value(m, "present") for m in PRESENT_WHEN[side.key]])
            left_open = total_of([table.value(m, "unknown") for m in OPEN_WHEN[side.key]])
            rows.append({"factor": rule.title, "present": present.text, "open": left_open.text})
        section.add(
            "table",
            caption=f"What the {side.key} policy ({side.name}) finds in the incidents whose "
            "answer changes",
            columns=[
                {"key": "factor", "label": "Factor"},
                _num("present", "Found in the incidents only this policy would refer"),
                _num("open", "Left open in the incidents only this policy cannot decide"),
            ],
            rows=rows,
            name=f"impact_factors_{side.key}",
        )
    note = (
        "An incident can have more than one factor, so a column can add up to more than the "
        "incidents it describes. A factor that cannot be settled needs a field that is blank."
    )
    if not ctx.spec.publication:
        note += (
            " The incidents themselves are listed for the safeguarding team in "
            f"{FOLLOW_UP}.csv beside this page, never on it."
        )
    section.add("text", text=note)


def _volume(ctx: Context, page: Page, pair: tuple[Side, Side]) -> None:
    section = page.section("volume", "Referrals by setting and by year")
    by_setting = _volume_table(ctx, pair, "setting", ctx.current)
    by_year = _volume_table(ctx, pair, "year", None)
    long = []
    for row in by_setting["figures"]:
        if row["key"] == TOTAL:
            continue
        for side in pair:
            figure = row[side.key]
            if figure.shown:
                long.append(
                    {
                        "setting": row["key"],
                        "policy": f"{side.key.capitalize()} policy",
                        "n": figure.value,
                    }
                )
    from ..charts import grouped_bars

    chart = grouped_bars(
        pd.DataFrame(long, columns=["setting", "policy", "n"]),
        "setting",
        "n",
        "policy",
        "Incidents each policy says should be referred, by setting",
        "Incidents",
    )
    current, proposed = pair
    section.add(
        "chart",
        svg=ctx.chart(chart),
        alt=(
            f"Bar chart: for each setting, the incidents the current policy ({current.name}) "
            f"says should be referred beside those the proposed policy ({proposed.name}) says "
            "should be referred."
        ),
        caption=(
            f"Incidents each policy says should be referred, by setting: the current policy "
            f"({current.name}) and the proposed one ({proposed.name}). The table below gives "
            "the numbers."
        ),
    )
    section.add("table", **by_setting["block"], name="impact_referrals_by_setting")
    if ctx.spec.period:
        section.say(
            f"For context, the table by academic year covers every year in the log, not only "
            f"{ctx.spec.period}."
        )
    section.add("table", **by_year["block"], name="impact_referrals_by_year")


def _volume_table(
    ctx: Context, pair: tuple[Side, Side], by: str, where: np.ndarray | None
) -> dict[str, Any]:
    tables = {
        side.key: ctx.ledger.table(
            f"impact_{by}_{side.key}",
            caption=f"Incidents by {by} and what the {side.key} policy says",
            rows=by,
            cols=side.category("outcome"),
            where=where,
        )
        for side in pair
    }
    current = tables["current"]
    figures, rows = [], []
    for key in [*current.row_order, TOTAL]:
        refer = {side.key: tables[side.key].value(key, REFER) for side in pair}
        undecided = {side.key: tables[side.key].value(key, UNDECIDED) for side in pair}
        figures.append({"key": key, **refer})
        label = ("All settings" if by == "setting" else "All years") if key == TOTAL else key
        rows.append(
            {
                "key": label,
                "incidents": current.value(key, TOTAL).text,
                "current": refer["current"].text,
                "proposed": refer["proposed"].text,
                "change": difference(refer["proposed"], refer["current"]).text,
                "undecided_current": undecided["current"].text,
                "undecided_proposed": undecided["proposed"].text,
            }
        )
    heading = "Setting" if by == "setting" else "Academic year"
    scope = "" if where is None or not ctx.spec.period else f" ({ctx.spec.period})"
    block = {
        "caption": f"Incidents each policy says should be referred, by "
        f"{'setting' if by == 'setting' else 'academic year'}{scope}",
        "columns": [
            {"key": "key", "label": heading},
            _num("incidents", "Incidents"),
            _num("current", "Would be referred: current"),
            _num("proposed", "Would be referred: proposed"),
            _num("change", "Change"),
            _num("undecided_current", "Cannot tell: current"),
            _num("undecided_proposed", "Cannot tell: proposed"),
        ],
        "rows": rows,
        "note": (
            f"Current: {pair[0].name}, referral to {pair[0].route}. Proposed: {pair[1].name}, "
            f"referral to {pair[1].route}."
        ),
    }
    return {"figures": figures, "block": block}


def _route_words(pair: tuple[Side, Side]) -> str:
    current, proposed = pair
    return current.route if current.route == proposed.route else "the route each policy names"


def _judgement(ctx: Context, page: Page, pair: tuple[Side, Side]) -> dict[str, Figure]:
    current, proposed = pair
    section = page.section("judgement", "How past decisions would be judged")
    table = ctx.ledger.table(
        "impact_judgement",
        caption="Settings' decisions as the current policy (rows) and the proposed one "
        "(columns) would judge them",
        rows=current.category("consistency"),
        cols=proposed.category("consistency"),
        where=ctx.current,
    )
    referred = ctx.ledger.table(
        "impact_referred",
        caption="Whether the setting referred, as the current policy (rows) and the proposed "
        "one (columns) count a referral",
        rows=current.category("referred"),
        cols=proposed.category("referred"),
        where=ctx.current,
    )
    ref_current, ref_proposed = referred.value("yes", TOTAL), referred.value(TOTAL, "yes")
    if current.route == proposed.route and ref_current.text == ref_proposed.text:
        section.say(
            f"The settings referred {ref_current.text} of these incidents to {current.route}."
        )
    else:
        section.say(
            f"As the current policy counts a referral (to {current.route}), the settings "
            f"referred {ref_current.text} of these incidents; as the proposed policy counts one "
            f"(to {proposed.route}), they referred {ref_proposed.text}."
        )
    under_now = table.value("under_escalation", TOTAL)
    under_then = table.value(TOTAL, "under_escalation")
    new_under = difference(
        under_then, table.value("under_escalation", "under_escalation"), signed=False
    )
    section.say(
        "The decisions stay as they were; what changes is how each compares with the guidance. "
        f"Under the current policy, {under_now.text} decisions are judged as not referred "
        f"though the guidance says refer; under the proposed policy, {under_then.text}, of "
        f"which {new_under.text} are not judged so under the current policy."
        + zero_note(ctx.spec, [under_now, under_then, new_under])
    )
    labels = consistency_labels(_route_words(pair))
    rows = []
    for code in contract.CONSISTENCY:
        now, then = table.value(code, TOTAL), table.value(TOTAL, code)
        rows.append(
            {
                "judgement": _capital(labels[code]),
                "current": now.text,
                "proposed": then.text,
                "change": difference(then, now).text,
            }
        )
    rows.append(
        {
            "judgement": "All incidents",
            "current": table.value(TOTAL, TOTAL).text,
            "proposed": table.value(TOTAL, TOTAL).text,
            "change": "",
        }
    )
    note = (
        "A referral the guidance does not require is never a mistake: whether the guidance "
        "leaves it to the safeguarding lead's choice or says the setting could have resolved "
        "the incident itself, it is shown only to describe practice."
    )
    if current.route != proposed.route:
        note = (
            f"The current policy counts a referral to {current.route}; the proposed policy "
            f"counts a referral to {proposed.route}. " + note
        )
    section.add(
        "table",
        caption="How the settings' decisions would be judged under each policy",
        columns=[
            {"key": "judgement", "label": "How the decision is judged"},
            _num("current", "Current policy"),
            _num("proposed", "Proposed policy"),
            _num("change", "Change"),
        ],
        rows=rows,
        note=note,
        name="impact_judgement",
    )
    return {"under_now": under_now, "under_then": under_then, "new_under": new_under}


def _scope(ctx: Context, page: Page, pair: tuple[Side, Side]) -> None:
    section = page.section("scope", "Incidents with and without an image")
    scoped = [side for side in pair if side.policy.scope is not None]
    if len(scoped) == 2 and scoped[0].policy.document.get("scope") == scoped[1].policy.document.get(
        "scope"
    ):
        scoped = scoped[1:]  # the same scope: one table is enough
    if not scoped:
        section.say(
            "Neither policy is written for one kind of incident only, so every incident is "
            "counted together above."
        )
        return
    current, proposed = pair
    for side in scoped:
        scope = side.policy.scope
        group = side.category("in_scope")
        tables = {
            other.key: ctx.ledger.table(
                f"impact_scope_{side.key}_{other.key}",
                caption=f"Incidents by whether they are {scope.title} (as the {side.key} policy "
                f"defines it) and what the {other.key} policy says",
                rows=group,
                cols=other.category("outcome"),
                where=ctx.current,
            )
            for other in pair
        }
        changes = ctx.ledger.table(
            f"impact_scope_{side.key}_change",
            caption=f"Incidents by whether they are {scope.title} and how their answer changes",
            rows=group,
            cols="change",
            where=ctx.current,
        )
        section.say(
            f"The {side.key} policy ({side.name}) is written for {scope.title}; "
            f"{scope.outside} are shown apart."
        )
        names = {
            "yes": _capital(scope.title),
            "no": _capital(scope.outside),
            NOT_RECORDED: "The record does not say which",
        }
        rows = []
        for key in ("yes", "no", NOT_RECORDED, TOTAL):
            refer_now = tables["current"].value(key, REFER)
            refer_then = tables["proposed"].value(key, REFER)
            total = changes.value(key, TOTAL)
            rows.append(
                {
                    "group": "All incidents" if key == TOTAL else names[key],
                    "incidents": total.text,
                    "current": refer_now.text,
                    "proposed": refer_then.text,
                    "change": difference(refer_then, refer_now).text,
                    "changed": difference(
                        total, changes.value(key, "unchanged"), signed=False
                    ).text,
                }
            )
        section.add(
            "table",
            caption=f"Incidents each policy says should be referred: {scope.title} and "
            f"{scope.outside}",
            columns=[
                {"key": "group", "label": "Kind of incident"},
                _num("incidents", "Number"),
                _num("current", "Would be referred: current"),
                _num("proposed", "Would be referred: proposed"),
                _num("change", "Change"),
                _num("changed", "Answer changes"),
            ],
            rows=rows,
            note=f"Current: {current.name}. Proposed: {proposed.name}. {scope.description}",
            name=f"impact_scope_{side.key}",
        )


def _sweep(ctx: Context, page: Page, current: Side) -> None:
    section = page.section("sweep", "One setting of the policy across its values")
    if not ctx.spec.sweep:
        section.say(
            "No setting of the policy was varied in this run. To see what each value of one "
            "of the current policy's settings would mean, run the impact command again with "
            "--sweep NAME=V1,V2,... or a range such as NAME=1..10."
        )
        return
    name, values = ctx.spec.sweep
    shown = list(values[:MAX_SWEEP_VALUES])
    spec = current.policy.parameters[name]
    in_run = current.params.get(name)
    points = sweep_points(plain(ctx.log.frame), current.policy, name, shown, current.params)
    route = current.route
    referral_rows, judgement_rows, chart_rows, order = [], [], [], []
    default_value = None
    for point in points:
        prefix = f"{name}={point.value}"
        ctx.add_category(
            f"{prefix}:outcome", _labels(point.outcome, contract.OUTCOMES), contract.OUTCOMES
        )
        ctx.add_category(
            f"{prefix}:consistency",
            _labels(point.consistency, contract.CONSISTENCY),
            contract.CONSISTENCY,
        )
        table = ctx.ledger.table(
            f"impact_sweep_{name}_{point.value}",
            caption=f"Incidents by what the current policy says with {words(name)} set to "
            f"{words(point.value)}, and how the decisions would be judged",
            rows=f"{prefix}:outcome",
            cols=f"{prefix}:consistency",
            where=ctx.current,
        )
        short = words(point.value)
        label = short
        if point.value == spec.default:
            label += " (the policy's default)"
            default_value = short
        elif point.value == in_run:
            label += " (as in this run)"
        order.append(short)
        refer = table.value(REFER, TOTAL)
        refer_share = table.share(
            list(GUIDANCE_REFER.numerator), list(GUIDANCE_REFER.denominator), row=TOTAL, axis="rows"
        )
        undecided_share = table.share([UNDECIDED], list(contract.OUTCOMES), row=TOTAL, axis="rows")
        referral_rows.append(
            {
                "value": label,
                "refer": refer.text,
                "refer_share": refer_share.text,
                "undecided": table.value(UNDECIDED, TOTAL).text,
                "undecided_share": undecided_share.text,
                "under": _measure(table, UNDER_ESCALATION).text,
                "resolvable": _measure(table, RESOLVABLE_REFERRED).text,
            }
        )
        judgement_rows.append(
            {"value": label, **{c: table.share(c, TOTAL).text for c in contract.CONSISTENCY}}
        )
        for series, figure in (
            (GUIDANCE_REFER.label(route), refer_share),
            ("share the guidance cannot decide", undecided_share),
        ):
            if figure.shown:
                chart_rows.append(
                    {"value": short, "series": _capital(series), "share": figure.value}
                )
    section.say(
        f"What the current policy ({current.policy.title}) would say with each value of "
        f"“{words(name)}”, every other setting staying as in this run."
        + (f" About this setting: {spec.description}" if spec.description else "")
    )
    if len(values) > len(shown):
        section.say(f"Only the first {len(shown)} of the {len(values)} values asked for are shown.")
    from ..charts import sweep_lines

    section.add(
        "chart",
        svg=ctx.chart(
            sweep_lines(
                pd.DataFrame(chart_rows, columns=["value", "series", "share"]),
                order,
                default_value,
                f"What each value of “{words(name)}” would mean",
                _capital(words(name)),
            )
        ),
        alt=(
            f"Line chart: for each value of {words(name)}, the share of incidents the guidance "
            f"says should be referred to {route} and the share it cannot decide; the policy's "
            "default is marked."
        ),
        caption=(
            "Shares of all incidents, for each value; the dashed line marks the policy's default. "
            "The table below gives the numbers."
        ),
    )
    section.add(
        "table",
        caption=f"What the current policy says with each value of “{words(name)}”",
        columns=[
            {"key": "value", "label": _capital(words(name))},
            _num("refer", "Would be referred"),
            _num("refer_share", "Share of incidents"),
            _num("undecided", "Cannot tell"),
            _num("undecided_share", "Share of incidents"),
            _num("under", "Not referred though the guidance says refer"),
            _num("resolvable", "Referred where the setting could have resolved it"),
        ],
        rows=referral_rows,
        note=(
            f"“Would be referred”: to {route}. The last two columns are shares of decided "
            f"incidents: {UNDER_ESCALATION.explained(route)}; and "
            f"{RESOLVABLE_REFERRED.explained(route)}. A value is not better because a share is "
            "lower: the value changes what the guidance asks, not what the settings did."
        ),
        name="impact_sweep_referrals",
    )
    section.add(
        "table",
        caption=f"How the settings' decisions would be judged with each value of “{words(name)}”"
        " (share of all incidents)",
        columns=[{"key": "value", "label": _capital(words(name))}]
        + [_num(c, CONSISTENCY_HEADINGS[c]) for c in contract.CONSISTENCY],
        rows=judgement_rows,
        note="A referral the guidance does not require is never a mistake; it is shown only to "
        "describe practice.",
        name="impact_sweep_judgements",
    )


def _measure(table: CountTable, measure: Any) -> Figure:
    """A measure's share over the table's consistency columns (its column margins)."""
    return table.share(list(measure.numerator), list(measure.denominator), row=TOTAL)


def _headline(
    ctx: Context, pair: tuple[Side, Side], answers: Answers, judged: dict[str, Figure]
) -> Headline:
    current, proposed = pair
    if is_zero(answers.total):
        return empty_headline(AREA, ctx.spec)
    if is_zero(answers.changed):
        status = (
            f"The proposed policy ({proposed.name}) would give the same answer as the current "
            f"one ({current.name}) for all {answers.total.text} incidents."
        )
    else:
        status = (
            f"Moving from the current policy ({current.name}) to the proposed one "
            f"({proposed.name}) would change the guidance's answer for {answers.changed.text} of "
            f"{answers.total.text} incidents: "
            f"{answers.refer('proposed').text} would be referred to {proposed.route}, against "
            f"{answers.refer('current').text} to {current.route} now."
        )
    look = []
    if positive(answers.only_proposed):
        look.append(
            f"{answers.only_proposed.text} incidents would be referred only under the proposed "
            "policy: see which factors it finds in them."
        )
    if positive(answers.only_current):
        look.append(
            f"{answers.only_current.text} incidents would be referred only under the current "
            "policy: see which factors it finds in them."
        )
    if positive(judged["new_under"]):
        look.append(
            f"{judged['new_under'].text} past decisions not to refer would be judged against "
            "the proposed policy's advice to refer."
        )
    return Headline(area=AREA, status=status, look_at=look, section="summary", attention=False)


# ---------------------------------------------------------------------------- follow-up


def follow_up(log: Any, spec: Any, folder: Path) -> None:
    """The incidents whose answer changes, for the safeguarding team (internal audience
    only; never on the page): `flipped_incidents.csv` and `.xlsx`."""
    from ...writing import write_table

    frame = flipped_incidents(log, spec)
    write_table(frame, Path(folder) / f"{FOLLOW_UP}.csv")
    write_table(frame, Path(folder) / f"{FOLLOW_UP}.xlsx")


def flipped_incidents(log: Any, spec: Any) -> pd.DataFrame:
    """One row per incident of the chosen period whose answer changes, in plain words:
    referred only under the proposed policy first."""
    rows = log.frame
    current, proposed = sides(rows, spec)
    change = CHANGE_TABLE[current.ev.outcome, proposed.ev.outcome]
    keep = np.flatnonzero((change != 0) & log.in_period(spec.period))
    keep = keep[np.argsort(change[keep], kind="stable")]
    picked = rows.iloc[keep]
    out = pd.DataFrame(
        {
            "incident": picked["incident_id"].astype(str).to_numpy(),
            "setting": picked["setting_id"].astype(str).to_numpy(),
            "reported on": pd.to_datetime(picked["reported_on"]).to_numpy(),
            "setting's decision": [
                DECISIONS.get(str(d), NOT_RECORDED) for d in picked["decision"].astype(object)
            ],
            "referred to children's social care": _yes_no(picked, "referred_social_care"),
            "how the answer changes": _labels(change[keep], [_CHANGE_WORDS[c] for c in CHANGES]),
        }
    )
    for side in (current, proposed):
        said = outcome_labels(side.route)
        judged = consistency_labels(side.route)
        out[f"{side.key} policy says"] = _labels(
            side.ev.outcome[keep], [said[o] for o in contract.OUTCOMES]
        )
        out[f"{side.key} policy finds"] = _titles(side, "t", keep)
        out[f"{side.key} policy cannot settle"] = _titles(side, "unknown", keep)
        out[f"decision judged under the {side.key} policy"] = _labels(
            side.ev.consistency[keep], [judged[c] for c in contract.CONSISTENCY]
        )
    return out


_CHANGE_WORDS = {
    "unchanged": "no change",
    "handle_to_refer": "referred only under the proposed policy (current: setting may deal)",
    "undecided_to_refer": "referred only under the proposed policy (current: cannot tell)",
    "refer_to_handle": "referred only under the current policy (proposed: setting may deal)",
    "refer_to_undecided": "referred only under the current policy (proposed: cannot tell)",
    "handle_to_undecided": "only the proposed policy cannot tell",
    "undecided_to_handle": "only the current policy cannot tell",
}


def _titles(side: Side, which: str, keep: np.ndarray) -> list[str]:
    """For the kept incidents, the titles of the factors present (`t`) or open (`unknown`)."""
    masks = np.column_stack([getattr(v, which)[keep] for v in side.ev.factors])
    titles = [rule.title for rule in side.policy.factors]
    return ["; ".join(t for t, m in zip(titles, row, strict=True) if m) for row in masks]


def _yes_no(rows: pd.DataFrame, column: str) -> list[str]:
    if column not in rows.columns:
        return [NOT_RECORDED] * len(rows)
    flags = rows[column].astype("boolean")
    return [NOT_RECORDED if pd.isna(v) else ("yes" if v else "no") for v in flags]
