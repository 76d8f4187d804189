"""The policy-change impact page: every number agrees with two assessments counted
independently from the rows; the page names policies by title and routes as each policy
does, never discourages a referral, reads only the ledger, and works with a custom policy
file on either side, a period, a sweep and the command line."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ypsi_audit import contract, resources
from ypsi_audit.cli import main
from ypsi_audit.engine import assess
from ypsi_audit.policy import load_policy
from ypsi_audit.reports.assessed import AssessedLog
from ypsi_audit.reports.ledger import TOTAL
from ypsi_audit.reports.page import Page
from ypsi_audit.reports.pages import build_pages
from ypsi_audit.reports.pages import impact as impact_page
from ypsi_audit.reports.spec import RunSpec
from ypsi_audit.stats import academic_year
from ypsi_audit.synth import generate

SAMPLE = resources.sample_log()
CHESHIRE, NATIONAL = "cheshire-quick-guide", "ukcis-2024"
IMAGE_LEVELS = ("suggestive", "semi_nude", "nude", "sexual_act")


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return generate(6, 2, seed=3)


def build(frame: pd.DataFrame, protect: Any = None, **options: Any) -> Page:
    options.setdefault("policy", CHESHIRE)
    options.setdefault("compare_with", NATIONAL)
    spec = RunSpec.build("impact", input="log.csv", out="out", **options)
    assessed = assess(frame, spec.policy.policy(), spec.policy.parameters, with_states=True)
    page_log = AssessedLog.of(assessed, {"rows_read": len(frame)}, spec)
    pages, _ = build_pages(page_log, spec, ["impact"], protect=protect)
    return pages["impact"]


@pytest.fixture(scope="module")
def page(log: pd.DataFrame) -> Page:
    return build(log, sweep="wide_age_gap_years=1..5")


def table(page: Page, name: str) -> list[dict[str, str]]:
    found = [b for s in page.sections for b in s.blocks if b.kind == "table" and b.name == name]
    assert len(found) == 1, name
    return found[0].rows


def row(rows: list[dict[str, str]], first: str) -> dict[str, str]:
    key = next(iter(rows[0]))
    matches = [r for r in rows if r[key] == first]
    assert len(matches) == 1, first
    return matches[0]


def number(text: str) -> int:
    return int(text.replace(",", "").replace("−", "-").replace("+", ""))


def texts(page: Page, section: str) -> str:
    return " ".join(b.text for b in page.section(section).blocks if b.kind == "text")


def visible(page: Page) -> str:
    """Everything a reader sees of the page's sections and headlines, as plain text."""
    body = "".join(s.render() for s in page.sections)
    body = re.sub(r'<img [^>]*alt="([^"]*)"[^>]*>', r" \1 ", body)
    body = html.unescape(re.sub(r"<[^>]+>", " ", body))
    heads = " ".join(f"{h.area} {h.status} {' '.join(h.look_at)}" for h in page.headlines)
    return f"{page.title} {page.intro} {body} {heads}"


def outcomes(frame: pd.DataFrame, policy: str, params: dict | None = None) -> pd.Series:
    return assess(frame, policy, params)["guidance_outcome"].astype(str)


# ---------------------------------------------------------------------------- numbers


def test_outcome_table_and_summary_agree_with_two_assessments(
    log: pd.DataFrame, page: Page
) -> None:
    before, after = outcomes(log, CHESHIRE), outcomes(log, NATIONAL)
    cross = pd.crosstab(before, after)
    rows = table(page, "impact_outcomes")
    labels = {
        "refer_police": "Refer to the police",
        "handle_in_setting": "The setting may deal with it",
        "insufficient_information": "Cannot tell: a field the guidance needs is blank",
    }
    for code, label in labels.items():
        shown = row(rows, label)
        for col in contract.OUTCOMES:
            expected = cross.loc[code, col] if col in cross.columns else 0
            assert number(shown[col]) == expected, (code, col)
        assert number(shown[TOTAL]) == (before == code).sum()
    assert number(row(rows, "All incidents")[TOTAL]) == len(log)

    figures = {
        f["label"]: f["value"]
        for b in page.section("summary").blocks
        if b.kind == "figures"
        for f in b.rows
    }
    refer_before, refer_after = (before == "refer_police").sum(), (after == "refer_police").sum()
    changed = (before != after).sum()
    assert number(figures["would be referred under the current policy"]) == refer_before
    assert number(figures["would be referred under the proposed policy"]) == refer_after
    assert number(figures["incidents whose answer changes"]) == changed > 0
    summary = texts(page, "summary")
    # "would be referred" counts only the incidents each policy refers; blanks said apart
    assert f"says {refer_before} should be referred to the police;" in summary
    assert f"says {refer_after} should be referred to the police or children's social care" in (
        summary
    )
    undecided = (
        (before == "insufficient_information").sum(),
        (after == "insufficient_information").sum(),
    )
    assert f"blank: {undecided[0]} under the current policy and {undecided[1]} under" in summary
    only_after = ((after == "refer_police") & (before != "refer_police")).sum()
    only_before = ((before == "refer_police") & (after != "refer_police")).sum()
    assert (
        f"The answer changes for {changed} incidents: {only_after} would be referred under the "
        f"proposed policy only and {only_before} under the current policy only"
    ) in summary
    assert len(page.section("summary").blocks) <= 5  # figures and 2 to 4 sentences


def test_flips_name_the_factors_each_policy_finds(log: pd.DataFrame, page: Page) -> None:
    before, after = outcomes(log, CHESHIRE), outcomes(log, NATIONAL)
    only_after = ((after == "refer_police") & (before != "refer_police")).to_numpy()
    only_before = ((before == "refer_police") & (after != "refer_police")).to_numpy()
    undecided_after = (
        (after == "insufficient_information") & (before != "insufficient_information")
    ).to_numpy()
    for side, policy, present_in, open_in in (
        ("proposed", NATIONAL, only_after, undecided_after),
        ("current", CHESHIRE, only_before, None),
    ):
        rows = table(page, f"impact_factors_{side}")
        rules = load_policy(policy).factors
        assert [r["factor"] for r in rows] == [rule.title for rule in rules]
        states = assess(frame=log, policy=policy, with_states=True)
        for rule, shown in zip(rules, rows, strict=True):
            column = states[f"factor:{rule.id}"].to_numpy()
            assert number(shown["present"]) == (column[present_in] == 1).sum(), rule.id
            if open_in is not None:
                assert number(shown["open"]) == (column[open_in] == 2).sum(), rule.id
    assert sum(number(r["present"]) for r in table(page, "impact_factors_proposed")) >= (
        only_after.sum()
    )


def test_referrals_by_setting_and_year(log: pd.DataFrame, page: Page) -> None:
    before, after = outcomes(log, CHESHIRE), outcomes(log, NATIONAL)
    frame = pd.DataFrame(
        {
            "setting": log["setting_id"].astype(str),
            "year": academic_year(log["reported_on"]).astype(str),
            "before": before.to_numpy(),
            "after": after.to_numpy(),
        }
    )
    for by, name in (
        ("setting", "impact_referrals_by_setting"),
        ("year", "impact_referrals_by_year"),
    ):
        rows = table(page, name)
        for key, group in frame.groupby(by):
            shown = row(rows, key)
            assert number(shown["incidents"]) == len(group)
            assert number(shown["current"]) == (group["before"] == "refer_police").sum()
            assert number(shown["proposed"]) == (group["after"] == "refer_police").sum()
            assert (
                number(shown["undecided_proposed"])
                == (group["after"] == "insufficient_information").sum()
            )
            change = (group["after"] == "refer_police").sum() - (
                group["before"] == "refer_police"
            ).sum()
            assert shown["change"] == ("0" if change == 0 else f"{change:+d}".replace("-", "−"))
    charts = [b for b in page.section("volume").blocks if b.kind == "chart"]
    assert len(charts) == 1 and charts[0].svg.startswith("<svg")


def test_judgement_counts_referrals_as_each_policy_does(log: pd.DataFrame, page: Page) -> None:
    cheshire = assess(log, CHESHIRE)["consistency"].astype(str)
    national = assess(log, NATIONAL)["consistency"].astype(str)
    rows = table(page, "impact_judgement")
    assert len(rows) == len(contract.CONSISTENCY) + 1
    for code, shown in zip(contract.CONSISTENCY, rows, strict=False):
        assert number(shown["current"]) == (cheshire == code).sum(), code
        assert number(shown["proposed"]) == (national == code).sum(), code
    labels = [r["judgement"] for r in rows]
    assert "Referred by the safeguarding lead's choice, which the guidance allows" in labels
    assert "Referred where the guidance says the setting could have resolved it" in labels
    police = (log["decision"] == "referred_police").fillna(False)
    either = police | log["referred_social_care"].fillna(False).astype(bool)
    said = texts(page, "judgement")
    assert f"(to the police), the settings referred {police.sum()} of these" in said
    assert f"(to the police or children's social care), they referred {either.sum()}" in said
    new = ((national == "under_escalation") & (cheshire != "under_escalation")).sum()
    assert f"of which {new} are not judged so under the current policy" in said


def test_incidents_with_and_without_an_image_apart(log: pd.DataFrame, page: Page) -> None:
    before, after = outcomes(log, CHESHIRE), outcomes(log, NATIONAL)
    level = log["content_level"].astype(object)
    groups = {
        "Incidents with an image": level.isin(IMAGE_LEVELS).to_numpy(),
        "Incidents without an image (messages or contact only)": (level == "none").to_numpy(),
        "The record does not say which": level.isna().to_numpy(),
    }
    rows = table(page, "impact_scope_proposed")
    for label, mask in groups.items():
        shown = row(rows, label)
        assert mask.sum() > 0
        assert number(shown["incidents"]) == mask.sum()
        assert number(shown["current"]) == (before[mask] == "refer_police").sum()
        assert number(shown["proposed"]) == (after[mask] == "refer_police").sum()
        assert number(shown["changed"]) == (before[mask] != after[mask]).sum()


def test_sweep_shows_each_value_with_the_default_marked(log: pd.DataFrame, page: Page) -> None:
    rows = table(page, "impact_sweep_referrals")
    judged = table(page, "impact_sweep_judgements")
    assert [r["value"] for r in rows] == ["1", "2", "3 (the policy's default)", "4", "5"]
    for value, shown, shares in zip(range(1, 6), rows, judged, strict=True):
        assessed = assess(log, CHESHIRE, {"wide_age_gap_years": value})
        refer = (assessed["guidance_outcome"] == "refer_police").sum()
        assert number(shown["refer"]) == refer
        assert shown["refer_share"] == f"{100 * refer / len(log):.0f}%"
        consistency = assessed["consistency"].astype(str)
        under = (consistency == "under_escalation").sum() / consistency.isin(
            ["under_escalation", "consistent_referral"]
        ).sum()
        assert shown["under"] == f"{100 * under:.0f}%"
        for code in contract.CONSISTENCY:
            assert shares[code] == f"{100 * (consistency == code).mean():.0f}%"
    charts = [b for b in page.section("sweep").blocks if b.kind == "chart"]
    assert len(charts) == 1 and "default is marked" in charts[0].alt
    assert "not better because a share is lower" in " ".join(
        b.note for b in page.section("sweep").blocks
    )


# ---------------------------------------------------------------------------- wording


def forbidden_ids(*policies: str) -> set[str]:
    ids: set[str] = set()
    for name in policies:
        policy = load_policy(name)
        ids |= {policy.id, policy.label, *policy.parameters}
        for section in ("factors", "experimental", "recording"):
            ids |= {rule.id for rule in policy.rules(section)}
    ids |= set(contract.OUTCOMES) | set(contract.CONSISTENCY)
    for column in contract.COLUMNS:
        ids |= {column.name, *(c for c in column.codes if "_" in c)}
    return {i for i in ids if re.search(r"[_@-]", i)}


def test_no_internal_id_and_policies_named_by_title(page: Page) -> None:
    text = visible(page)
    found = [
        i for i in forbidden_ids(CHESHIRE, NATIONAL) if re.search(rf"\b{re.escape(i)}\b", text)
    ]
    assert found == []
    assert load_policy(CHESHIRE).title in text and load_policy(NATIONAL).title in text
    assert "children's social care" in texts(page, "summary")


def test_wording_never_discourages_a_referral(page: Page) -> None:
    text = visible(page).lower()
    for phrase in (
        "over-escalat",
        "too many",
        "too often",
        "unnecessar",
        "fewer referrals",
        "reduce",
        "bring down",
        "could have avoided",
        "mistakenly",
    ):
        assert phrase not in text, phrase
    assert "a referral the guidance does not require is never a mistake" in text
    headline = page.headlines[0]
    assert headline.attention is False and headline.section == "summary"
    assert "would change the guidance's answer" in headline.status


def test_headline_says_what_the_change_would_mean(log: pd.DataFrame, page: Page) -> None:
    before, after = outcomes(log, CHESHIRE), outcomes(log, NATIONAL)
    status = page.headlines[0].status
    assert status.count(".") == 1 and status.endswith(".")  # one sentence
    assert f"for {(before != after).sum()} of {len(log)} incidents" in status
    assert f"{(after == 'refer_police').sum()} would be referred to the police or" in status


# ---------------------------------------------------------------------------- variants


def test_custom_policy_files_on_either_side(log: pd.DataFrame, tmp_path: Path) -> None:
    text = (resources.policy_dir() / f"{CHESHIRE}.yaml").read_text(encoding="utf-8")
    custom = tmp_path / "ours.yaml"
    custom.write_text(
        text.replace("id: cheshire-quick-guide", "id: our-guide")
        .replace("title: Cheshire Constabulary YPSI quick guide", "title: Our trust's guide")
        .replace("    default: 3\n    min: 1", "    default: 1\n    min: 1"),
        encoding="utf-8",
    )
    ours = outcomes(log, str(custom))
    assert (ours != outcomes(log, CHESHIRE)).any()
    for current, proposed in ((str(custom), NATIONAL), (NATIONAL, str(custom))):
        built = build(log, policy=current, compare_with=proposed)
        before, after = outcomes(log, current), outcomes(log, proposed)
        rows = table(built, "impact_outcomes")
        assert number(rows[-1]["refer_police"]) == (after == "refer_police").sum()
        assert number(rows[0][TOTAL]) == (before == "refer_police").sum()
        text = visible(built)
        assert "Our trust's guide" in text and "our-guide" not in text


def test_same_policy_with_other_parameters(log: pd.DataFrame) -> None:
    built = build(log, compare_with=CHESHIRE, compare_params={"wide_age_gap_years": 1})
    before = outcomes(log, CHESHIRE)
    after = outcomes(log, CHESHIRE, {"wide_age_gap_years": 1})
    text = visible(built)
    assert "Cheshire Constabulary YPSI quick guide with wide age gap years set to 1" in text
    assert "wide_age_gap_years" not in text
    gap = row(table(built, "impact_factors_proposed"), "A wide age gap in a relationship")
    newly = ((after == "refer_police") & (before != "refer_police")).sum()
    assert number(gap["present"]) == newly > 0
    assert "0 under the current policy only" in texts(built, "summary")
    assert "judged against" not in texts(built, "judgement")
    assert "The settings referred" in texts(built, "judgement")  # one route, one count


def test_same_policy_and_parameters_say_nothing_changes(log: pd.DataFrame) -> None:
    built = build(log, compare_with=CHESHIRE)
    assert "The two policies give the same answer for every incident." in texts(built, "summary")
    assert "would give the same answer" in built.headlines[0].status
    assert built.headlines[0].look_at == []


def test_period_restricts_every_table_but_the_years(log: pd.DataFrame) -> None:
    built = build(log, period="2023-24")
    years = academic_year(log["reported_on"]).astype(str).to_numpy()
    chosen = log[years == "2023-24"]
    before, after = outcomes(chosen, CHESHIRE), outcomes(chosen, NATIONAL)
    assert number(table(built, "impact_outcomes")[-1][TOTAL]) == len(chosen) < len(log)
    assert number(row(table(built, "impact_referrals_by_setting"), "All settings")["proposed"]) == (
        (after == "refer_police").sum()
    )
    assert number(row(table(built, "impact_scope_proposed"), "All incidents")["changed"]) == (
        (before != after).sum()
    )
    by_year = table(built, "impact_referrals_by_year")
    assert {r["key"] for r in by_year} == {"2022-23", "2023-24", "All years"}
    assert "For context, the table by academic year covers every year" in texts(built, "volume")
    assert "reported in 2023-24" in texts(built, "summary")


def test_a_period_without_incidents_says_so(log: pd.DataFrame) -> None:
    """As on every report page: one plain sentence, no "0 of 0" or "0 of them" below it,
    and a headline marked empty so the front page says there is nothing to review."""
    built = build(log, period="2030-31", sweep="wide_age_gap_years=2,3")
    plain = "There are no incidents for this selection, so there is nothing to review"
    assert plain in texts(built, "summary")
    assert built.headlines[0].empty and built.headlines[0].status.startswith(plain)
    assert number(table(built, "impact_outcomes")[-1][TOTAL]) == 0
    below = " ".join(texts(built, s) for s in ("outcomes", "flips"))
    assert not re.search(r"\b0 of (0|them)\b", below), below


def test_a_publication_with_no_incident_shown_does_not_promise_none(log: pd.DataFrame) -> None:
    """A published 0 can stand for 1 to 4, so the page says none are shown, not none exist."""

    built = build(log, protect=true_counts, audience="publication", period="2030-31")
    said = "No incidents are shown for this selection (a count from 1 to 4 is shown as 0 or 5)"
    assert said in texts(built, "summary")
    assert built.headlines[0].status.startswith(said)


def test_no_sweep_says_how_to_ask_for_one(log: pd.DataFrame) -> None:
    built = build(log)
    assert "No setting of the policy was varied" in texts(built, "sweep")
    assert [b.kind for b in built.section("sweep").blocks] == ["text"]


def true_counts(ledger: Any) -> dict:
    """A stand-in protection that shows every true count (the pages' wording is tested,
    not the noise)."""
    return {
        name: (
            t.true.astype(float),
            pd.DataFrame("", index=t.true.index, columns=t.true.columns),
        )
        for name, t in ledger.tables.items()
    }


def test_a_publication_says_what_a_0_in_the_flips_stands_for(log: pd.DataFrame) -> None:
    """An outside attacker read "cannot tell for 0" from a count of 1 to 4 shown as 0: in
    a publication the flips' sentences say what a 0 among them stands for."""

    def small_as_0(ledger: Any) -> dict:
        out = true_counts(ledger)
        for values, _ in out.values():
            values[(values > 0) & (values < 5)] = 0.0
        return out

    note = "A count shown as 0 here can be anything from 0 to 4."
    said = texts(build(log, protect=small_as_0, audience="publication"), "flips")
    flips = [s for s in said.split("**") if "cannot tell for" in s]
    assert any("cannot tell for 0." in s for s in flips)
    assert all(note in s for s in flips if "for 0." in s or " with 0 of" in s)
    assert note not in texts(build(log, protect=true_counts, audience="internal"), "flips")
    # the summary and the judgement say it too (a later attacker read "0 would be referred
    # under the proposed policy only" where 4 would), and a shown 0 change is not "the same
    # answer for every incident"
    one = build(log, protect=small_as_0, audience="publication", settings="S01")
    summary = texts(one, "summary")
    assert (
        "0 would be referred under the proposed policy only and 6 under the current policy "
        f"only. {note}" in summary
    )
    assert texts(one, "judgement").endswith(note)
    quiet = build(log, protect=small_as_0, audience="publication", settings="S03", period="2023-24")
    assert "No incident is shown with a changed answer (a count from 1 to 4 is shown as 0 or " in (
        texts(quiet, "summary")
    )


def test_publication_pages_read_only_the_ledger(log: pd.DataFrame) -> None:
    """The second pass of a publication gets shuffled rows: a number worked out from the
    rows instead of the ledger would differ from the internal page."""

    options = {"sweep": "wide_age_gap_years=2,3", "period": "2022-23"}
    internal = build(log, **options)
    published = build(log, protect=true_counts, audience="publication", **options)
    for section in impact_page.SECTIONS:
        mine = [(b.kind, b.rows, b.caption) for b in internal.section(section).blocks]
        theirs = [(b.kind, b.rows, b.caption) for b in published.section(section).blocks]
        assert mine == theirs, section
        if section != "flips":
            assert texts(internal, section) == texts(published, section), section
    assert "flipped_incidents" not in visible(published)
    assert internal.headlines == published.headlines


def test_withheld_figures_are_never_shown_or_used(log: pd.DataFrame) -> None:
    def hide_small(ledger: Any) -> dict:
        out = {}
        for name, t in ledger.tables.items():
            small = (t.true > 0) & (t.true < 5)
            out[name] = (
                t.true.astype(float).mask(small),
                pd.DataFrame(np.where(small, "c", ""), index=t.true.index, columns=t.true.columns),
            )
        return out

    published = build(log, protect=hide_small, audience="publication")
    for block in (b for s in published.sections for b in s.blocks if b.kind == "table"):
        for shown in block.rows:
            for value in list(shown.values())[1:]:
                if re.fullmatch(r"[0-9,]+", value):
                    assert not 0 < number(value) < 5, (block.name, shown)
    assert "c" in [v for r in table(published, "impact_outcomes") for v in r.values()]


# ---------------------------------------------------------------------------- follow-up


def test_follow_up_lists_exactly_the_flipped_incidents(log: pd.DataFrame, tmp_path: Path) -> None:
    spec = RunSpec.build(
        "impact",
        input="log.csv",
        out="out",
        policy=CHESHIRE,
        compare_with=NATIONAL,
        period="2023-24",
    )
    assessed = assess(log, CHESHIRE, with_states=True)
    page_log = AssessedLog.of(assessed, {}, spec)
    impact_page.follow_up(page_log, spec, tmp_path)
    listed = pd.read_csv(tmp_path / "flipped_incidents.csv")
    years = academic_year(log["reported_on"]).astype(str).to_numpy()
    before, after = outcomes(log, CHESHIRE), outcomes(log, NATIONAL)
    expected = log.loc[(before != after).to_numpy() & (years == "2023-24"), "incident_id"]
    assert sorted(listed["incident"]) == sorted(expected.astype(str)) and len(listed) > 0
    assert (tmp_path / "flipped_incidents.xlsx").stat().st_size > 0
    care = log.set_index("incident_id")["referred_social_care"]
    social = listed["referred to children's social care"]
    for incident, said in zip(listed["incident"], social, strict=True):
        value = care[incident]
        assert said == ("not recorded" if pd.isna(value) else "yes" if value else "no")
    first = listed["how the answer changes"].tolist()
    assert first == sorted(
        first, key=lambda t: not t.startswith("referred only under the proposed")
    )
    assert not listed.filter(like="policy says").isin(contract.OUTCOMES).any().any()
    built = build(log, period="2023-24")
    assert not [i for i in expected.astype(str) if re.search(rf"\b{i}\b", visible(built))]


# ---------------------------------------------------------------------------- whole runs


def test_notebook_opened_by_hand_compares_the_shipped_policies(tmp_path: Path, monkeypatch) -> None:
    from ypsi_audit.reports.notebook import open_page

    monkeypatch.chdir(tmp_path)
    shown = open_page("impact", None)
    assert load_policy(CHESHIRE).title in texts(shown, "summary")
    assert load_policy(NATIONAL).title in texts(shown, "summary")
    assert list(tmp_path.iterdir()) == []


def test_impact_command_with_custom_policies_on_both_sides(tmp_path: Path, capsys) -> None:
    shipped = resources.policy_dir()
    ours = tmp_path / "ours.yaml"
    ours.write_text(
        (shipped / f"{CHESHIRE}.yaml")
        .read_text(encoding="utf-8")
        .replace("id: cheshire-quick-guide", "id: ours"),
        encoding="utf-8",
    )
    national = tmp_path / "national.yaml"
    national.write_text(
        (shipped / f"{NATIONAL}.yaml")
        .read_text(encoding="utf-8")
        .replace("id: ukcis-2024", "id: national-copy"),
        encoding="utf-8",
    )
    out = tmp_path / "impact"
    code = main(
        [
            "impact",
            str(SAMPLE),
            "--from",
            str(ours),
            "--to",
            str(national),
            "--sweep",
            "wide_age_gap_years=2..4",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    page = (out / "impact.html").read_text(encoding="utf-8")
    frame = pd.read_csv(SAMPLE)
    from ypsi_audit.loading import load_incidents

    rows = load_incidents(SAMPLE)
    before, after = outcomes(rows, str(ours)), outcomes(rows, str(national))
    assert len(frame) == len(rows)
    assert f"says {(before == 'refer_police').sum()} should be referred to the police;" in (
        html.unescape(re.sub(r"<[^>]+>", "", page))
    )
    flipped = pd.read_csv(out / "follow_up" / "flipped_incidents.csv")
    assert len(flipped) == (before != after).sum() > 0
    assert not [i for i in flipped["incident"] if re.search(rf"\b{i}\b", page)]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["policy"]["label"] == "ours@2"
    assert manifest["compare_with"]["label"] == "national-copy@2"
    assert manifest["sweep"]["values"] == ["2", "3", "4"]
    tables = {p.name for p in (out / "tables").glob("*.csv")}
    assert {
        "impact_outcomes.csv",
        "impact_judgement.csv",
        "impact_sweep_wide_age_gap_years_3.csv",
    } <= tables


def test_a_fixed_national_parameter_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    out = tmp_path / "never"
    code = main(
        [
            "impact",
            str(SAMPLE),
            "--from",
            CHESHIRE,
            "--to",
            NATIONAL,
            "--to-param",
            "adult_age=21",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "fixes adult_age at 18" in err and "new id" in err
    assert not out.exists()
