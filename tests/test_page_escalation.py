"""The escalation and consistency page: every number agrees with an independent count
from the assessed rows; only settings above the under-escalation funnel limits are named
(on the sample S12, and on synthetic trusts the planted setting); wording follows each
policy's referral route and never discourages a referral; no internal id reaches the
page; the page reads only the ledger; a period, a custom policy file and a real notebook
run all work."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ypsi_audit import contract, resources
from ypsi_audit.engine import assess
from ypsi_audit.policy import load_policy
from ypsi_audit.reports.assessed import AssessedLog
from ypsi_audit.reports.ledger import Ledger
from ypsi_audit.reports.measures import REFERRAL_BY_DECISION
from ypsi_audit.reports.page import Page
from ypsi_audit.reports.pages import build_pages, incident_frame
from ypsi_audit.reports.pages import escalation as page_module
from ypsi_audit.reports.pages.escalation_detail import _how_to_read
from ypsi_audit.reports.pages.escalation_figures import OUTCOMES, split_values
from ypsi_audit.reports.spec import RunSpec
from ypsi_audit.stats import academic_year
from ypsi_audit.synth import BiasPlan, generate

SAMPLE = resources.sample_log()
CHESHIRE, UKCIS = "cheshire-quick-guide", "ukcis-2024"


# ---------------------------------------------------------------------------- helpers


def spec_for(policy: str = CHESHIRE, **options: Any) -> RunSpec:
    return RunSpec.build("report", input=options.pop("input", "log.csv"), out="out",
                         policy=policy, **options)  # fmt: skip


def log_of(frame: pd.DataFrame, spec: RunSpec) -> AssessedLog:
    assessed = assess(frame, spec.policy.policy(), spec.policy.parameters, with_states=True)
    return AssessedLog.of(assessed, {"rows_read": len(frame)}, spec)


def build(log: AssessedLog, spec: RunSpec, protect: Any = None) -> Page:
    pages, _ = build_pages(log, spec, ["escalation"], protect=protect)
    return pages["escalation"]


@pytest.fixture(scope="module")
def sample() -> dict[str, tuple[AssessedLog, RunSpec]]:
    out = {}
    for policy in (CHESHIRE, UKCIS):
        spec = spec_for(policy, input=str(SAMPLE))
        out[policy] = (AssessedLog.assess(spec), spec)
    return out


@pytest.fixture(scope="module")
def sample_page(sample) -> Page:
    return build(*sample[CHESHIRE])


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    return generate(8, 2, seed=21, bias=BiasPlan("child_sen", "true", 0.4))


def table(page: Page, name: str) -> list[dict[str, str]]:
    found = [b for s in page.sections for b in s.blocks if b.kind == "table" and b.name == name]
    assert len(found) == 1, name
    return found[0].rows


def row(rows: list[dict[str, str]], first: str) -> dict[str, str]:
    key = next(iter(rows[0]))
    matches = [r for r in rows if r[key] == first]
    assert len(matches) == 1, first
    return matches[0]


def texts(page: Page, section: str) -> str:
    return " ".join(b.text for b in page.section(section).blocks if b.kind == "text")


def visible(page: Page) -> str:
    """Everything a reader sees of the page's sections and headlines, as plain text."""
    body = "".join(s.render() for s in page.sections)
    body = re.sub(r'<img [^>]*alt="([^"]*)"[^>]*>', r" \1 ", body)
    body = html.unescape(re.sub(r"<[^>]+>", " ", body))
    heads = " ".join(f"{h.area} {h.status} {' '.join(h.look_at)}" for h in page.headlines)
    return f"{page.title} {page.intro} {body} {heads}"


def k_of_n(k: int, n: int) -> str:
    return "no incidents" if n == 0 else f"{k:,} of {n:,} ({100 * k / n:.0f}%)"


def referred(frame: pd.DataFrame, policy: str) -> pd.Series:
    """Whether the setting referred, counted from the raw columns as each policy's
    referral section says (True, False or NA)."""
    decision = frame["decision"].astype("string")
    police = decision == "referred_police"
    if policy == CHESHIRE:
        return police.mask(decision.isna())
    social = frame["referred_social_care"].astype("boolean")
    out = pd.Series(pd.NA, index=frame.index, dtype="boolean")
    out[(police | social).fillna(False)] = True
    out[((decision == "handled_in_setting") & (social == False)).fillna(False)] = False  # noqa: E712
    return out


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


def ids_on(page: Page, *policies: str) -> list[str]:
    text = visible(page)
    return sorted(i for i in forbidden_ids(*policies) if re.search(rf"\b{re.escape(i)}\b", text))


def true_counts(ledger: Ledger) -> dict:
    return {
        name: (t.true.astype(float), pd.DataFrame("", index=t.true.index, columns=t.true.columns))
        for name, t in ledger.tables.items()
    }


def hide_small(ledger: Ledger) -> dict:
    out = {}
    for name, t in ledger.tables.items():
        small = (t.true > 0) & (t.true < 5)
        marks = pd.DataFrame(np.where(small, "c", ""), index=t.true.index, columns=t.true.columns)
        out[name] = (t.true.astype(float).mask(small), marks)
    return out


# ---------------------------------------------------------------------------- the sample


def test_sample_shows_every_setting_and_flags_s12(sample, sample_page: Page) -> None:
    log, _ = sample[CHESHIRE]
    frame = log.frame
    rates = table(sample_page, "setting_rates")
    settings = sorted(frame["setting_id"].astype(str).unique())
    assert [r["setting"] for r in rates] == [*settings, "All settings"]
    for setting in settings:
        mine = frame[frame["setting_id"].astype(str) == setting]
        consistency = mine["consistency"].astype(str)
        k = int((consistency == "under_escalation").sum())
        n = k + int((consistency == "consistent_referral").sum())
        shown = row(rates, setting)
        assert shown["under"] == k_of_n(k, n)
        assert "not shown" not in shown.values()
        assert shown["place"].startswith(("Within", "Above", "Below"))  # every point placed
    s12 = row(rates, "S12")
    assert s12["under"] == "7 of 18 (39%)" and s12["place"].startswith("Above the inner")
    assert [r["setting"] for r in rates if r["place"].startswith("Above")] == ["S12"]
    assert "**S12** did not refer 7 of the 18 incidents" in texts(sample_page, "settings")
    chart = [b for b in sample_page.section("settings").blocks if b.kind == "chart"]
    assert len(chart) == 1 and "Above the limits: S12." in chart[0].alt
    # the target is the trust's own rate over all its incidents, not the settings shown
    trust = (frame["consistency"] == "under_escalation").sum() / frame["consistency"].isin(
        ["under_escalation", "consistent_referral"]
    ).sum()
    assert f"({trust:.0%})" in chart[0].caption
    headline = sample_page.headlines[0]
    assert headline.attention and headline.section == "settings"
    assert any("**S12**" in line and "worth watching" in line for line in headline.look_at)


def test_summary_figures_agree_with_the_rows(sample, sample_page: Page) -> None:
    frame = sample[CHESHIRE][0].frame
    figures = {
        r["label"]: r["value"]
        for b in sample_page.section("summary").blocks
        if b.kind == "figures"
        for r in b.rows
    }
    outcome = frame["guidance_outcome"].astype(str)
    assert figures["incidents"] == f"{len(frame):,}"
    assert figures["the guidance says refer to the police"] == str(
        (outcome == "refer_police").sum()
    )
    assert figures["the setting may deal with it"] == str((outcome == "handle_in_setting").sum())
    assert figures["the guidance cannot tell (a field is blank)"] == str(
        (outcome == "insufficient_information").sum()
    )
    assert figures["referred to the police"] == str(referred(frame, CHESHIRE).sum())
    assert figures["not referred though the guidance says refer"] == str(
        (frame["consistency"] == "under_escalation").sum()
    )
    summary = texts(sample_page, "summary")
    assert summary.count(".") <= 5  # two to four short sentences
    for value in figures.values():  # every figure the sentences cite is beside them
        assert value in summary or value == figures["incidents"]


@pytest.mark.parametrize("policy", [CHESHIRE, UKCIS])
def test_every_rate_agrees_with_an_independent_count(policy: str, synthetic) -> None:
    spec = spec_for(policy)
    log = log_of(synthetic, spec)
    page = build(log, spec)
    frame = log.frame
    was = referred(frame, policy)
    for setting, rows in frame.groupby(frame["setting_id"].astype(str)):
        shown = row(table(page, "setting_rates"), setting)
        consistency = rows["consistency"].astype(str)
        k = int((consistency == "under_escalation").sum())
        assert shown["under"] == k_of_n(k, k + int((consistency == "consistent_referral").sum()))
        known = was[rows.index].dropna()
        assert shown["referral"] == f"{known.mean():.0%}"
        assert shown["incidents"] == f"{len(rows):,}"
    # the 2x2: guidance refer / may deal with it against the referral as the policy counts it
    outcome = frame["guidance_outcome"].astype(str)
    two = pd.crosstab(outcome, was.astype("string"))
    rows = table(page, "agreement_2x2")
    for key, label in (("refer_police", 0), ("handle_in_setting", 1)):
        assert rows[label]["yes"] == f"{two.at[key, 'True']:,}"
        assert rows[label]["no"] == f"{two.at[key, 'False']:,}"
    matched = two.at["refer_police", "True"] + two.at["handle_in_setting", "False"]
    both = two.loc[["refer_police", "handle_in_setting"], ["True", "False"]].to_numpy().sum()
    assert f"In {matched:,} of {both:,} incidents where both are known" in texts(page, "agreement")
    # term by term: Wilson intervals around published counts
    terms = table(page, "referrals_by_term")
    period = (
        academic_year(frame["reported_on"])
        + " "
        + frame["reported_on"].dt.month.map(
            lambda m: "autumn" if m >= 9 else "summer" if m >= 5 else "spring"
        )
    )
    for key, rows_in in frame.groupby(period):
        shown = row(terms, key.capitalize())
        refer = int((rows_in["guidance_outcome"] == "refer_police").sum())
        assert shown["guidance"] == k_of_n(refer, len(rows_in))
        done = was[rows_in.index].dropna()
        assert shown["referred"] == k_of_n(int(done.sum()), len(done))


def test_a_planted_under_escalating_setting_is_the_one_named() -> None:
    frame = generate(12, 2, seed=5, incidents_per_setting_year=40)
    spec = spec_for(CHESHIRE)
    truth = assess(frame, CHESHIRE)["guidance_outcome"].astype(str).to_numpy()
    rng = np.random.default_rng(0)
    # every setting follows the guidance but for a common 10% slip; S07 keeps half back
    refer = truth == "refer_police"
    slip = np.where(frame["setting_id"].astype(str).to_numpy() == "S07", 0.5, 0.1)
    kept = refer & (rng.random(len(frame)) < slip)
    decision = np.where(refer & ~kept, "referred_police", "handled_in_setting")
    planted = frame.assign(
        decision=pd.Categorical(decision, categories=contract.BY_NAME["decision"].codes)
    )
    page = build(log_of(planted, spec), spec)
    rates = table(page, "setting_rates")
    above = [r["setting"] for r in rates if r["place"].startswith("Above")]
    outer = [r["setting"] for r in rates if r["place"].startswith("Above the outer")]
    assert outer == ["S07"] and above == ["S07"]
    assert "**S07** did not refer" in texts(page, "settings")
    assert page.headlines[0].attention and "**S07**" in page.headlines[0].look_at[0]
    # the same log with no plant: nobody is named and the front page is calm
    calm = frame.assign(
        decision=pd.Categorical(
            np.where(refer & ~(rng.random(len(frame)) < 0.1), "referred_police",
                     "handled_in_setting"),
            categories=contract.BY_NAME["decision"].codes,
        )
    )  # fmt: skip
    quiet = build(log_of(calm, spec), spec)
    assert not [r for r in table(quiet, "setting_rates") if r["place"].startswith("Above")]
    assert not quiet.headlines[0].attention
    assert "No setting lies above the limits" in texts(quiet, "settings")


def test_only_settings_compared_are_said_to_be_within_the_limits(sample) -> None:
    log, _ = sample[UKCIS]
    spec = spec_for(UKCIS, input=str(SAMPLE), period="2023-24")
    page = build(log, spec)
    frame = log.frame[log.in_period("2023-24")]
    refer = frame[frame["consistency"].isin(["under_escalation", "consistent_referral"])]
    with_any = set(refer["setting_id"].astype(str))
    settings = set(frame["setting_id"].astype(str))
    said = texts(page, "settings")
    assert f"{len(with_any)} of {len(settings)} settings could be compared" in said
    for setting in settings - with_any:
        assert setting in said
        assert row(table(page, "setting_rates"), setting)["place"].startswith("Not placed")
    assert "No setting lies above the limits" not in said
    assert "could be compared" in " ".join(page.headlines[0].look_at)


# ---------------------------------------------------------------------------- wording


@pytest.mark.parametrize("policy", [CHESHIRE, UKCIS])
def test_no_internal_id_on_the_page(policy: str, sample) -> None:
    page = build(*sample[policy])
    assert ids_on(page, CHESHIRE, UKCIS) == []
    assert load_policy(CHESHIRE).title in visible(page)
    assert load_policy(UKCIS).title in visible(page)


def test_wording_follows_the_route_and_never_discourages_a_referral(sample, sample_page) -> None:
    national = build(*sample[UKCIS])
    text = visible(national)
    assert "children's social care" in texts(national, "summary")
    assert "Referred where setting could resolve" not in text  # UKCIS allows every referral
    assert "Referred by the lead's choice" in text
    assert "the safeguarding lead's choice, not a failing" in texts(national, "agreement")
    rates = table(national, "setting_rates")
    assert "resolvable" not in rates[0]  # no descriptive over-referral share under UKCIS
    cheshire = visible(sample_page)
    assert "Referred where the setting could resolve it" in cheshire  # descriptive column
    assert "never wrong in itself" in texts(sample_page, "agreement")
    for page in (national, sample_page):
        words = visible(page).lower()
        for phrase in ("over-escalat", "too many", "too often", "unnecessar", "fewer referrals",
                       "refer less", "bring down", "mistake", "should not have"):  # fmt: skip
            assert phrase not in words, phrase
        for line in page.headlines[0].look_at:  # a setting is named only for not referring
            assert any(
                words in line
                for words in ("did not refer", "could be compared", "not referred though")
            )


def test_the_front_page_names_the_settings_that_kept_the_most_referrals(
    sample, sample_page
) -> None:
    """A large setting inside the funnel's limits can still keep the most incidents the
    guidance says refer: the front page names them by count, whatever the funnel says."""
    look = sample_page.headlines[0].look_at
    line = next(x for x in look if x.startswith("Most incidents"))
    named = re.findall(r"\*\*(S\d+)\*\*, (\d+) of (\d+)", line)
    frame = sample[CHESHIRE][0].frame
    kept = frame[frame["consistency"] == "under_escalation"]["setting_id"].value_counts()
    above = {s for x in look for s in re.findall(r"\*\*(S\d+)\*\* did", x)}
    expected = kept.drop(labels=list(above), errors="ignore")
    assert len(named) == 3
    for setting, k, _ in named:
        assert int(k) == kept[setting]
    assert sorted((int(k) for _, k, _ in named), reverse=True) == sorted(expected)[::-1][:3]
    assert not above & {s for s, _, _ in named}  # a setting is named once
    assert "could rank differently" not in line  # exact counts
    log, spec = sample[CHESHIRE]
    published = build(log, spec.with_(audience="publication"), protect=true_counts)
    line = next(x for x in published.headlines[0].look_at if x.startswith("Most incidents"))
    assert line.endswith("adjusted for publication, the true ones could rank differently.")


def test_a_publication_never_says_plainly_that_no_setting_changed_when_one_could(
    sample, sample_page
) -> None:
    """The sample's under-escalation this year against last is within chance for every
    setting, but in a publication the true counts behind the shown ones could put some
    beyond it (an outside attacker read "No setting's share ... changed" beside 0 of 5,
    then 5 of 12): the sentence says so and names them; the internal page does not."""
    from ypsi_audit.reports.compare import year_on_year
    from ypsi_audit.reports.measures import UNDER_ESCALATION

    said = "No setting's share not referred though the guidance says refer changed"
    assert said in texts(sample_page, "year_on_year")
    assert "could show a change beyond chance" not in texts(sample_page, "year_on_year")
    log, spec = sample[CHESHIRE]
    public = spec.with_(audience="publication")
    pages, ledger = build_pages(log, public, ["escalation"], protect=true_counts)
    text = texts(pages["escalation"], "year_on_year")
    now, before = (ledger.tables[f"decisions_by_setting_{w}_year"] for w in ("this", "last"))
    changes = year_on_year(now, before, UNDER_ESCALATION, threshold=public.threshold)
    could = [s for s in changes.loc[changes["could_change"], "setting"] if s.startswith("S")]
    assert could and not changes["beyond_chance"].any()
    sentence = text[text.index(said) :].split(" No setting's referral rate")[0]
    assert "That is as shown" in sentence
    assert re.findall(r"S\d+", sentence) == sorted(could)
    rows = table(pages["escalation"], "year_on_year_under_escalation")
    marked = [r["setting"] for r in rows if r["chance"] == "No, as shown"]
    assert marked == sorted(could)
    assert "No, as shown" not in str(table(sample_page, "year_on_year_under_escalation"))


def test_police_outcomes_say_what_outcome_21_is_and_is_not(sample, sample_page) -> None:
    frame = sample[CHESHIRE][0].frame
    police = frame[frame["decision"] == "referred_police"]
    outcomes = police["police_outcome"].astype("string").fillna("not recorded").value_counts()
    rows = table(sample_page, "police_outcomes")
    assert row(rows, "Outcome 21: further investigation not in the public interest")["n"] == str(
        outcomes["outcome_21"]
    )
    assert row(rows, "Not recorded yet")["n"] == str(outcomes["not recorded"])
    said = texts(sample_page, "police")
    formal = outcomes.get("caution", 0) + outcomes.get("charge", 0)
    assert f"Of {len(police)} referrals to the police" in said
    assert f"{formal} with a caution or a charge" in said
    assert "crime is still recorded" in said and "enhanced criminal record check" in said
    assert "can be the right outcome" in said
    for promise in ("not criminalised", "will not", "should be rare", "never"):
        assert promise not in said


def test_factors_present_when_a_setting_did_not_refer(sample, sample_page) -> None:
    log, _ = sample[CHESHIRE]
    frame = log.frame
    kept = frame[frame["consistency"] == "under_escalation"]
    rows = table(sample_page, "factors_not_referred")
    for rule in log.policy.factors:
        state = kept[f"factor:{rule.id}"]
        shown = row(rows, rule.title)
        assert shown["present"] == str(int((state == 1).sum()))
        assert shown["unknown"] == str(int((state == 2).sum()))
    first = rows[0]["factor"].lower()
    assert f"were: {first} ({rows[0]['present']}, {rows[0]['share']})" in texts(
        sample_page, "factors"
    )


def test_scope_shows_incidents_without_an_image_apart(sample) -> None:
    log, spec = sample[UKCIS]
    page = build(log, spec)
    frame = log.frame
    scope = frame["state:in_scope"]
    rows = table(page, "incidents_by_scope")
    policy = log.policy
    with_image = row(rows, policy.scope.title[0].upper() + policy.scope.title[1:])
    assert with_image["incidents"] == str(int((scope == 1).sum()))
    without = row(rows, policy.scope.outside[0].upper() + policy.scope.outside[1:])
    assert without["incidents"] == str(int((scope == 0).sum()))
    out = frame[scope == 0]["consistency"].astype(str)
    k = int((out == "under_escalation").sum())
    assert without["under"] == k_of_n(k, k + int((out == "consistent_referral").sum()))
    cheshire = build(*sample[CHESHIRE])
    assert [b.kind for b in cheshire.section("scope").blocks] == ["text"]


def test_comparison_counts_only_what_each_policy_refers(sample, sample_page) -> None:
    log, _ = sample[CHESHIRE]
    this = log.frame["guidance_outcome"].astype(str)
    other = assess(log.frame[[c for c in log.frame.columns if c in contract.COLUMN_NAMES]], UKCIS)
    that = other["guidance_outcome"].astype(str)
    cross = pd.crosstab(this, that)
    rows = table(sample_page, "outcomes_compared")
    assert row(rows, "Refer")["refer_police"] == str(cross.at["refer_police", "refer_police"])
    assert row(rows, "All incidents")["refer_police"] == str((that == "refer_police").sum())
    said = texts(sample_page, "comparison")
    would = (that == "refer_police").sum()
    assert (
        f"Of the {would} incidents the other guidance would refer, "
        f"{cross.at['refer_police', 'refer_police']} are referred under the guidance in use too, "
        f"{cross.at['handle_in_setting', 'refer_police']} are ones it leaves to the setting and "
        f"{cross.at['insufficient_information', 'refer_police']} are ones it cannot decide."
    ) in said
    assert f"{(that == 'insufficient_information').sum()} under the other" in said
    headline = sample_page.headlines[1]
    assert headline.section == "comparison" and not headline.attention
    assert headline.area == f"Comparison with {load_policy(UKCIS).title}"


# ---------------------------------------------------------------------------- agreement


class _Ctx:
    """What `_how_to_read` reads of a page context: the route and the policy."""

    def __init__(self, policy: str) -> None:
        self.log = type("L", (), {"policy": load_policy(policy)})()
        self.route = self.log.policy.referral.route


def two_by_two(a: int, b: int, c: int, d: int) -> Any:
    rows = [("refer_police", "yes")] * a + [("refer_police", "no")] * b
    rows += [("handle_in_setting", "yes")] * c + [("handle_in_setting", "no")] * d
    frame = pd.DataFrame(rows, columns=["outcome", "referred"]).astype("category")
    return Ledger(frame).table("t", caption="t", rows="outcome", cols="referred",
                               row_order=OUTCOMES[:2], col_order=("yes", "no"))  # fmt: skip


def test_agreement_note_is_honest_about_what_the_table_can_say() -> None:
    ctx = _Ctx(CHESHIRE)
    lean = _how_to_read(ctx, two_by_two(40, 30, 5, 40))
    assert "kappa is" in lean and "lean towards not referring" in lean
    even = _how_to_read(ctx, two_by_two(40, 3, 2, 40))
    assert "do not lean clearly either way" in even and "lean towards" not in even
    high = _how_to_read(ctx, two_by_two(9, 1, 0, 9))
    interval = re.search(r"95% interval (-?[0-9.]+) to (-?[0-9.]+)", high)
    assert interval and float(interval[1]) >= -1 and float(interval[2]) <= 1.0
    degenerate = _how_to_read(ctx, two_by_two(12, 3, 0, 0))
    assert "not worked out" in degenerate and "same guidance answer" in degenerate
    assert "kappa is" not in degenerate
    national = _how_to_read(_Ctx(UKCIS), two_by_two(30, 2, 40, 30))
    assert "lead's choice" in national


# ---------------------------------------------------------------------------- variants


def test_a_period_restricts_every_table_and_labels_the_wider_trend(sample) -> None:
    log, _ = sample[CHESHIRE]
    spec = spec_for(CHESHIRE, input=str(SAMPLE), period="2023-24")
    page = build(log, spec)
    frame = log.frame[log.in_period("2023-24")]
    assert [r["period"] for r in table(page, "referrals_by_term")] == [
        "2023-24 autumn", "2023-24 spring", "2023-24 summer"
    ]  # fmt: skip
    assert row(table(page, "setting_rates"), "All settings")["incidents"] == str(len(frame))
    assert "In the academic year 2023-24, settings logged" in texts(page, "summary")
    yoy = table(page, "year_on_year_under_escalation")
    before = log.frame[log.in_period("2022-23")]
    for setting in ("S01", "S12"):
        mine = before[before["setting_id"] == setting]["consistency"].astype(str)
        k = int((mine == "under_escalation").sum())
        assert row(yoy, setting)["before"] == k_of_n(
            k, k + int((mine == "consistent_referral").sum())
        )
    captions = [b.caption for b in page.section("year_on_year").blocks]
    assert "The trust year by year (wider context: every year in the log)" in captions
    yearly = [b for b in page.section("year_on_year").blocks if b.kind == "chart"]
    assert len(yearly) == 1  # its points are years, so its axis says so
    assert ">Academic year<" in yearly[0].svg and "Academic year and term" not in yearly[0].svg
    assert "Only the terms of 2023-24 are shown" in texts(page, "trend")


def test_a_custom_policy_file_works_like_a_shipped_one(sample, tmp_path: Path) -> None:
    text = (resources.policy_dir() / f"{CHESHIRE}.yaml").read_text(encoding="utf-8")
    custom = tmp_path / "ours.yaml"
    custom.write_text(text.replace("id: cheshire-quick-guide", "id: our-trust-guide"), "utf-8")
    spec = spec_for(str(custom), input=str(SAMPLE), compare_with=CHESHIRE)
    log = AssessedLog.assess(spec)
    page = build(log, spec)
    shipped = build(*sample[CHESHIRE])
    assert table(page, "setting_rates") == table(shipped, "setting_rates")
    assert ids_on(page, CHESHIRE, UKCIS) == [] and "our-trust-guide" not in visible(page)
    said = texts(page, "comparison")
    assert "(the policy file in use)" in said and "(the other policy file)" in said
    compared = table(page, "outcomes_compared")  # the same rules: the same answers
    for key, first in (("refer_police", "Refer"), ("handle_in_setting", "May deal with it")):
        assert row(compared, first)[key] == row(compared, "All incidents")[key]


def test_the_page_reads_only_the_ledger(sample) -> None:
    """A publication's second pass gets shuffled rows: a number worked out from the rows
    rather than the ledger would differ between two shuffles, and from the internal page's
    tables (the publication's words differ: its 0s and places are said to be shown, and its
    intervals are widened for the adjustment)."""

    def table_numbers(page: Page) -> list[str]:
        return [
            number
            for section in page.sections
            for block in section.blocks
            if block.kind == "table"
            for shown in block.rows
            for key, value in shown.items()
            if not key.endswith("_ci")  # a publication's intervals allow for the adjustment
            for number in re.findall(r"\d[\d,.]*%?", str(value))
        ]

    for policy, period in ((CHESHIRE, None), (UKCIS, "2024-25")):
        log, _ = sample[policy]
        spec = spec_for(policy, input=str(SAMPLE), period=period)
        internal = build(log, spec)
        public = spec.with_(audience="publication")
        published = build(log, public, protect=true_counts)
        pages, _ = build_pages(log, public, ["escalation"], protect=true_counts, decoy_seed=1)
        assert published.to_json() == pages["escalation"].to_json()
        assert table_numbers(published) == table_numbers(internal)
        assert len(table_numbers(published)) > 100


def test_withheld_figures_are_never_shown_or_used(synthetic) -> None:
    spec = spec_for(CHESHIRE, audience="publication")
    page = build(log_of(synthetic, spec), spec, protect=hide_small)
    assert "rests on a number not shown" in visible(page)  # something was withheld
    for block in (b for s in page.sections for b in s.blocks if b.kind == "table"):
        for shown in block.rows:
            for value in list(shown.values())[1:]:
                for number in re.findall(r"\b\d[\d,]*\b(?!%| points)", value):
                    assert not 0 < int(number.replace(",", "")) < 5, (block.name, shown)
    for section in page_module.SECTIONS:
        said = re.sub(r"\b\d+ of \d+ settings|the \d+ settings", "", texts(page, section))
        for number in re.findall(r"(?<![\d.%-])\b\d+\b(?![\d%.-])", said):
            assert not 0 < int(number) < 5, (section, number)


def test_the_same_tables_whatever_the_figures() -> None:
    names = []
    for seed in (1, 2):
        spec = spec_for(CHESHIRE)
        log = log_of(generate(6, 2, seed=seed, first_year=2022), spec)
        _, ledger = build_pages(log, spec, ["escalation"])
        names.append(sorted(ledger.tables))
    assert names[0] == names[1] and "decisions_by_setting" in names[0]


def test_the_split_is_the_referral_as_the_policy_counts_it(sample) -> None:
    for policy in (CHESHIRE, UKCIS):
        log, _ = sample[policy]
        incidents = incident_frame(log)
        split = split_values(incidents)
        yes = np.isin(split, REFERRAL_BY_DECISION.numerator)
        known = np.isin(split, REFERRAL_BY_DECISION.denominator)
        assert (yes == (incidents["referred"] == "yes").to_numpy()).all()
        assert (known == (incidents["referred"] != "not recorded").to_numpy()).all()


# ---------------------------------------------------------------------------- a real run


def test_the_notebook_runs_and_the_page_is_written(tmp_path: Path, monkeypatch) -> None:
    from ypsi_audit.reports import pages
    from ypsi_audit.reports.runner import FOLLOW_UP, run

    monkeypatch.setattr(pages, "REGISTRY", {"escalation": "escalation"})
    out = tmp_path / "report"
    spec = RunSpec.build("report", input=str(SAMPLE), out=str(out), title="Example Trust")
    run(spec, progress=lambda _: None)
    written = (out / "escalation.html").read_text(encoding="utf-8")
    main = html.unescape(re.sub(r"<[^>]+>", " ", written.split("<main>")[1].split("</main>")[0]))
    main = " ".join(main.split())
    for section in page_module.SECTIONS:
        assert f'id="{section}"' in written, section
    assert "S12 did not refer 7 of the 18 incidents" in main
    assert "Traceback" not in main and "Error" not in main
    whole = html.unescape(re.sub(r"<[^>]+>", " ", written.split("<body>")[1]))
    found = [i for i in forbidden_ids(CHESHIRE, UKCIS) if re.search(rf"\b{re.escape(i)}\b", whole)]
    assert found == []
    ids = pd.read_csv(SAMPLE, usecols=["incident_id"])["incident_id"].astype(str)
    assert not [i for i in ids if i in written]  # incident-level data never reaches a page
    assert (out / "tables" / "decisions_by_setting.csv").is_file()
    assert list((out / FOLLOW_UP).glob("cases_for_review*.csv"))  # the case lists written
    assert "Escalation and consistency" in (out / "index.html").read_text(encoding="utf-8")


def test_a_notebook_failing_half_way_keeps_its_partial_output(tmp_path: Path, monkeypatch) -> None:
    import json

    from ypsi_audit.reports import pages
    from ypsi_audit.reports.runner import NotebookFailed, run

    book = json.loads((resources.notebook_dir() / "escalation.ipynb").read_text(encoding="utf-8"))
    after = [c["id"] for c in book["cells"]].index("summary") + 1
    book["cells"].insert(after, {"cell_type": "code", "id": "broken", "metadata": {},
                                 "execution_count": None, "outputs": [],
                                 "source": ["raise ValueError('stopped half way')"]})  # fmt: skip
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (folder / "escalation.ipynb").write_text(json.dumps(book), encoding="utf-8")
    monkeypatch.setattr(resources, "notebook_dir", lambda: folder)
    monkeypatch.setattr(pages, "REGISTRY", {"escalation": "escalation"})
    out = tmp_path / "report"
    spec = RunSpec.build("report", input=str(SAMPLE), out=str(out))
    failed = r"the escalation report failed in cell \d+ \(ValueError\)"
    with pytest.raises(NotebookFailed, match=failed):
        run(spec, progress=lambda _: None)
    assert not out.exists()  # nothing half-written where the report set goes
    kept = (tmp_path / ".report.failed" / "escalation.ipynb").read_text(encoding="utf-8")
    assert "settings logged 598 incidents" in kept and "stopped half way" in kept


def test_the_notebook_opened_by_hand_shows_the_sample() -> None:
    from ypsi_audit.reports.notebook import open_page

    page = open_page("escalation", None)  # spec = None, as the notebook ships
    assert [s.id for s in page.sections] == list(page_module.SECTIONS)
    assert "S12" in " ".join(page.headlines[0].look_at)


def test_a_publication_never_says_none_when_it_shows_a_0() -> None:
    """A trust (or one setting's pack) with 1 to 4 incidents to judge is published as 0 or
    5: shown 0, the publication says none is shown, not that none exists (the outside
    attack of 2026-12-03 found the second wording on a setting with 2)."""
    from ypsi_audit.reports.pages.escalation_figures import (
        Rate,
        not_referred,
        trust_not_referred,
    )

    internal = trust_not_referred(Rate(0, 0), "the police")
    published = trust_not_referred(Rate(0, 0), "the police", 5)
    assert internal == "no incident the guidance says refer to the police has a recorded decision"
    assert published == (
        "no incident the guidance says refer to the police with a recorded decision is shown "
        "(a count from 1 to 4 is shown as 0 or 5)"
    )
    assert trust_not_referred(Rate(2, 10), "the police", 5).startswith("settings did not refer 2")
    assert not_referred("S02", Rate(0, 0), "the police") == f"S02: {internal}"


def test_a_publication_explains_figures_shown_larger_than_their_whole(sample) -> None:
    """A tiny pack (one setting with a few incidents) can show 0 incidents beside 5 not
    referred: the summary says why, instead of leaving "of the 0 ..., 5 were not referred"
    unexplained. The internal page, whose figures always add up, never says it."""
    log, _ = sample[CHESHIRE]

    def total_shown_as_0(ledger: Ledger) -> dict:
        shown = true_counts(ledger)
        values, _ = shown["incidents_by_outcome"]
        values.loc[:, :] = 0.0  # every outcome shown as 0, while other tables show more
        return shown

    spec = spec_for(CHESHIRE, input=str(SAMPLE), audience="publication")
    page = build(log, spec, protect=total_shown_as_0)
    note = "Some of these figures are shown larger than the figure they are part of."
    assert note in texts(page, "summary")
    assert "a count from 1 to 4 is shown as 0 or 5" in texts(page, "summary")
    fitting = build(log, spec, protect=true_counts)
    assert note not in texts(fitting, "summary")


def test_a_single_setting_is_not_compared_with_itself() -> None:
    """With one setting chosen the funnel's target is the setting's own rate: the page and
    its front-page block say there is nothing to compare it with, not "no setting lies
    above the limits"."""
    from ypsi_audit.reports.compare import ONE_SETTING

    spec = spec_for(CHESHIRE, input=str(SAMPLE), settings="S04")
    page = build(AssessedLog.assess(spec), spec)
    assert ONE_SETTING in texts(page, "settings")
    assert "could be compared" not in texts(page, "settings")
    headline = page.headlines[0]
    assert "No setting" not in headline.status
    assert not any("could be compared" in line for line in headline.look_at)


def test_a_publication_does_not_call_a_setting_within_the_limits_that_could_be_above(
    sample,
) -> None:
    """On the sample S12 kept 7 of 18 incidents the guidance says refer, above the inner
    limit. Shown as 5 of 18 (a move of 2 each way, as a publication of the sample did) it
    sits within; a shown 5 can be 9, so the page says the true counts could put it above,
    never "no setting lies above the limits"."""
    log, spec = sample[CHESHIRE]
    internal = build(log, spec)
    assert "**S12**" in texts(internal, "settings")

    def s12_shown_low(ledger: Ledger) -> dict:
        out = true_counts(ledger)
        values, _ = out["decisions_by_setting"]
        assert values.at["S12", "under_escalation"] == 7
        values.at["S12", "under_escalation"] -= 2
        values.at["S12", "consistent_referral"] += 2
        return out

    page = build(log, spec.with_(audience="publication"), protect=s12_shown_low)
    said = texts(page, "settings")
    assert "**S12**" not in said
    assert re.search(r"Settings? [^.]*S12[^.]* shown within the limits for incidents not", said)
    assert "could put" in said and "No setting lies above the limits" not in said
    rows = {r["setting"]: r for r in table(page, "setting_rates")}
    assert rows["S12"]["place"] == (
        "Shown within the limits; the true counts could be above the inner limit"
    )
    headline = page.headlines[0]
    assert headline.attention and any("S12" in line for line in headline.look_at)
    assert "No setting lies above" not in headline.status


def test_a_publication_says_a_setting_shown_above_the_limits_could_be_within(sample) -> None:
    """The mirror of the last test (an outside attacker read "5 of 13 ... unlikely to be
    chance" where a shown 5 can be 1): S12 shown as its true 7 of 18 lies above the inner
    limit, but a shown 7 can be 5, which lies within, so a publication keeps the flag and
    says the adjustment could account for it; the internal page, whose 7 is exact, does not."""
    log, spec = sample[CHESHIRE]
    internal = build(log, spec)
    assert "could put" not in texts(internal, "settings")
    page = build(log, spec.with_(audience="publication"), protect=true_counts)
    said = texts(page, "settings")
    assert "**S12**" in said  # still named as a concern
    assert re.search(r"Settings? [^.]*S12[^.]* shown above the limits for incidents not", said)
    assert "could put it within the limits" in said or "could put them within" in said
    rows = {r["setting"]: r for r in table(page, "setting_rates")}
    assert rows["S12"]["place"] == (
        "Above the inner limit: worth watching; the true counts could be within the limits"
    )
    headline = page.headlines[0]
    assert headline.attention and any(
        "S12" in line and "within" in line for line in headline.look_at
    )


def test_a_publication_says_a_0_behind_a_finding_can_be_a_few(sample) -> None:
    """A tiny publication said "0 were not referred though the guidance says refer" when
    1 was: a 0 shown there stands for 0 to 4. With the sample's not-referred counts shown
    as 0, the summary and the agreement section say so; the internal page never does."""
    log, spec = sample[CHESHIRE]
    note = "A count shown as 0 here can be anything from 0 to 4."
    assert note not in visible(build(log, spec))

    def none_kept(ledger: Ledger) -> dict:
        out = true_counts(ledger)
        for name in ("decisions_by_setting", "agreement_2x2"):
            values, _ = out[name]
            column = "under_escalation" if name == "decisions_by_setting" else "no"
            row = slice(None) if name == "decisions_by_setting" else "refer_police"
            values.loc[row, column] = 0.0
        return out

    page = build(log, spec.with_(audience="publication"), protect=none_kept)
    assert note in texts(page, "summary")
    assert note in texts(page, "agreement")


def _small_shown_as_0(ledger: Ledger) -> dict:
    """As cell-key perturbation can: every count of 1 to 4 shown as 0."""
    out = true_counts(ledger)
    for values, _ in out.values():
        values[(values > 0) & (values < 5)] = 0.0
    return out


def test_a_publication_says_what_a_0_stands_for_wherever_a_sentence_cites_one(
    sample,
) -> None:
    """An outside attacker read "0 are ones it cannot decide" and "having no incident the
    guidance says refer" from counts of 1 to 3 shown as 0. With every small count shown as
    0, S09 alone (a small setting), the comparison with the other guidance and the front
    page's line on it say what a 0 stands for; with S01 and S09 in 2022-23 the setting
    without one shown is 'having none shown', never 'having no incident'."""
    note = "A count shown as 0 here can be anything from 0 to 4."

    def run(settings: str, audience: str = "publication", **more: str) -> Page:
        spec = spec_for(input=str(SAMPLE), settings=settings, audience=audience, **more)
        protect = _small_shown_as_0 if audience == "publication" else None
        return build(AssessedLog.assess(spec), spec, protect=protect)

    page = run("S09")
    compared = texts(page, "comparison")
    assert " 0 " in compared and note in compared
    assert any(note in h.status for h in page.headlines if h.area.startswith("Comparison"))
    assert note not in visible(run("S09", "internal"))
    said = texts(run("S01,S09", period="2022-23"), "settings")
    assert "Not compared, having none shown that the guidance says refer" in said
    assert "having no incident" not in said


def test_a_publication_interval_holds_every_share_the_shown_counts_allow() -> None:
    """A publication showed a year as 0 of 34 with a 95% interval of 0% to 10%, while the
    true share was 11%: a shown 0 can be 4. Its interval now reaches at least 4 of 30, and
    the internal one (exact counts) is the plain Wilson interval."""
    from ypsi_audit.reports.pages.escalation_figures import Rate
    from ypsi_audit.stats import wilson_interval

    plain = Rate(0, 34)
    widened = Rate(0, 34, adjusted=True, spans=((0, 4), (30, 38)))
    assert plain.interval() == tuple(float(v) for v in wilson_interval(0, 34))
    low, high = widened.interval()  # type: ignore[misc]
    assert low == 0 and high >= float(wilson_interval(4, 34)[1]) > 4 / 30
    assert high > plain.interval()[1]  # type: ignore[index]
