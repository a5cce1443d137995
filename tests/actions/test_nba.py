"""Next best action: priority, eligibility, consent and frequency caps exactly on a
hand-made case; control groups of the stated share, stable across runs; the plan of the
B2B demo against an independent pandas computation, and its files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from segmint.actions import ActionRule, FrequencyCap, NextBestActionSettings
from segmint.actions._holdout import holdout_draw, in_control
from segmint.actions._nba import plan_actions, plan_frame, write_plan_files
from segmint.project import Project
from segmint.segments import parse_rule

AS_OF = datetime(2026, 10, 1)
ANY = parse_rule({"field": "frequency", "op": ">=", "value": 0})


def _action(name: str, **kw: Any) -> ActionRule:
    base: dict[str, Any] = {"kind": "discount", "channel": "email", "when": ANY,
                            "control_share": 0.0}  # fmt: skip
    return ActionRule(name=name, **(base | kw))


def _plan(
    eligible: dict[str, list[str]], settings: NextBestActionSettings, **kw: Any
) -> pd.DataFrame:
    idx = {k: pd.Index(v, dtype=object) for k, v in eligible.items()}
    return plan_frame(idx, settings, as_of=AS_OF, plan_id="p1", **kw).rows


def _given(rows: pd.DataFrame) -> dict[str, list[str]]:
    return {str(c): sorted(g.action) for c, g in rows.groupby("customer_id")}


def test_priority_eligibility_consent_and_caps_exactly() -> None:
    settings = NextBestActionSettings(
        actions=[
            _action("welcome", kind="invitation", priority=5),
            _action("winback", kind="win-back", priority=1),
            _action("sms-offer", channel="sms", priority=3),
        ],
        frequency_caps=[
            FrequencyCap(max_contacts=2, days=30),
            FrequencyCap(max_contacts=1, days=7, channel="sms"),
        ],
    )
    eligible = {
        "winback": ["c1", "c2", "c3", "c4"],
        "sms-offer": ["c1", "c5", "c6", "c7"],
        "welcome": ["c1", "c5", "c8", "c9"],
    }
    consent = pd.DataFrame(
        {"consent_email": [True, True, False, True, True, True, True, True, True],
         "consent_sms": [True, True, True, True, True, True, False, True, True]},
        index=[f"c{i}" for i in range(1, 10)],
    )  # fmt: skip
    history = pd.DataFrame(
        [
            ("c2", "2026-09-20", "email", "treatment"),  # c2: 2 contacts in 30 days: capped
            ("c2", "2026-09-25", "email", "treatment"),
            ("c4", "2026-08-01", "email", "treatment"),  # c4: outside the window
            ("c4", "2026-09-28", "email", "control"),  # held out: no contact
            ("c6", "2026-09-28", "sms", "treatment"),  # c6: sms in the last 7 days
            ("c9", "2026-09-28", "sms", "treatment"),  # c9: sms does not cap email
        ],
        columns=["customer_id", "contact_date", "channel", "arm"],
    )
    rows = _plan(eligible, settings, consent=consent, history=history)
    # c1: winback first (priority 1); c3: no email consent; c2: capped; c5: sms (3) before
    # welcome (5); c6: sms capped, not eligible for anything else; c7: no sms consent;
    # c8, c9: welcome
    assert _given(rows) == {
        "c1": ["winback"], "c4": ["winback"], "c5": ["sms-offer"], "c8": ["welcome"],
        "c9": ["welcome"],
    }  # fmt: skip
    assert (rows.arm == "treatment").all()
    assert rows.action.tolist() == ["winback", "winback", "sms-offer", "welcome", "welcome"]
    assert set(rows.campaign_id) == {"winback-20261001", "sms-offer-20261001", "welcome-20261001"}
    counts = {
        c.action: (c.eligible, c.treated, c.no_consent, c.capped, c.taken)
        for c in plan_frame(
            {k: pd.Index(v) for k, v in eligible.items()}, settings, as_of=AS_OF,
            plan_id="p", consent=consent, history=history,
        ).actions
    }  # fmt: skip
    assert counts == {
        "winback": (4, 2, 1, 1, 0),
        "sms-offer": (4, 1, 1, 1, 1),
        "welcome": (4, 2, 0, 0, 2),
    }


def test_more_actions_per_customer_share_the_caps() -> None:
    """Two slots: c1 gets both email actions unless the 30-day cap of 1 stops the second;
    a held-out customer gets nothing else."""
    two = NextBestActionSettings(
        actions=[_action("a", priority=1), _action("b", priority=2), _action("c", channel="sms")],
        max_actions_per_customer=2,
    )
    eligible = {"a": ["c1", "c2"], "b": ["c1"], "c": ["c1", "c2"]}
    assert _given(_plan(eligible, two)) == {"c1": ["a", "b"], "c2": ["a", "c"]}
    capped = two.model_copy(update={"frequency_caps": [FrequencyCap(max_contacts=1, days=30,
                                                                    channel="email")]})  # fmt: skip
    assert _given(_plan(eligible, capped)) == {"c1": ["a", "c"], "c2": ["a", "c"]}
    held = two.model_copy(update={"actions": [_action("a", priority=1, control_share=0.999999),
                                              _action("b", priority=2)]})  # fmt: skip
    rows = _plan({"a": ["c1"], "b": ["c1"]}, held)
    assert rows[["action", "arm"]].values.tolist() == [["a", "control"]]


def test_cross_sell_offers_the_next_best_category() -> None:
    settings = NextBestActionSettings(actions=[_action("xsell", kind="cross-sell")])
    offers = pd.Series({"c1": "Sko", "c2": None, "c3": "Sport"})
    eligible = {"xsell": pd.Index(["c1", "c2", "c3"])}
    plan = plan_frame(eligible, settings, as_of=AS_OF, plan_id="p", offers=offers)
    rows = plan.rows
    assert dict(zip(rows.customer_id, rows.offer, strict=True)) == {"c1": "Sko", "c3": "Sport"}
    assert plan.actions[0].no_offer == 1


def test_control_groups_have_the_share_and_are_stable() -> None:
    ids = [f"{100_000 + i}" for i in range(20_000)]
    share = 0.1
    control = in_control("segmint", "winback", ids, share)
    sd = np.sqrt(share * (1 - share) / len(ids))
    assert abs(control.mean() - share) < 4 * sd  # 0.1 +- 0.0085
    draw = holdout_draw("segmint", "winback", ids)
    assert stats_uniform_ok(draw)
    # stable: a customer's arm depends on nothing but salt, action and id
    settings = NextBestActionSettings(actions=[_action("winback", control_share=share)])
    first = _plan({"winback": ids}, settings).set_index("customer_id").arm
    later = _plan({"winback": [*ids[5000:], "new1", "new2"]}, settings).set_index("customer_id").arm
    common = first.index.intersection(later.index)
    assert len(common) == 15_000
    assert (first[common] == later[common]).all()
    assert (first == "control").mean() == pytest.approx(control.mean())
    # another action or salt draws independently: overlap near share * share
    other = in_control("segmint", "welcome", ids, share)
    assert abs((control & other).mean() - share * share) < 4 * np.sqrt(share**2 / len(ids))
    salted = in_control("new salt", "winback", ids, share)
    assert not (salted == control).all()


def stats_uniform_ok(draw: np.ndarray) -> bool:
    from scipy import stats

    return bool(stats.kstest(draw, "uniform").pvalue > 0.001)


# -- the B2B demo ---------------------------------------------------------------------------
DEMO_ACTIONS: list[dict[str, Any]] = [
    {"name": "it-invite", "kind": "invitation", "channel": "email", "priority": 1,
     "when": {"in_segment": "it_11_17"}, "offer": "Frokostmøde om IT-indkøb",
     "control_share": 0.2},
    {"name": "hot-discount", "kind": "discount", "channel": "email", "priority": 2,
     "when": {"field": "lead_score", "op": ">=", "value": 0.5}, "offer": "10 % rabat",
     "control_share": 0.1},
    {"name": "referral", "kind": "referral", "channel": "email", "priority": 3,
     "when": {"in_segment": "won_recently"}, "control_share": 0.1},
]  # fmt: skip


def test_demo_plan_against_pandas(b2b_demo: Project, tmp_path: Any) -> None:
    from segmint.config import ProjectConfig

    config: ProjectConfig = b2b_demo.config
    nba = config.actions.next_best_action
    nba.actions = [ActionRule.model_validate(a) for a in DEMO_ACTIONS]
    nba.frequency_caps = [FrequencyCap(max_contacts=1, days=45, channel="email")]
    plan = plan_actions(b2b_demo.engine, config, plan_id="demo")
    con = b2b_demo.engine.con.con
    traits = con.sql("select customer_id, lead_score, consent_email from customer_traits").df()
    members = con.sql(
        "select segment, customer_id from segment_memberships where to_run is null"
    ).df()
    contacted = set(
        con.sql(
            "select coalesce(i.person_id, c.customer_id) as customer_id from campaign_contacts c "
            "left join identities i using (customer_id) where arm = 'treatment' "
            "and contact_date >= date '2026-10-01' - interval 45 day"
        )
        .df()
        .customer_id
    )
    ok = set(traits.customer_id[traits.consent_email.fillna(False).astype(bool)]) - contacted
    eligible = {
        "it-invite": set(members.customer_id[members.segment == "it_11_17"]),
        "hot-discount": set(traits.customer_id[traits.lead_score >= 0.5]),
        "referral": set(members.customer_id[members.segment == "won_recently"]),
    }
    expected: dict[str, str] = {}
    for name in ("it-invite", "hot-discount", "referral"):
        for c in sorted(eligible[name] & ok):
            expected.setdefault(c, name)
    got = dict(zip(plan.rows.customer_id, plan.rows.action, strict=True))
    assert got == expected
    assert len(contacted) > 0
    assert all(len(v) > 0 for v in eligible.values())
    for a in DEMO_ACTIONS:
        rows = plan.rows[plan.rows.action == a["name"]]
        control = in_control("segmint", a["name"], rows.customer_id, a["control_share"])
        assert (rows.arm == np.where(control, "control", "treatment")).all()
    stored = b2b_demo.engine.table("action_plan").to_pyarrow().to_pandas()
    assert sorted(stored.customer_id) == sorted(plan.rows.customer_id)
    files = write_plan_files(plan, tmp_path)
    email = pd.read_csv(tmp_path / "demo" / "email.csv", dtype=str)
    treated = plan.rows[plan.rows.arm == "treatment"]
    assert sorted(email.customer_id) == sorted(treated.customer_id)
    assert list(email.columns[:4]) == ["campaign_id", "customer_id", "arm", "contact_date"]
    holdout = pd.read_csv(tmp_path / "demo" / "holdout.csv", dtype=str)
    assert set(holdout.arm) <= {"control"}
    assert len(holdout) + len(email) == len(plan.rows)
    assert len(files) == 3
