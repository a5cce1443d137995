"""Defection days from the churn drivers' spells: the exact inverse of the hazard."""

from __future__ import annotations

import numpy as np

from segmint.demo._defection import Spells, cumulative_hazard, defection_days

Z = 4.0


def test_the_day_is_where_the_cumulative_hazard_reaches_the_exponential_draw() -> None:
    rng = np.random.default_rng(1)
    n = 20_000
    tickets = Spells.lasting(rng.integers(0, n, 15_000), rng.uniform(0, 1500, 15_000), 3.0, 90.0)
    some = np.arange(0, n, 3)
    start = rng.uniform(0, 1500, len(some))
    stop = np.where(rng.random(len(some)) < 0.5, start + rng.uniform(0, 400, len(some)), np.inf)
    spells = [tickets, Spells(some, start, stop, 0.7)]
    got = defection_days(np.random.default_rng(5), n, spells)
    e = np.random.default_rng(5).standard_exponential(n)  # the draws the function made
    found = np.isfinite(got)
    assert 0.3 < found.mean() < 0.7
    hazard = cumulative_hazard(spells, np.flatnonzero(found), got[found])
    np.testing.assert_allclose(hazard, e[found], rtol=1e-9, atol=1e-9)
    # who never defects: all their spells together stay below the draw
    never = np.flatnonzero(~found)
    total = cumulative_hazard(spells, never, np.full(len(never), 1e9))
    assert (total <= e[never] + 1e-9).all()
    # nobody defects before their first spell starts
    first = np.full(n, np.inf)
    for s in spells:
        np.minimum.at(first, s.customer, s.day)
    assert (got[found] >= first[found]).all()


def test_no_spells_no_defection() -> None:
    none = Spells.lasting(np.zeros(0, np.int64), np.zeros(0), 1.0, None)
    assert np.isinf(defection_days(np.random.default_rng(0), 5, [])).all()
    assert np.isinf(defection_days(np.random.default_rng(0), 5, [none])).all()


def test_a_spell_for_good_gives_an_exponential_time() -> None:
    """From day 100 on, 0.5 a year: the wait is exponential with mean 730 days."""
    n = 40_000
    spells = [Spells.lasting(np.arange(n), np.full(n, 100.0), 0.5, None)]
    wait = defection_days(np.random.default_rng(2), n, spells) - 100.0
    assert abs(wait.mean() - 730.0) < Z * 730.0 / np.sqrt(n)
    assert abs((wait > 365.0).mean() - np.exp(-0.5)) < Z * 0.5 / np.sqrt(n)


def test_a_window_caps_the_chance_of_leaving() -> None:
    """Two overlapping 90-day spells of 3 a year: 1 - exp(-3 * (90 + 90) / 365) leave."""
    n = 40_000
    who = np.r_[np.arange(n), np.arange(n)]
    day = np.r_[np.full(n, 10.0), np.full(n, 50.0)]
    left = np.isfinite(
        defection_days(np.random.default_rng(3), n, [Spells.lasting(who, day, 3.0, 90.0)])
    )
    p = 1 - np.exp(-3.0 * 180 / 365)
    assert abs(left.mean() - p) < Z * np.sqrt(p * (1 - p) / n)


def test_a_spell_ends_at_its_window_or_when_the_driver_stops() -> None:
    s = Spells.lasting(
        np.arange(3), np.array([0.0, 10.0, 20.0]), 1.0, 90.0, until=np.array([50.0, np.inf, 200.0])
    )
    assert s.stop.tolist() == [50.0, 100.0, 110.0]
    assert Spells.lasting(np.arange(1), np.array([5.0]), 1.0, None).stop.tolist() == [np.inf]
