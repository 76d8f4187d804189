"""Fairness: when the guidance says the same thing about two incidents, do children of
different groups get the same decision?

For each child characteristic (sex, special educational needs, ethnic group, looked
after, disadvantaged) every group, with a blank field as the group "not recorded", is
set against all other children on two measures:

- not referred when the guidance says refer (under-escalation): the direction that can
  leave a child unprotected;
- referred, as the policy counts a referral, holding the guidance's answer fixed.

The figures (`fairness_figures.py`) come only from published count tables. Referrals
where the guidance says the setting may deal with it are the safeguarding lead's choice:
they are counted, never compared as something to bring down, and a group referred more
often is described, never flagged.
"""

from __future__ import annotations

import pandas as pd

from ... import contract
from ..ledger import TOTAL, none_shown
from ..page import Headline, Page, Section
from ..words import (
    CHARACTERISTICS,
    NOT_RECORDED,
    and_list,
    empty_headline,
    group_heading,
    group_words,
    no_incidents,
)
from . import Context
from .fairness_figures import (
    DECIDED,
    LEVELS,
    MEASURES,
    REFERRAL,
    UNDER,
    Comparison,
    Measure,
    Tables,
    compare_all,
    declare,
    without_mirrors,
)

NAME = "fairness"
TITLE = "Fairness"
INTRO = (
    "Whether children of one sex, ethnic group, care status or level of need get different "
    "decisions from other children when the guidance says the same thing about their "
    "incidents."
)
SECTIONS = ("summary", "comparisons", "counts", "limits")

SHORT_LEVELS = {
    "flag": "unlikely to be chance",
    "watch": "worth watching, could be chance",
}
SHORT_NAMES = {"child_looked_after": "Looked after", "child_disadvantaged": "Disadvantaged"}
ANSWERS = {  # how a counts table heads each guidance answer
    "refer_police": "Refer",
    "handle_in_setting": "May deal",
    "insufficient_information": "Cannot tell",
}
MOST_NAMED = 3  # findings spelled out in the summary; the rest are in the table
MOST_LISTED = 6  # groups named in one breath; more are counted and left to the tables
UNRECORDED = {  # a blank characteristic, as a sentence names the children
    "child_sex": "children whose sex is not recorded",
    "child_sen": "children whose record does not say whether they have special educational needs",
    "child_ethnicity_group": "children whose ethnic group is not recorded",
    "child_looked_after": "children whose record does not say whether they are looked after",
    "child_disadvantaged": "children whose record does not say whether they are disadvantaged",
}


# ---------------------------------------------------------------------------- words


def who(c: Comparison, *, capital: bool = True) -> str:
    """The group in a sentence: "children with special educational needs"."""
    words = UNRECORDED.get(c.column) if c.group == NOT_RECORDED else None
    words = words or group_words(c.column, c.group)
    return words[0].upper() + words[1:] if capital else words


def how_often(ratio: float) -> str:
    """A ratio of frequencies in words: "about 2.6 times as often as"."""
    if ratio >= 1.95:
        shown = f"{ratio:.1f}".removesuffix(".0") if ratio < 3 else f"{ratio:.0f}"
        return f"about {shown} times as often as"
    if ratio >= 1:
        return f"about {round(100 * (ratio - 1))}% more often than"
    if ratio <= 0.55:
        return f"about {_fraction(ratio)} as often as"
    return f"about {round(100 * (1 - ratio))}% less often than"


def _fraction(ratio: float) -> str:
    for limit, words in ((0.15, "a tenth"), (0.22, "a fifth"), (0.29, "a quarter"),
                         (0.4, "a third")):  # fmt: skip
        if ratio <= limit:
            return words
    return "half"


def about(value: float) -> str:
    return "fewer than one" if value < 0.5 else f"about {round(value):,}"


def statement(c: Comparison, route: str, *, numbers: bool = True) -> str:
    """One finding from the group's side, in natural frequencies where they agree with
    the odds ratio: "Children with ... were not referred ... about 2.6 times as often as
    other children in the same setting: 19 of the 68 such incidents compared, where ..."."""
    return f"{who(c)} {predicate(c, route, numbers=numbers)}"


def predicate(c: Comparison, route: str, *, numbers: bool = True) -> str:
    """What a finding says of the group: the statement without its subject."""
    where = " in the same setting" if c.by_setting else ""
    if c.measure is UNDER:
        act = f"were not referred to {route} when the guidance says refer"
        whose = "such incidents"
    else:
        act = f"were referred to {route}"
        where = " whose incidents the guidance judged the same way" + where
        whose = "incidents with a recorded decision"
    if not _agrees(c):
        return f"{act} {'more' if c.higher else 'less'} often than other children{where}"
    text = f"{act} {how_often(c.k / c.expected)} other children{where}"
    if numbers:
        text += (
            f": {c.k:,.0f} of the {c.n:,.0f} {whose} compared, where other children's rates "
            f"would give {about(c.expected)}"
        )
    return text


def _agrees(c: Comparison) -> bool:
    """Whether the natural frequencies point the same way as the odds ratio (they could
    differ when strata pull apart); only then are they said."""
    return c.expected > 0 and c.k != c.expected and (c.k > c.expected) == c.higher


def level_words(c: Comparison) -> str:
    if c.made:
        if c.finding == "none":
            return "No clear difference"
        side = "More" if c.higher else "Less"
        what = "often not referred" if c.measure is UNDER else "often referred"
        doubt = " (as shown; the true counts could make it chance)" if c.could_be_chance else ""
        if not c.concern:
            return f"{side} {what} ({SHORT_LEVELS[c.finding]}{doubt}): described, not judged"
        return f"{side} {what}: {SHORT_LEVELS[c.finding]}{doubt}"
    return f"{'Not shown' if c.finding == 'withheld' else 'Not compared'}: {_why_not(c)}"


# What a publication adds to a finding that some true counts behind its adjusted ones
# (a count shown as 0 or the threshold can be a few) would make chance.
AS_SHOWN = (
    "the true counts behind the adjusted ones could make it chance; the safeguarding team's "
    "own report shows which"
)


# Why a comparison was not made, by its finding and whether a shown 0 (a publication's,
# which stands for a few as well as none) is among the counts it rests on: such a
# comparison is never said to have no incidents, or too few.
WHY_NOT = {
    ("absent", False): "no incidents with a recorded decision",
    ("absent", True): "no incidents with a recorded decision shown (a 0 can stand for a few)",
    ("cannot", False): "too few incidents",
    ("cannot", True): "a count it rests on is shown as 0 (a 0 can stand for a few)",
    ("withheld", False): "the adjusted counts it rests on do not fit together",
}


# The same reasons as the summary lists them, each before the groups it stopped.
WHY_NOT_LISTED = {
    ("absent", False): "No incidents with a recorded decision",
    ("absent", True): "No incidents with a recorded decision shown (a 0 can stand for a few)",
    ("cannot", False): "Too few incidents to compare",
    ("cannot", True): "Resting on a count shown as 0 (a 0 can stand for a few)",
    ("withheld", False): "Resting on adjusted counts that do not fit together (a group shown "
    "with more incidents than all the children)",
}


def _reason(c: Comparison) -> tuple[str, bool]:
    return c.finding, c.zero_shown and c.finding != "withheld"


def _why_not(c: Comparison) -> str:
    return WHY_NOT[_reason(c)]


def label(c: Comparison) -> str:
    name = SHORT_NAMES.get(c.column, CHARACTERISTICS[c.column])
    return f"{name}: {group_heading(c.column, c.group)}"


def _ratio(value: float) -> str:
    """An odds ratio or a bound, to two decimals; the far ends of a very wide interval
    in words (more digits would only suggest a precision there is not)."""
    if value > 100:
        return "over 100"
    if value < 0.01:
        return "under 0.01"
    return f"{value:.2f}"


# ---------------------------------------------------------------------------- the page


def build(ctx: Context) -> Page:
    page = Page(NAME, TITLE, INTRO)
    tables = declare(ctx)
    publication = ctx.spec.publication
    results = compare_all(tables, within_settings=not publication, zeros_hide=publication)
    route = ctx.route
    empty = _empty(tables, results)
    summary = page.section("summary", "Summary")
    _summary(summary, results, route, empty=no_incidents(ctx.spec) if empty else "")
    _comparisons(ctx, page.section("comparisons", "Each group against other children"), results)
    _counts(page.section("counts", "The counts behind the comparisons"), tables, route)
    _limits(page.section("limits", "What these numbers can and cannot show"), ctx, results)
    if empty:
        page.headlines.append(empty_headline("Fairness", ctx.spec))
    else:
        page.headlines.append(_headline(results, route))
    return page


def _empty(tables: Tables, results: list[Comparison]) -> bool:
    """Whether the selection holds no incidents: every guidance answer's total shown as 0
    and no comparison resting on anything (in a publication a group can be shown as 5
    beside a total shown as 0; the comparisons then say so)."""
    column = next(iter(CHARACTERISTICS))
    totals = [tables.answers[column, answer].value(TOTAL, TOTAL) for answer in contract.OUTCOMES]
    return none_shown(*totals) and all(c.finding == "absent" for c in results)


def _summary(section: Section, results: list[Comparison], route: str, *, empty: str = "") -> None:
    """The summary's figures and sentences; `empty`, when given, is said in their place
    (the selection holds no incidents)."""
    made = [c for c in results if c.made]
    flags = without_mirrors([c for c in made if c.finding == "flag" and c.concern])
    watch = without_mirrors([c for c in made if c.finding == "watch" and c.concern])
    other_way = without_mirrors([c for c in made if c.finding in ("flag", "watch")])
    other_way = [c for c in other_way if not c.concern]
    section.add(
        "figures",
        rows=[
            {"label": "comparisons made", "value": f"{len(made)} of {len(results)}"},
            {"label": "differences unlikely to be chance", "value": str(len(flags))},
            {"label": "worth watching", "value": str(len(watch))},
        ],
    )
    if empty:
        section.say(empty)
        return
    if flags:
        named = flags[:MOST_NAMED]
        text = " ".join(f"**{statement(c, route)}.**" for c in named)
        more = len(flags) - len(named)
        text += (
            f" {more} more such difference{'s are' if more > 1 else ' is'} in the table below."
            if more
            else ""
        )
        text += (
            f" {'Each' if len(flags) > 1 else 'This'} is unlikely to be chance, and a reason "
            "to look at those decisions together, not proof of unfair treatment."
        )
        unsure = [who(c, capital=False) for c in named if c.could_be_chance]
        if unsure:
            text += f" For {and_list(unsure)}, that holds for the counts as shown: {AS_SHOWN}."
        section.add("callout", text=text, tone="attention")
    elif not made:
        section.say("No group of children could be compared: see below for why.")
    else:
        where = (
            "every comparison"
            if len(made) == len(results)
            else (f"the {len(made)} comparisons that could be made")
        )
        section.say(
            f"In {where}, no group of children was more often left unreferred when the "
            "guidance says refer, or referred less often, than chance would explain, once the "
            "guidance's answer is held fixed." + _could_be_flag(made)
        )
    if watch:
        further = "further " if flags else ""
        named = ""
        if not flags and len(watch) <= MOST_NAMED:
            said = [f"{who(c, capital=False)} {predicate(c, route, numbers=False)}" for c in watch]
            named = f" ({'; '.join(said)})"
        section.say(
            f"{len(watch)} {further}difference{'s pass' if len(watch) > 1 else ' passes'} the "
            f"usual 95% level only{named}; with {len(made)} comparisons, one or two like that "
            "are expected by chance alone, so they are worth watching, not acting on."
        )
    if other_way:
        said = [f"{who(c, capital=False)} {predicate(c, route, numbers=False)}" for c in other_way]
        listed = f": {'; '.join(said[:MOST_NAMED])}" + ("; and more" if len(said) > 3 else "")
        section.say(
            f"{len(other_way)} difference{'s go' if len(other_way) > 1 else ' goes'} the other "
            f"way{listed}. A group referred more often than other children is described, not "
            "judged: a referral is never wrong in itself."
        )
    section.say(_not_compared(results))


def _not_compared(results: list[Comparison]) -> str:
    """Which groups could not be compared, by reason and by comparison."""
    missing = [c for c in results if not c.made]
    if not missing:
        return "Every group could be compared on both measures."
    if all(c.finding == "absent" and not c.zero_shown for c in results):
        return "There are no incidents with a recorded decision to compare."
    if all(c.finding == "absent" for c in results):
        return (
            "No incidents with a recorded decision are shown to compare (a 0 can stand for a few)."
        )
    sentences = [f"{len(missing)} of {len(results)} comparisons could not be made."]
    for reason, why in WHY_NOT_LISTED.items():
        measures: dict[str, list[str]] = {}
        for c in missing:
            if _reason(c) == reason:
                measures.setdefault(who(c, capital=False), []).append(c.measure.name)
        if not measures:
            continue
        segments = []
        for scope, wanted in (
            ("", {m.name for m in MEASURES}),
            ("where the guidance says refer, ", {UNDER.name}),
            ("on referral overall, ", {REFERRAL.name}),
        ):
            names = [g for g, m in measures.items() if set(m) == wanted]
            if len(names) > MOST_LISTED:
                segments.append(f"{scope}{len(names)} groups (see the tables below)")
            elif names:
                segments.append(scope + and_list(names))
        sentences.append(f"{why}: {'; '.join(segments)}.")
    return " ".join(sentences)


def _could_be_flag(made: list[Comparison]) -> str:
    """A publication's caveat after "no group ... than chance would explain" when the true
    counts behind the adjusted ones could make a difference of concern a flag."""
    groups = list(dict.fromkeys(who(c, capital=False) for c in made if c.could_be_flag))
    if not groups:
        return ""
    return (
        " That is as shown: the true counts behind the adjusted ones could make a difference "
        f"for {and_list(groups)} unlikely to be chance; the safeguarding team's own report "
        "shows which."
    )


def _comparisons(ctx: Context, section: Section, results: list[Comparison]) -> None:
    from ..charts import forest_chart

    route = ctx.route
    for measure in MEASURES:
        rows = [c for c in results if c.measure is measure]
        made = [c for c in rows if c.made]
        heading = measure.heading(route)
        if made:
            data = pd.DataFrame(
                {
                    "label": [label(c) for c in made],
                    "odds_ratio": [c.odds_ratio for c in made],
                    "low": [c.ci_low for c in made],
                    "high": [c.ci_high for c in made],
                    "level": [LEVELS[c.finding] for c in made],
                }
            )
            flagged = [label(c) for c in made if c.finding == "flag"]
            section.add(
                "chart",
                svg=ctx.chart(forest_chart(data, heading, tuple(LEVELS.values()))),
                alt=(
                    f"For each of {len(made)} groups, its odds ratio and 95% interval for "
                    f"{heading.lower()}, on a scale where 1 means no difference. Beyond "
                    f"the 99.8% interval: {', '.join(flagged) if flagged else 'none'}."
                ),
                caption=(
                    "Each point is a group's odds ratio; the line across it is its 95% "
                    "interval. Right of the line at 1: more often than other children; left: "
                    "less often."
                ),
            )
        else:
            section.say(f"**{heading}**: no group could be compared.")
        section.add(
            "table",
            caption=f"{heading}: each group against all other children",
            columns=[
                {"key": "group", "label": "Group"},
                {"key": "finding", "label": "What it shows"},
                {"key": "n", "label": "Their incidents compared", "align": "right"},
                {"key": "k", "label": measure.counted(), "align": "right"},
                {"key": "expected", "label": "At other children's rates", "align": "right"},
                {"key": "or", "label": "Odds ratio", "align": "right"},
                {"key": "ci", "label": "95% interval", "align": "right"},
                {"key": "held", "label": "Compared within"},
            ][: 8 if _mixed(made) else 7],
            rows=[_row(c) for c in rows],
            note=_how_to_read(measure, route, made),
            name=f"fairness_{measure.name}_odds_ratios",
        )


def _row(c: Comparison) -> dict[str, str]:
    row = {"group": label(c), "finding": level_words(c)}
    if c.made:
        row.update(
            n=f"{c.n:,.0f}",
            k=f"{c.k:,.0f}",
            expected=about(c.expected).removeprefix("about "),
            ci=f"{_ratio(c.ci_low)}–{_ratio(c.ci_high)}",
            held="each setting" if c.by_setting else "the whole trust",
        )
        row["or"] = _ratio(c.odds_ratio)
    return row


def _mixed(made: list[Comparison]) -> bool:
    """Whether some comparisons are within settings and others across the trust."""
    return len({c.by_setting for c in made}) > 1


def _how_to_read(measure: Measure, route: str, made: list[Comparison]) -> str:
    what = (
        f"where the guidance says refer to {route} and the decision is recorded"
        if measure is UNDER
        else "with a recorded decision, whatever the guidance said"
    )
    if _mixed(made):
        within = "Each row says whether it compares children within each setting or across "
        within += "the whole trust (where the counts by setting could not be used)."
    elif made and made[0].by_setting:
        within = "Every comparison here is made within each setting."
    else:
        within = "Every comparison here is made across the whole trust."
    return (
        f"How to read this: “Their incidents compared” counts the group's incidents {what}; "
        "“at other children's rates” is how many would have had the same decision had the "
        "group been treated as other children were, with the same guidance answer in the "
        f"same setting. {within} The odds ratio compares the group's odds of that decision "
        "with other children's, holding those fixed (the Mantel–Haenszel method): 1 means "
        "no difference, 2 twice the odds, 0.5 half. A difference beyond the strict 99.8% "
        "interval is called unlikely to be chance; beyond the usual 95% interval only, "
        "worth watching. For a yes-or-no characteristic the “yes” and “no” rows usually show "
        "one difference from its two sides; the summary says it once. Incidents in a setting "
        "with no other child to compare with are left out."
    )


def _counts(section: Section, tables: Tables, route: str) -> None:
    section.say(
        f"Refer: the guidance says refer to {route}. May deal: the guidance says "
        "the setting may deal with it, so a referral there is the setting's own choice. "
        "Cannot tell: a field the guidance needs is blank. The same counts split by setting, "
        "which the comparisons within settings use, are in the report's tables folder."
    )
    columns = [{"key": "group", "label": "Group"}]
    for answer in contract.OUTCOMES:
        short = ANSWERS[answer]
        columns += [
            {"key": f"{answer}_yes", "label": f"{short}: referred", "align": "right"},
            {"key": f"{answer}_no", "label": f"{short}: not referred", "align": "right"},
        ]
        if answer == "refer_police":
            columns.append(
                {"key": "share_kept", "label": "Refer: share not referred", "align": "right"}
            )
    columns.append({"key": "blank", "label": "Decision not recorded", "align": "right"})
    for column, name in CHARACTERISTICS.items():
        first = tables.answers[column, contract.OUTCOMES[0]]
        rows = []
        for group in [*first.row_order, TOTAL]:
            row = {"group": "All children" if group == TOTAL else group_heading(column, group)}
            blanks = []
            for answer in contract.OUTCOMES:
                table = tables.answers[column, answer]
                row[f"{answer}_yes"] = table.value(group, "yes").text
                row[f"{answer}_no"] = table.value(group, "no").text
                blanks.append(table.value(group, NOT_RECORDED))
            row["share_kept"] = (
                tables.answers[column, "refer_police"].share("no", DECIDED, group).text
            )
            row["blank"] = (
                f"{sum(b.value for b in blanks):,.0f}"  # type: ignore[misc]
                if all(b.shown for b in blanks)
                else "not shown"
            )
            rows.append(row)
        section.add(
            "table",
            caption=f"{name}: decisions by what the guidance says",
            columns=columns,
            rows=rows,
            name=f"fairness_counts_{column}",
        )


def _limits(section: Section, ctx: Context, results: list[Comparison]) -> None:
    period = f"the academic year {ctx.spec.period}" if ctx.spec.period else "every year in the log"
    items = [
        "A difference is a reason to look at those decisions together, not proof of unfair "
        "treatment: the log does not hold everything a safeguarding lead weighed, such as "
        "what the child said, earlier concerns or the family's circumstances.",
        "No difference is not proof of fair treatment: in a small group even a real "
        "difference may not show. A wide interval says the numbers are too few to tell.",
        f"Many comparisons are made at once ({len(results)} here), so a few will pass the "
        "usual 95% level by chance alone. Only a difference beyond the stricter 99.8% "
        "interval is called unlikely to be chance.",
        "Each group is set against all other children together, not against each other "
        "group in turn. Where a characteristic was left blank, those children form a group "
        "of their own (“not recorded”).",
        "The referral comparison counts every referral, including those the guidance "
        "leaves to the safeguarding lead's judgement. A group referred more or less often "
        "there is described, not judged: a referral is never wrong in itself. Not "
        "being referred when the guidance says refer is the comparison that can show a "
        "child left without the protection the guidance advises.",
        f"The figures cover {period}; incidents without a recorded decision are not compared.",
    ]
    if ctx.log.has_scope:
        scope = ctx.log.policy.scope
        items.append(
            f"This guidance is written for {scope.title}; {scope.outside} are compared "
            "alongside them, with the guidance's answer held fixed either way."
        )
    if ctx.spec.publication:
        items.append(
            "In this publication every count is adjusted a little to protect children; a "
            "comparison whose adjusted counts do not fit together (a group shown with more "
            "incidents than all the children) is not shown, and estimates are worked out "
            "from the protected counts only. Groups are compared across the whole trust, "
            "not setting by setting: protection shows each small count by setting as 0 or 5, "
            "and many of those added together would make a difference that is not there."
        )
    section.add("list", items=items)


def _look_at(c: Comparison, route: str) -> str:
    """What to look at for a finding, with the counts behind it (and, for a publication's
    finding that the adjusted counts could make chance, that it is as shown)."""
    text = _look_at_counts(c, route)
    return text + (f" That is as shown: {AS_SHOWN}." if c.could_be_chance else "")


def _look_at_counts(c: Comparison, route: str) -> str:
    who_ = who(c, capital=False)
    if not _agrees(c):
        return f"Look together at the decisions for {who_}: they {predicate(c, route)}."
    rates = f"where other children's rates would give {about(c.expected)}"
    if c.measure is UNDER and not c.higher:  # then it is the other children who are kept
        return (
            f"Look together at the decisions for children other than {who_} where the "
            f"guidance says refer: {c.k:,.0f} of the {c.n:,.0f} such incidents of {who_} were "
            f"not referred, {rates}, so other children were kept in the setting more often."
        )
    if c.measure is UNDER:
        return (
            f"Look together at the decisions for {who_} where the guidance says refer: "
            f"{c.k:,.0f} of the {c.n:,.0f} such incidents compared were not referred, {rates}."
        )
    return (
        f"Look together at the decisions for {who_}: {c.k:,.0f} of the {c.n:,.0f} incidents "
        f"with a recorded decision compared were referred to {route}, {rates}."
    )


def _headline(results: list[Comparison], route: str) -> Headline:
    """The front page's block: only differences that could leave children unprotected are
    pointed at; the other direction is left to the page, described, not judged."""
    made = [c for c in results if c.made]
    flags = without_mirrors([c for c in made if c.finding == "flag" and c.concern])
    watch = without_mirrors([c for c in made if c.finding == "watch" and c.concern])
    if flags:
        status = f"{statement(flags[0], route, numbers=False)}: unlikely to be chance."
        if flags[0].could_be_chance:
            status = status[:-1] + f" as shown, though {AS_SHOWN}."
        if len(flags) > 1:
            status = (
                status[:-1]
                + f", and {len(flags) - 1} more such difference"
                + ("s." if len(flags) > 2 else ".")
            )
    elif not made and any(c.finding == "withheld" for c in results):
        status = (
            "No group of children could be compared here: the adjusted counts the "
            "comparisons rest on do not fit together, or are too few."
        )
    elif not made and any(c.zero_shown for c in results):
        status = (
            "No group of children could be compared here: the counts the comparisons rest "
            "on are too few, or shown as 0, which can stand for a few."
        )
    elif not made:
        status = "No group of children could be compared: there are too few incidents."
    else:
        status = (
            "No group of children was more often left unreferred when the guidance says "
            "refer, or referred less often, than chance would explain, in the "
            f"{len(made)} of {len(results)} comparisons that could be made." + _could_be_flag(made)
        )
    look = [_look_at(c, route) for c in flags][:MOST_NAMED]
    look += [
        f"Worth watching: {who(c, capital=False)} {predicate(c, route, numbers=False)} "
        "(could be chance)."
        for c in watch
    ][: 0 if look else MOST_NAMED]  # the front page names what could be chance only alone
    return Headline(
        area="Fairness",
        status=status,
        look_at=look,
        section="summary",
        attention=bool(flags),
    )
