"""Segment cards against an independent pandas computation on the same store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from store_sql import raw

from segmint.exceptions import SegmentNotFoundError
from segmint.profiles import (
    BASE,
    SegmentCard,
    parse_bands,
    parse_group,
    profile_base,
    transitions,
)
from segmint.profiles._project import profile
from segmint.project import Project

TOL = 1e-12  # the same sums in another order: equal to the last bits or nearly


def _last_run(p: Project) -> str:
    return str(raw(p, "select max(run_id) from runs where status = 'succeeded'").iloc[0, 0])


def _traits(p: Project) -> pd.DataFrame:
    return raw(p, "select * from customer_traits").set_index("customer_id")


def _members(p: Project, segment: str, run_id: str) -> pd.Index:
    snap = raw(
        p,
        f"select customer_id from segment_memberships where from_run <= '{run_id}' "
        f"and (to_run is null or to_run > '{run_id}') and segment = '{segment}'",
    )
    return pd.Index(snap["customer_id"])


def _index(group: float, base: float) -> float:
    return 100 * group / base


@pytest.mark.parametrize("segment", ["vip", "young_mobile", "rfm-champions", "tier-gold"])
def test_card_figures_equal_pandas(
    demo: Project, cards: dict[str, SegmentCard], segment: str
) -> None:
    run_id = _last_run(demo)
    t = _traits(demo)
    members = _members(demo, segment, run_id)
    seg = t.loc[members]
    card = cards[segment]
    assert card.run_id == run_id
    assert card.size == len(members) > 0
    assert card.base_size == len(t)
    assert card.share == pytest.approx(len(members) / len(t), rel=TOL)
    assert card.revenue_share == pytest.approx(seg["monetary"].sum() / t["monetary"].sum(), rel=TOL)
    assert card.revenue_12m_share == pytest.approx(
        seg["spend_365d"].sum() / t["spend_365d"].sum(), rel=TOL
    )
    assert card.clv_share == pytest.approx(seg["clv"].sum() / t["clv"].sum(), rel=TOL)
    rows = {(r["field"], r["value"]): r for r in card.rows}
    # every numeric trait: mean over known values, index 100 * mean / base mean
    for col in ("recency_days", "frequency", "monetary", "clv", "churn_probability",
                "open_rate_90d", "age", "orders_90d"):  # fmt: skip
        r = rows[(col, None)]
        assert r["group"] == pytest.approx(seg[col].mean(), rel=TOL)
        assert r["base"] == pytest.approx(t[col].mean(), rel=TOL)
        assert r["index"] == pytest.approx(_index(seg[col].mean(), t[col].mean()), rel=TOL)
    # yes/no traits: share true among known
    for col in ("consent_email", "subscription_active"):
        r = rows[(col, None)]
        g = seg[col].dropna().astype(float).mean()
        assert r["index"] == pytest.approx(_index(g, t[col].dropna().astype(float).mean()))
    # every value of the categorical traits: share among known, index of the shares
    for col in ("top_category", "top_channel", "lifecycle_stage", "age_band"):
        if col == "age_band":
            bands = pd.cut(t["age"], [-1, 29, 44, 59, 74, 200],
                           labels=["18-29", "30-44", "45-59", "60-74", "75+"])  # fmt: skip
            values = bands.astype("string")
        else:
            values = t[col]
        base = values.value_counts(normalize=True)
        mine = values.loc[members].value_counts(normalize=True)
        for v, b in base.items():
            r = rows[(col, str(v))]
            assert r["base"] == pytest.approx(b, rel=TOL)
            assert r["group"] == pytest.approx(mine.get(v, 0.0), rel=TOL, abs=0)
            assert r["index"] == pytest.approx(_index(mine.get(v, 0.0), b), rel=TOL)


def test_trait_group_is_profiled_like_a_segment(
    demo: Project, cards: dict[str, SegmentCard]
) -> None:
    t = _traits(demo)
    members = t.index[t["lifecycle_stage"] == "loyal"]
    card = cards["lifecycle_stage=loyal"]
    assert card.group.kind == "trait"
    assert card.size == len(members)
    assert card.revenue_share == pytest.approx(
        t.loc[members, "monetary"].sum() / t["monetary"].sum(), rel=TOL
    )
    # the same customers as the family cell segment, so the same figures
    cell = cards["lifecycle-loyal"]
    assert cell.size == card.size
    assert [r["index"] for r in cell.rows] == pytest.approx([r["index"] for r in card.rows])
    assert card.growth is None
    assert card.distinguishing
    assert all(r["field"] != "lifecycle_stage" for r in card.distinguishing)  # its definition
    assert cell.growth is not None


def test_distinguishing_traits_are_the_furthest_from_100(
    demo: Project, cards: dict[str, SegmentCard]
) -> None:
    card = cards["young_mobile"]
    top = card.distinguishing
    assert len(top) == demo.config.profiles.top_traits
    dist = [abs(np.log(r["index"] / 100)) for r in top]
    assert dist == sorted(dist, reverse=True)
    # the planted definition of the segment (age under 30) is what sets it apart
    first = top[0]
    assert (first["field"], first["value"]) == ("age_band", "18-29")
    assert first["group"] == 1.0


def test_survey_nps_and_items_equal_pandas(demo: Project, cards: dict[str, SegmentCard]) -> None:
    run_id = _last_run(demo)
    as_of = raw(demo, f"select as_of from runs where run_id = '{run_id}'").iloc[0, 0]
    answers = raw(demo, "select * from survey_responses")
    ids = raw(demo, "select customer_id, person_id from identities")
    answers = answers.merge(ids, on="customer_id", how="left")
    answers["person"] = answers["person_id"].fillna(answers["customer_id"])
    answers = answers[pd.to_datetime(answers["response_date"]) < as_of]
    latest = answers.sort_values(["person", "response_date", "response_id"]).groupby(
        "person"
    ).tail(1).set_index("person")  # fmt: skip
    members = _members(demo, "vip", run_id)
    mine = latest.loc[latest.index.intersection(members)]
    nps = 100 * ((mine["nps"] >= 9).mean() - (mine["nps"] <= 6).mean())
    card = cards["vip"]
    assert card.survey is not None
    assert card.survey["respondents"] == len(mine) > 10
    assert card.survey["nps"] == pytest.approx(nps, rel=TOL)
    items = {i["item"]: i for i in card.survey["items"]}
    assert items["q_quality"]["group"] == pytest.approx(mine["q_quality"].mean(), rel=TOL)
    assert items["q_quality"]["base"] == pytest.approx(latest["q_quality"].mean(), rel=TOL)


def _pandas_sizing(demo: Project, members: pd.Index) -> dict[str, float]:
    """Market, penetration and headroom of a group, by hand (module docstring of sizing)."""
    with profile_base(demo.engine) as pb:
        base = pb.table.select("customer_id", "region", "age").to_pandas()
    market = raw(demo, "select region, age_band, households from market_households")
    bands = ["18-29", "30-44", "45-59", "60-74", "75+"]
    base["age_band"] = pd.cut(base["age"], [-1, 29, 44, 59, 74, 200], labels=bands).astype(str)
    base = base.dropna(subset=["region", "age"])
    per_cell = base.groupby(["region", "age_band"]).size().rename("customers").reset_index()
    cells = per_cell.merge(market, on=["region", "age_band"])
    mine = base[base["customer_id"].isin(members)]
    m = mine.groupby(["region", "age_band"]).size().rename("n").reset_index().merge(cells)
    like = (m["n"] * m["households"] / m["customers"]).sum()
    return {"market": like, "matched": m["n"].sum(), "penetration": m["n"].sum() / like,
            "total": market["households"].sum()}  # fmt: skip


@pytest.mark.parametrize("segment", ["vip", "browse_then_buy", "lifecycle-new"])
def test_penetration_and_headroom_equal_pandas(
    demo: Project, cards: dict[str, SegmentCard], segment: str
) -> None:
    run_id = _last_run(demo)
    want = _pandas_sizing(demo, _members(demo, segment, run_id))
    s = cards[segment].sizing
    assert s is not None
    assert s["matched"] == want["matched"]
    assert s["market"] == pytest.approx(want["market"], rel=TOL)
    assert s["penetration"] == pytest.approx(want["penetration"], rel=TOL)
    assert s["headroom"] == pytest.approx(want["market"] - want["matched"], rel=TOL)
    assert s["market_share"] == pytest.approx(want["market"] / want["total"], rel=TOL)
    settings = demo.config.profiles
    narrow = s["market_share"] < settings.min_market_share or s["members"] < settings.min_customers
    assert s["narrow"] is narrow


def test_base_sizing_is_the_market_of_every_cell_with_customers(demo: Project) -> None:
    from segmint.profiles import membership, sizing

    t = _traits(demo)
    want = _pandas_sizing(demo, t.index)
    with profile_base(demo.engine) as pb:
        s = sizing(pb, membership(pb, []), demo.config.profiles)[BASE]
    assert s.market == pytest.approx(want["market"], rel=TOL)
    assert s.penetration == pytest.approx(want["penetration"], rel=TOL)
    assert s.narrow is False


def test_a_narrow_segment_is_flagged(demo: Project) -> None:
    demo.config.profiles.min_customers = 10_000
    s = profile(demo, "vip").card.sizing
    assert s is not None
    assert s["narrow"]
    assert s["reasons"] == ["customers"]


def test_an_empty_segment_has_a_card_and_is_too_narrow(cards: dict[str, SegmentCard]) -> None:
    card = cards["active_danes"]  # nobody opened an email in the 30 days before the run
    assert card.size == 0
    assert card.share == 0.0
    assert card.revenue_share == 0.0
    assert card.sizing is not None
    assert card.sizing["narrow"]
    assert card.sizing["market"] == 0.0
    assert card.sizing["penetration"] is None


def test_growth_follows_the_sizes_of_each_run(demo: Project, cards: dict[str, SegmentCard]) -> None:
    sizes = raw(
        demo, "select run_id, size from segment_sizes where segment = 'vip' order by run_id"
    )
    g = cards["vip"].growth
    assert g is not None
    assert [h["size"] for h in g["history"]] == sizes["size"].tolist()
    assert g["change"] == sizes["size"].iloc[-1] - sizes["size"].iloc[-2]


def test_compare_puts_two_cards_side_by_side(demo: Project) -> None:
    found = profile(demo, "vip", versus="young_mobile")
    assert found.other is not None
    assert found.comparison
    a = {(r["field"], r["value"]): r for r in found.card.rows}
    b = {(r["field"], r["value"]): r for r in found.other.rows}
    for row in found.comparison:
        key = (row["field"], row["value"])
        assert row["index_a"] == a[key]["index"]
        assert row["index_b"] == b[key]["index"]
        if row["gap"] is not None:
            assert row["gap"] == pytest.approx(row["index_a"] - row["index_b"])
    gaps = [abs(r["gap"] or 0) for r in found.comparison]
    assert gaps == sorted(gaps, reverse=True)


def test_a_segment_compared_with_itself_is_counted_once(
    demo: Project, cards: dict[str, SegmentCard]
) -> None:
    found = profile(demo, "vip", versus="vip")
    assert found.card.size == found.other.size == cards["vip"].size  # type: ignore[union-attr]
    assert {r["gap"] for r in found.comparison or []} <= {0.0, None}


def test_transitions_equal_the_snapshots(demo: Project) -> None:
    runs = raw(demo, "select run_id from runs where status = 'succeeded' order by run_id")
    a, b = runs["run_id"].iloc[-2], runs["run_id"].iloc[-1]
    at = {
        r: raw(demo, "select segment, customer_id from segment_memberships where segment like "
                     f"'tier-%' and from_run <= '{r}' and (to_run is null or to_run > '{r}')")
        for r in (a, b)
    }  # fmt: skip
    snap = pd.concat(at.values())
    before = at[a].set_index("customer_id")["segment"]
    after = at[b].set_index("customer_id")["segment"]
    both = pd.concat([before.rename("a"), after.rename("b")], axis=1).fillna("(none)")
    want = both.groupby(["a", "b"]).size().to_dict()
    names = sorted(set(snap.segment))
    got = transitions(demo.engine, names)
    assert (got.from_run, got.to_run) == (a, b)
    assert {(f["from"], f["to"]): f["customers"] for f in got.flows} == want
    assert sum(got.matrix()[x][y] for x, y in want) == len(both)


def test_unknown_groups_are_named(demo: Project) -> None:
    with profile_base(demo.engine) as pb:
        with pytest.raises(SegmentNotFoundError, match="did you mean 'vip'"):
            parse_group("vipp", pb)
        with pytest.raises(SegmentNotFoundError, match="no field 'regoin'"):
            parse_group("regoin=Hovedstaden", pb)
        g = parse_group("region=Hovedstaden", pb)
        assert (g.field, g.value, g.kind) == ("region", "Hovedstaden", "trait")


def test_bands_are_read_from_market_labels() -> None:
    assert parse_bands(["75+", "18-29", "30-44"]) == [
        ("18-29", 18, 29), ("30-44", 30, 44), ("75+", 75, None)
    ]  # fmt: skip
    assert parse_bands(["Hovedstaden"]) is None
