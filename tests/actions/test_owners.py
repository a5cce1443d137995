"""Owner assignment: exact results on a hand-made case, and on the B2B demo against an
independent pandas computation of territories, capacity and stickiness."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from segmint import service
from segmint.actions import (
    OwnersSettings,
    Salesperson,
    Territory,
    assign_account_owners,
    assign_owners,
    size_band,
)
from segmint.actions._owners import UNASSIGNED_FULL, UNASSIGNED_NO_TERRITORY
from segmint.config import ProjectConfig
from segmint.project import Project

T0 = datetime(2026, 10, 1)
T1 = datetime(2026, 11, 1)


def _accounts() -> pd.DataFrame:
    rows = [
        # id, country, region, nace, employees, score
        ("a1", "DK", "Nord", "62.01", 12, 0.9),
        ("a2", "DK", "Nord", "47.11", 300, 0.8),
        ("a3", "DK", "Nord", "62.02", 5, 0.7),
        ("a4", "DK", "Syd", "62.01", 40, 0.6),
        ("a5", "DK", "Syd", "62.02", 11, 0.5),
        ("a6", "SE", "Skåne", "41.20", 20, 0.4),
        ("a7", "DK", "Nord", "70.22", None, 0.3),
        ("a8", "DK", "Nord", "70.22", 8, None),
    ]
    return pd.DataFrame(
        rows, columns=["customer_id", "country", "region", "nace_code", "employees", "score"]
    )


def _settings(**kw: object) -> OwnersSettings:
    base: dict[str, object] = {
        "salespeople": [
            Salesperson(name="Anna", capacity=2),
            Salesperson(name="Bo", capacity=3),
            Salesperson(name="Cai"),
        ],
        "territories": [
            Territory(name="it", owners=["Cai"], nace=["62"], size_bands=["10-49"]),
            Territory(name="north", owners=["Anna", "Bo"], countries=["DK"], regions=["Nord"]),
        ],
    }
    return OwnersSettings(**(base | kw))


def _owners(result: pd.DataFrame) -> dict[str, str | None]:
    return {
        c: (o if isinstance(o, str) else None)
        for c, o in zip(result.customer_id, result.owner, strict=True)
    }


def test_size_bands() -> None:
    assert [size_band(x) for x in (0, 9, 10, 49, 50, 249, 250, None)] == [
        "0-9", "0-9", "10-49", "10-49", "50-249", "50-249", "250+", None,
    ]  # fmt: skip


def test_hand_made_case_exactly() -> None:
    """In score order: a1 (IT, 12 employees) -> Cai; a2 (north) -> Anna; a3 (NACE 62 but 5
    employees: north) -> Bo; a4, a5 (IT) -> Cai; a6 matches no territory: round robin over
    everyone, fewest accounts first (Anna 1, Bo 1, Cai 3; Anna's turn) -> Anna; a7, a8
    (north): Anna is full (cap 2) -> Bo, Bo."""
    result = assign_owners(_accounts(), _settings(), now=T0)
    assert _owners(result) == {
        "a1": "Cai", "a2": "Anna", "a3": "Bo", "a4": "Cai", "a5": "Cai",
        "a6": "Anna", "a7": "Bo", "a8": "Bo",
    }  # fmt: skip
    rules = dict(zip(result.customer_id, result.rule, strict=True))
    assert rules["a1"] == "territory it"
    assert rules["a2"] == "territory north"
    assert rules["a6"] == "round robin"
    assert (result.assigned_at == pd.Timestamp(T0)).all()
    load = result.owner.value_counts()
    assert load["Anna"] == 2  # at her cap
    assert load["Bo"] == 3  # at his cap


def test_capacity_overflow_and_unassigned() -> None:
    """Anna and Bo with room for one each: the north's two best take them; the rest of the
    north overflows to Cai (no cap); with overflow 'none' they stay unassigned."""
    people = [
        Salesperson(name="Anna", capacity=1),
        Salesperson(name="Bo", capacity=1),
        Salesperson(name="Cai", capacity=10),
    ]
    result = assign_owners(_accounts(), _settings(salespeople=people), now=T0)
    owners = _owners(result)
    assert (owners["a2"], owners["a3"]) == ("Anna", "Bo")
    assert owners["a7"] == owners["a8"] == "Cai"
    rules = dict(zip(result.customer_id, result.rule, strict=True))
    assert rules["a7"] == "overflow from territory north"
    strict = assign_owners(_accounts(), _settings(salespeople=people, overflow="none"), now=T0)
    owners = _owners(strict)
    rules = dict(zip(strict.customer_id, strict.rule, strict=True))
    assert owners["a7"] is None
    assert rules["a7"] == UNASSIGNED_FULL
    assert owners["a6"] is None
    assert rules["a6"] == UNASSIGNED_NO_TERRITORY
    # nobody with room at all
    none_left = [Salesperson(name=n, capacity=0) for n in ("Anna", "Bo", "Cai")]
    empty = assign_owners(_accounts(), _settings(salespeople=none_left), now=T0)
    assert empty.owner.isna().all()
    assert set(empty.rule) == {UNASSIGNED_FULL}


def test_sticky_owners_keep_their_accounts() -> None:
    """A second run keeps every owner and time; a salesperson who left loses exactly their
    accounts; a lowered cap releases the lowest-scored accounts."""
    first = assign_owners(_accounts(), _settings(), now=T0)
    again = assign_owners(_accounts(), _settings(), previous=first, now=T1)
    pd.testing.assert_frame_equal(first, again)
    # a new account appears: the others keep theirs
    more = pd.concat([_accounts(), pd.DataFrame([{"customer_id": "a9", "country": "DK",
        "region": "Nord", "nace_code": "10.71", "employees": 3, "score": 0.95}])])  # fmt: skip
    grown = assign_owners(more, _settings(), previous=first, now=T1)
    assert _owners(grown.iloc[:-1]) == _owners(first)
    assert _owners(grown)["a9"] == "Cai"  # north is full (Anna 2/2, Bo 3/3): overflow
    assert grown.set_index("customer_id").assigned_at["a9"] == pd.Timestamp(T1)
    # Bo leaves
    gone = [
        Salesperson(name="Anna", capacity=2),
        Salesperson(name="Bo", active=False),
        Salesperson(name="Cai"),
    ]
    moved = assign_owners(_accounts(), _settings(salespeople=gone), previous=first, now=T1)
    before, after = _owners(first), _owners(moved)
    changed = {c for c in before if before[c] != after[c]}
    assert changed == {c for c, o in before.items() if o == "Bo"}
    assert "Bo" not in set(moved.owner)
    kept = moved.set_index("customer_id")
    assert (kept.assigned_at[sorted(set(before) - changed)] == pd.Timestamp(T0)).all()
    assert (kept.assigned_at[sorted(changed)] == pd.Timestamp(T1)).all()
    # Anna's cap drops to 1: she keeps a2 (score 0.8) and releases a6 (0.4)
    capped = [
        Salesperson(name="Anna", capacity=1),
        Salesperson(name="Bo", capacity=3),
        Salesperson(name="Cai"),
    ]
    cut = _owners(assign_owners(_accounts(), _settings(salespeople=capped), previous=first))
    assert cut["a2"] == "Anna"
    assert cut["a6"] != "Anna"
    assert sum(o == "Anna" for o in cut.values()) == 1
    # not sticky: the assignment is made afresh, as if there were no previous one
    fresh = assign_owners(_accounts(), _settings(sticky=False), previous=grown, now=T1)
    assert _owners(fresh) == _owners(assign_owners(_accounts(), _settings(), now=T1))


def test_round_robin_is_balanced() -> None:
    """Without territories, 100 accounts over 3 salespeople: 34/33/33, in turn."""
    acc = pd.DataFrame(
        {"customer_id": [f"c{i:03d}" for i in range(100)], "country": "DK", "region": "x",
         "nace_code": "62.01", "employees": 12, "score": [1 - i / 100 for i in range(100)]}
    )  # fmt: skip
    people = [Salesperson(name=n) for n in ("A", "B", "C")]
    result = assign_owners(acc, OwnersSettings(salespeople=people), now=T0)
    assert result.owner.value_counts().to_dict() == {"A": 34, "B": 33, "C": 33}
    assert result.owner.tolist()[:6] == ["A", "B", "C", "A", "B", "C"]
    # with A already holding 10 sticky accounts, new ones go to B and C until they catch up
    prev = result.iloc[:0]
    sticky = pd.DataFrame(
        {"customer_id": [f"c{i:03d}" for i in range(10)], "owner": "A", "rule": "x",
         "assigned_at": pd.Timestamp(T0)}
    )  # fmt: skip
    balanced = assign_owners(acc, OwnersSettings(salespeople=people), previous=sticky, now=T1)
    assert balanced.owner.value_counts().to_dict() == {"A": 34, "B": 33, "C": 33}
    assert len(prev) == 0


def test_crm_owner_is_the_starting_point() -> None:
    acc = _accounts().assign(crm_owner=["Bo", None, "Nobody", None, None, None, None, None])
    result = _owners(assign_owners(acc, _settings(crm_owner=True), now=T0))
    assert result["a1"] == "Bo"  # kept from the CRM although territory 'it' says Cai
    assert result["a3"] != "Nobody"
    assert assign_owners(acc, _settings(), now=T0).set_index("customer_id").owner["a1"] == "Cai"


def test_settings_reject_unknown_owner() -> None:
    with pytest.raises(ValueError, match="'x': Zed not among the salespeople"):
        OwnersSettings(
            salespeople=[Salesperson(name="A")], territories=[Territory(name="x", owners=["Zed"])]
        )


# -- the B2B demo ---------------------------------------------------------------------------
def _demo_frame(project: Project) -> pd.DataFrame:
    """Accounts of the demo, computed independently with SQL on the store."""
    con = project.engine.con.con  # the DuckDB connection under Ibis
    return con.sql(
        """
        select i.person_id as customer_id, max(c.country) as country, max(c.region) as region,
               max(c.employees) as employees, max(c.nace_code) as nace_code
        from customers c join identities i using (customer_id)
        where c.customer_type = 'company' and c.employees between 11 and 17
          and c.nace_code like '62%'
        group by 1
        """
    ).df()


def _owner_table(project: Project) -> pd.DataFrame:
    return project.engine.table("account_owners").to_pyarrow().to_pandas()


def test_demo_owners_honour_territories_and_caps(b2b_demo: Project) -> None:
    settings = b2b_demo.config.actions.owners
    owners = _owner_table(b2b_demo)
    accounts = _demo_frame(b2b_demo)
    assert sorted(owners.customer_id) == sorted(accounts.customer_id)
    assert owners.owner.notna().all()
    caps = {s.name: s.capacity for s in settings.salespeople}
    load = owners.owner.value_counts()
    assert all(load[o] <= caps[o] for o in load.index)
    merged = owners.merge(accounts, on="customer_id")
    by_name = {t.name: t for t in settings.territories}
    for row in merged.itertuples():
        # the first territory that matches, computed here from the territory lists
        first = next(
            t for t in settings.territories
            if row.country in t.countries and (not t.regions or row.region in t.regions)
        ) if any(row.country in t.countries and (not t.regions or row.region in t.regions)
                 for t in settings.territories) else None  # fmt: skip
        if row.rule.startswith("territory "):
            t = by_name[row.rule.removeprefix("territory ")]
            assert t is first
            assert row.owner in t.owners
        elif row.rule.startswith("overflow from territory "):
            t = by_name[row.rule.removeprefix("overflow from territory ")]
            assert t is first
            assert all(load[o] == caps[o] for o in t.owners)  # its owner was full
        else:
            assert row.rule == "round robin"
            assert first is None
    # the best-scored accounts of a full territory stayed in it
    traits = b2b_demo.engine.table("customer_traits").to_pyarrow().to_pandas()
    merged = merged.merge(traits[["customer_id", "lead_score"]], on="customer_id")
    merged["home"] = merged.rule.str.replace("overflow from ", "").str.replace("territory ", "")
    for _, grp in merged.groupby("home"):
        inside = grp[grp.rule.str.startswith("territory ")].lead_score
        outside = grp[grp.rule.str.startswith("overflow ")].lead_score
        if len(inside) and len(outside):
            assert inside.min() >= outside.max()


def test_demo_owners_are_sticky_across_runs(b2b_demo: Project) -> None:
    first = _owner_table(b2b_demo).set_index("customer_id")
    service.run(b2b_demo)
    second = _owner_table(b2b_demo).set_index("customer_id")
    pd.testing.assert_frame_equal(first.sort_index(), second.sort_index())
    # the busiest salesperson leaves: only their accounts move, to people with room
    config: ProjectConfig = b2b_demo.config
    leaving = str(first.owner.value_counts().index[0])
    for s in config.actions.owners.salespeople:
        if s.name == leaving:
            s.active = False
    report = assign_account_owners(b2b_demo.engine, config)
    third = _owner_table(b2b_demo).set_index("customer_id").sort_index()
    moved = third.owner != first.sort_index().owner
    assert set(third.index[moved]) == set(first.index[first.owner == leaving])
    assert report.changed == int(moved.sum())
    assert leaving not in set(third.owner)
    caps = {s.name: s.capacity for s in config.actions.owners.salespeople}
    assert all(n <= caps[o] for o, n in third.owner.value_counts().items())


def _first_territory(accounts: pd.DataFrame, territories: list[Territory]) -> pd.Series:
    """The first matching territory of every account, vectorised in pandas (independent
    of segmint's matcher)."""
    bands = pd.cut(
        accounts.employees, [-1, 9, 49, 249, np.inf], labels=["0-9", "10-49", "50-249", "250+"]
    ).astype(object)
    first = pd.Series(None, index=accounts.index, dtype=object)
    for t in reversed(territories):
        ok = pd.Series(True, index=accounts.index)
        if t.countries:
            ok &= accounts.country.isin(t.countries)
        if t.regions:
            ok &= accounts.region.isin(t.regions)
        if t.nace:
            ok &= accounts.nace_code.str[:2].isin([p[:2] for p in t.nace])
        if t.size_bands:
            ok &= bands.isin(t.size_bands)
        first[ok] = t.name
    return first


@pytest.mark.parametrize("seed", range(6))
def test_random_cases_honour_territories_and_caps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    acc = pd.DataFrame(
        {
            "customer_id": [f"k{i:04d}" for i in range(n)],
            "country": rng.choice(["DK", "SE", "NO"], n),
            "region": rng.choice(["a", "b", "c", "d"], n),
            "nace_code": rng.choice(["62.01", "62.02", "47.11", "41.20", "70.22"], n),
            "employees": rng.choice([3, 12, 40, 120, 900], n),
            "score": rng.random(n),
        }
    )
    people = [Salesperson(name=f"S{i}", capacity=int(rng.integers(10, 60))) for i in range(6)]
    territories = [
        Territory(name="t-it", owners=["S0", "S1"], nace=["62"], size_bands=["10-49", "50-249"]),
        Territory(name="t-dk-ab", owners=["S2"], countries=["DK"], regions=["a", "b"]),
        Territory(name="t-se", owners=["S3", "S4"], countries=["SE"]),
    ]
    settings = OwnersSettings(salespeople=people, territories=territories)
    result = assign_owners(acc, settings, now=T0).merge(acc, on="customer_id")
    first = _first_territory(result, territories)
    caps = {p.name: p.capacity for p in people}
    load = result.owner.value_counts()
    assert all(load[o] <= caps[o] for o in load.index)
    owners_of = {t.name: t.owners for t in territories}
    for i, row in result.iterrows():
        if row.rule.startswith("territory "):
            assert row.rule == f"territory {first[i]}"
            assert row.owner in owners_of[first[i]]
        elif row.rule.startswith("overflow from territory "):
            assert row.rule == f"overflow from territory {first[i]}"
            assert all(load.get(o, 0) == caps[o] for o in owners_of[first[i]])
        elif row.rule == "round robin":
            assert pd.isna(first[i])
        else:
            assert row.rule == UNASSIGNED_FULL
            assert all(load.get(p.name, 0) == p.capacity for p in people)
    # better-scored accounts of a territory were served before worse ones overflowed
    for name in owners_of:
        mine = result[first == name]
        inside = mine[mine.rule == f"territory {name}"].score
        out = mine[mine.rule != f"territory {name}"].score
        if len(inside) and len(out):
            assert inside.min() > out.max()
