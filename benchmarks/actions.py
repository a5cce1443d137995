"""Activation: uplift model fit/score and next-best-action planning, at a stated size.

Usage: ``python benchmarks/actions.py [--contacts 200000] [--customers 1000000]``.

- **Uplift**: a synthetic randomised campaign of ``--contacts`` customers (20 % control,
  12 numeric and 2 text features, response 5-10 %, a planted effect of +6 points for a
  third of them and +1 for the rest).  segmint's X-learner (4 boosters) is fitted on all
  contacts and scores them; the named baseline is a single scikit-learn
  ``HistGradientBoostingClassifier`` with the treatment as a feature (the "S-learner", what
  one gets from an ordinary response model), whose uplift is its prediction with the flag
  set to 1 minus 0.  Both Qini coefficients are computed on a held-out third, beside the
  planted effect's own (the best possible ranking).
- **Plan**: ``plan_frame`` for ``--customers`` customers and 4 actions (eligibility drawn
  at random, 25-40 % each; consent 70 %; 500,000 past contacts; a 2-in-30-days cap), one
  action per customer.  The baseline is the same plan written in plain pandas (one long
  table, filter, sort by priority, first row per customer); the two plans are checked
  equal.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from segmint.actions import ActionRule, FrequencyCap, NextBestActionSettings
from segmint.actions._holdout import in_control
from segmint.actions._nba import plan_frame
from segmint.actions._uplift import XLearner, _categorical, qini_curve
from segmint.segments import parse_rule

AS_OF = datetime(2026, 10, 1)


def _timed(label: str, results: dict[str, float], fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    results[label] = round(time.perf_counter() - start, 2)
    print(f"{label}: {results[label]} s", flush=True)
    return out


def campaign(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(12)})
    X["region"] = rng.choice(["Hovedstaden", "Sjælland", "Syddanmark", "Midtjylland"], n)
    X["top_category"] = rng.choice(["Sko", "Sport", "Bolig", "Skønhed", "Elektronik"], n)
    X[["region", "top_category"]] = X[["region", "top_category"]].astype(object)
    cate = np.where((X.x0 > 0.4) | (X.top_category == "Sport"), 0.06, 0.01)
    t = rng.random(n) >= 0.2
    base = 0.05 + 0.05 * (X.x1 > 0)
    y = rng.random(n) < base + t * cate
    return X, t, y, cate


def bench_uplift(n: int, t_: dict[str, float]) -> dict[str, float]:
    X, t, y, cate = campaign(n)
    test = np.arange(n) % 3 == 0
    tr = ~test
    with threadpool_limits(limits=1, user_api="openmp"):
        model = _timed(
            f"uplift: X-learner fit ({tr.sum():,} contacts)",
            t_,
            lambda: XLearner().fit(X[tr], t[tr], y[tr]),
        )
        u = _timed(f"uplift: X-learner score ({test.sum():,})", t_, lambda: model.predict(X[test]))
        Xs, _ = _categorical(X, None)

        def single() -> HistGradientBoostingClassifier:
            return HistGradientBoostingClassifier(
                max_iter=150, learning_rate=0.05, max_depth=3, min_samples_leaf=100,
                categorical_features="from_dtype", random_state=0,
            ).fit(Xs[tr].assign(treated=t[tr].astype(float)), y[tr])  # fmt: skip

        s = _timed("baseline: one classifier with the treatment flag, fit", t_, single)

        def s_score() -> np.ndarray:
            xt = Xs[test]
            p1 = s.predict_proba(xt.assign(treated=1.0))[:, 1]
            p0 = s.predict_proba(xt.assign(treated=0.0))[:, 1]
            return np.asarray(p1 - p0)

        su = _timed("baseline: one classifier, score (twice: flag 1 and 0)", t_, s_score)
    q = {
        "x_learner": qini_curve(u, t[test], y[test]).coefficient,
        "single_model": qini_curve(su, t[test], y[test]).coefficient,
        "planted_cate": qini_curve(cate[test], t[test], y[test]).coefficient,
    }
    print("Qini on the held-out third:", {k: round(v, 5) for k, v in q.items()})
    return q


def pandas_plan(
    eligible: dict[str, pd.Index],
    settings: NextBestActionSettings,
    consent: pd.DataFrame,
    history: pd.DataFrame,
) -> pd.DataFrame:
    """The baseline: the same one-action-per-customer plan in plain pandas."""
    cap = settings.frequency_caps[0]
    when = pd.to_datetime(history.contact_date)
    recent = history[
        (history.arm == "treatment")
        & (when >= pd.Timestamp(AS_OF - timedelta(days=cap.days)))
        & (when < pd.Timestamp(AS_OF))
    ]
    full = recent.groupby("customer_id").size()
    full = set(full[full >= cap.max_contacts].index)
    parts = []
    for i, a in enumerate(settings.actions):
        ids = eligible[a.name]
        parts.append(pd.DataFrame({"customer_id": ids, "action": a.name, "priority": a.priority,
                                   "order": i, "channel": a.channel}))  # fmt: skip
    long = pd.concat(parts, ignore_index=True)
    ok = consent.reindex(long.customer_id)["consent_email"].to_numpy(dtype=bool)
    long = long[ok & ~long.customer_id.isin(full).to_numpy()]
    long = long.sort_values(["priority", "order", "customer_id"])
    plan = long.drop_duplicates("customer_id", keep="first")
    arms = []
    for a in settings.actions:
        sel = plan[plan.action == a.name]
        ctrl = in_control(settings.salt, a.name, sel.customer_id, a.control_share)
        arms.append(pd.Series(np.where(ctrl, "control", "treatment"), index=sel.index))
    return plan.assign(arm=pd.concat(arms))


def bench_plan(n: int, t_: dict[str, float]) -> None:
    rng = np.random.default_rng(1)
    ids = pd.Index([str(100_000 + i) for i in range(n)], dtype=object)
    rule = parse_rule({"field": "frequency", "op": ">=", "value": 0})
    names = [
        ("win-back", 1, 0.25),
        ("vip-event", 2, 0.3),
        ("discount", 3, 0.4),
        ("referral", 4, 0.3),
    ]
    settings = NextBestActionSettings(
        actions=[ActionRule(name=a, kind="other", channel="email", priority=p, when=rule,
                            control_share=0.1) for a, p, _ in names],
        frequency_caps=[FrequencyCap(max_contacts=2, days=30)],
    )  # fmt: skip
    eligible = {a: ids[rng.random(n) < share] for a, _, share in names}
    consent = pd.DataFrame({"consent_email": rng.random(n) < 0.7}, index=ids)
    h = 500_000
    history = pd.DataFrame(
        {
            "customer_id": ids[rng.integers(0, n, h)],
            "contact_date": (pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(1, 90, h), "D")),
            "channel": "email",
            "arm": np.where(rng.random(h) < 0.9, "treatment", "control"),
        }
    )
    plan = _timed(
        f"plan: plan_frame ({n:,} customers, 4 actions)",
        t_,
        lambda: plan_frame(
            eligible, settings, as_of=AS_OF, plan_id="b", consent=consent, history=history
        ),
    )
    base = _timed(
        "baseline: the same plan in plain pandas",
        t_,
        lambda: pandas_plan(eligible, settings, consent, history),
    )
    got = plan.rows.set_index("customer_id")[["action", "arm"]].sort_index()
    want = base.set_index("customer_id")[["action", "arm"]].sort_index()
    assert got.equals(want), "the two plans differ"
    print(f"plans equal: {len(got):,} rows; treated {int((got.arm == 'treatment').sum()):,}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--contacts", type=int, default=200_000)
    ap.add_argument("--customers", type=int, default=1_000_000)
    args = ap.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    t: dict[str, float] = {}
    bench_uplift(args.contacts, t)
    bench_plan(args.customers, t)


if __name__ == "__main__":
    main()
