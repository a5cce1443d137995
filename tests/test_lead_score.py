"""The B2B lead score against the demo's planted win probability, leakage and the ICP fallback."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from segmint import service
from segmint.demo import load_truth
from segmint.models._leads import SIZE_BANDS, deal_examples, lead_scores, title_level
from segmint.project import Project

AS_OF = datetime(2026, 10, 1)


@pytest.fixture(scope="module")
def b2b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    root = tmp_path_factory.mktemp("leads") / "demo"
    service.build_demo(root, customers=3000, seed=2, b2b=True)
    project = Project.open(root)
    try:
        yield project
    finally:
        project.close()


def _band(employees: float) -> str:
    return next(
        n for n, lo, hi in SIZE_BANDS if employees >= lo and (hi is None or employees <= hi)
    )


def _planted(project: Project, deals: pd.DataFrame) -> pd.Series:
    """P(win) of each deal from the generator's own logistic model (with the title of the
    contact the deal was opened with)."""
    truth, _ = load_truth(project.root / "truth")
    win = truth["deals"]["win_probability"]
    title = {t.lower(): e for t, e in win["title"].items()}
    logit = (
        win["intercept"]
        + deals["nace_code"].map(win["nace"]).astype(float)
        + deals["employees"].map(_band).map(win["size_band"]).astype(float)
        + deals["title"].map(title).astype(float)
    )
    return 1.0 / (1.0 + (-logit).map(math.exp))


def test_the_model_ranks_deals_almost_as_well_as_the_planted_truth(b2b: Project) -> None:
    result = lead_scores(b2b.engine, AS_OF)
    assert result.method == "model"
    examples = deal_examples(b2b.engine, AS_OF)
    holdout = examples.iloc[int(len(examples) * 0.8) :]
    firms = b2b.engine.table("customers").select("customer_id", "employees").to_pandas()
    holdout = holdout.merge(firms, on="customer_id")
    oracle = roc_auc_score(holdout["won"], _planted(b2b, holdout))
    auc = result.card.metrics["auc"]
    # ~1,150 holdout deals: an AUC's standard error is about 0.017 here, and the planted
    # effects are small (oracle ~0.64); the model may fall short of the truth by 0.03
    assert holdout["title"].notna().all()  # every deal names its contact
    assert oracle > 0.6
    assert auc >= oracle - 0.03
    # calibrated: the mean score of companies with deals is near their win rate
    scores = result.scores.to_pandas().set_index("customer_id")["lead_score"]
    mean_score = scores.loc[holdout["customer_id"]].mean()
    assert mean_score == pytest.approx(holdout["won"].mean(), abs=0.05)
    assert result.scores.num_rows == b2b.engine.count("customers")


def test_deal_features_never_see_events_from_after_the_deal_was_created(b2b: Project) -> None:
    before = deal_examples(b2b.engine, AS_OF)
    ev = b2b.engine.table("events")
    keep = ev.schema().to_pyarrow()
    deal = before.iloc[len(before) // 2]
    late = {
        c: None for c in keep.names
    } | {
        "event_id": "LATE-OPEN", "_key": "LATE-OPEN", "customer_id": deal["customer_id"],
        "event_time": deal["_moment"].to_pydatetime(), "event_type": "email_open",
    }  # fmt: skip
    b2b.engine.append("events", pa.Table.from_pylist([late], schema=keep))
    try:
        after = deal_examples(b2b.engine, AS_OF)
    finally:
        b2b.engine.write("events", ev.filter(ev.event_id != "LATE-OPEN"))
    pd.testing.assert_frame_equal(before, after)  # an event at the creation time is not before it


def test_too_few_deals_fall_back_to_the_ideal_customer_profile(b2b: Project) -> None:
    from segmint.segments import parse_rule
    from segmint.segments._compile import compile_segment
    from segmint.segments._evaluate import rule_context
    from segmint.traits import customer_base

    base = customer_base(b2b.engine, b2b.config.traits, AS_OF)
    ctx = rule_context(b2b.engine, base, b2b.config, AS_OF, {})
    it = compile_segment(
        parse_rule({"field": "nace_code", "op": "starts_with", "value": "62"}), ctx
    )
    mid = compile_segment(
        parse_rule({"field": "employees", "op": "between", "value": [11, 17]}), ctx
    )
    result = lead_scores(b2b.engine, AS_OF, min_outcomes=10**9, icp=[(it, 2.0), (mid, 1.0)])
    assert result.method == "icp"
    got = result.scores.to_pandas().set_index("customer_id")["lead_score"]
    firms = b2b.engine.table("customers").to_pandas().set_index("customer_id")
    want = (
        firms["nace_code"].fillna("").str.startswith("62") * 2.0
        + firms["employees"].between(11, 17) * 1.0
    ) / 3.0
    assert got.sort_index().round(12).to_dict() == want.sort_index().round(12).to_dict()
    assert set(got.round(6)) == {0.0, round(1 / 3, 6), round(2 / 3, 6), 1.0}
    nothing = lead_scores(b2b.engine, AS_OF, min_outcomes=10**9)
    assert nothing.method == "none"


def test_a_run_adds_the_lead_score_as_a_trait(b2b: Project) -> None:
    from segmint import runs
    from segmint.config import IcpRule
    from segmint.segments import parse_rule, parse_segments

    direct = lead_scores(b2b.engine, AS_OF).scores.to_pandas().set_index("customer_id")
    b2b.config.models.lead_score.enabled = True
    b2b.config.segments = parse_segments(
        [{"name": "hot", "rule": {"field": "lead_score", "op": ">=", "value": 0.5}}]
    )
    service.run(b2b, as_of=AS_OF)
    traits = b2b.engine.table("customer_traits").to_pandas().set_index("customer_id")
    got = traits["lead_score"].loc[direct.index]
    assert got.to_numpy() == pytest.approx(direct["lead_score"].to_numpy(), rel=1e-9)
    hot = set(direct.index[direct["lead_score"] >= 0.5])
    assert hot
    assert set(service.members(b2b, "hot", limit=None)) == hot
    assert any(c["model"].startswith("lead score") for c in runs.model_cards(b2b.engine))

    # the ideal customer profile in segmint.yaml, when deals are too few
    b2b.config.models.lead_score.min_outcomes = 10**9
    b2b.config.models.lead_score.icp = [
        IcpRule(rule=parse_rule({"field": "employees", "op": "between", "value": [11, 17]}))
    ]
    service.run(b2b, as_of=AS_OF)
    traits = b2b.engine.table("customer_traits").to_pandas().set_index("customer_id")
    firms = b2b.engine.table("customers").to_pandas().set_index("customer_id")
    want = firms["employees"].between(11, 17).astype(float)
    assert traits["lead_score"].loc[want.index].tolist() == want.tolist()


def test_contacts_are_scored_and_rolled_up_to_their_account(b2b: Project) -> None:
    result = lead_scores(b2b.engine, AS_OF)
    assert result.contacts is not None
    people = result.contacts.to_pandas()
    contacts = b2b.engine.table("contacts").to_pandas()
    assert sorted(people["contact_id"]) == sorted(contacts["contact_id"])  # everyone scored
    # the account score is the mean of its contacts' scores; the best contact the argmax
    accounts = result.scores.to_pandas().set_index("customer_id")
    mean = people.groupby("customer_id")["lead_score"].mean()
    assert accounts.loc[mean.index, "lead_score"].to_numpy() == pytest.approx(mean.to_numpy())
    top = people.sort_values(["lead_score", "contact_id"], ascending=[False, True])
    top = top.drop_duplicates("customer_id").set_index("customer_id")
    assert accounts.loc[top.index, "lead_best_contact"].tolist() == top["contact_id"].tolist()
    assert accounts.loc[top.index, "lead_best_contact_score"].to_numpy() == pytest.approx(
        top["lead_score"].to_numpy()
    )
    # the role effects recovered: within a company, contacts differ only by title, so the
    # mean log-odds by title ranks the titles as the planted effects do
    truth, _ = load_truth(b2b.root / "truth")
    planted = {t.lower(): e for t, e in truth["deals"]["win_probability"]["title"].items()}
    people["logit"] = np.log(people["lead_score"] / (1 - people["lead_score"]))
    people["relative"] = people["logit"] - people.groupby("customer_id")["logit"].transform("mean")
    shared = people[people.groupby("customer_id")["contact_id"].transform("size") > 1]
    found = shared.groupby(shared["title"].str.lower())["relative"].mean()
    frequent = shared["title"].str.lower().value_counts()
    found = found[frequent.reindex(found.index) >= 30]
    assert len(found) >= 8
    rho = spearmanr(found.to_numpy(), found.index.map(planted).to_numpy()).statistic
    assert rho > 0.8, (rho, found.sort_values())


def test_title_levels_read_nordic_and_english_titles() -> None:
    titles = pd.Series(
        ["Direktør", "VD", "Daglig leder", "Toimitusjohtaja", "CEO", "Indkøbschef",
         "Innkjøpssjef", "Ostopäällikkö", "Head of IT", "Indkøber", "Ostaja", None],
    )  # fmt: skip
    assert title_level(titles).tolist() == [
        "executive", "executive", "executive", "executive", "executive", "manager",
        "manager", "manager", "manager", "staff", "staff", None,
    ]  # fmt: skip
