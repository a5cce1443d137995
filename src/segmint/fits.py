"""Fitted models kept in the store, so that a run can re-use a recent fit instead of refitting.

Churn and propensity take minutes to fit on a million customers and change slowly: with
``refit_days: N`` a run scores with the latest fit made at most N days before its
``as_of`` with the same settings (and the same trait definitions), and fits anew only
when there is none.  Fits are stored in ``model_fits`` by the run that made them, inside
its publishing transaction, so a failed run leaves no fit behind; a later run reads only
fits of runs that succeeded.

A fit is stored as a pickle of the fitted object (scikit-learn's own persistence advice:
pickle or joblib of the estimator).  It holds no customer rows: the classifiers, their
backtest metrics, the drivers' global importance and the reference medians; a pickle is
only ever read from the project's own store.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa

from segmint.engine import Engine

FITS = "model_fits"
FIT_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("model", pa.string()),
        ("settings", pa.string()),
        ("as_of", pa.timestamp("us")),
        ("fit", pa.binary()),
    ]
)


@dataclass(frozen=True)
class StoredFit:
    """A fit to store with a run: what it is, under which settings, as of when."""

    model: str
    settings: str  # settings_key(...)
    as_of: datetime
    fit: bytes

    @classmethod
    def of(cls, model: str, settings: str, as_of: datetime, fitted: Any) -> StoredFit:
        return cls(model, settings, as_of, pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL))


def settings_key(*parts: Any) -> str:
    """A stable digest of everything a fit depends on (settings, trait definitions)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def latest_fit(
    engine: Engine, model: str, settings: str, as_of: datetime, max_age_days: int
) -> tuple[Any, datetime] | None:
    """The newest stored fit of ``model`` with ``settings`` made in the ``max_age_days``
    before ``as_of`` (never after it), and its as-of; None if there is none."""
    if max_age_days <= 0 or not engine.has_table(FITS):
        return None
    f = engine.table(FITS)
    start = ibis.literal(as_of - timedelta(days=max_age_days), type="timestamp")
    end = ibis.literal(as_of, type="timestamp")
    rows = (
        f.filter(
            (f.model == model) & (f.settings == settings) & (f.as_of >= start) & (f.as_of <= end)
        )
        .order_by([ibis.desc("as_of"), ibis.desc("run_id")])
        .limit(1)
        .to_pyarrow()
        .to_pylist()
    )
    if not rows:
        return None
    return pickle.loads(rows[0]["fit"]), rows[0]["as_of"]


def fits_table(run_id: str, fits: list[StoredFit]) -> pa.Table:
    """The rows ``model_fits`` gets for ``run_id``."""
    return pa.Table.from_pylist(
        [
            {
                "run_id": run_id,
                "model": f.model,
                "settings": f.settings,
                "as_of": f.as_of,
                "fit": f.fit,
            }
            for f in fits
        ],
        schema=FIT_SCHEMA,
    )


def prune_fits(engine: Engine, keep_runs: list[str]) -> None:
    """Drop the fits of runs no longer kept, except the newest fit of each model and
    settings (a run may still re-use it)."""
    if not engine.has_table(FITS):
        return
    f = engine.table(FITS)
    meta = f.select("run_id", "model", "settings", "as_of").to_pyarrow().to_pylist()
    newest: dict[tuple[str, str], tuple[datetime, str]] = {}
    for r in meta:
        k = (r["model"], r["settings"])
        newest[k] = max(newest.get(k, (r["as_of"], r["run_id"])), (r["as_of"], r["run_id"]))
    keep = set(keep_runs) | {run for _, run in newest.values()}
    drop = {r["run_id"] for r in meta} - keep
    if drop:
        engine.write(FITS, f.filter(~f.run_id.isin(sorted(drop))))
