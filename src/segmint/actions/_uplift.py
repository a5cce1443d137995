"""Uplift model: the X-learner on scikit-learn gradient boosting, cross-fitted, and the
Qini curve.

The X-learner (Künzel, Sekhon, Bickel and Yu, PNAS 2019) fits the response of the control
and of the treated arm (``mu0``, ``mu1``), imputes each customer's own effect from the
other arm's model (treated: ``y - mu0(x)``; control: ``mu1(x) - y``), regresses those
imputed effects on the features in each arm (``tau1``, ``tau0``), and combines them with
the treated share ``e`` of a randomised campaign: ``tau(x) = e * tau0(x) + (1 - e) *
tau1(x)``.  It uses the larger arm to correct the smaller one, which matters when the
control group is a fifth of the campaign.  Its parts are scikit-learn's
``HistGradientBoostingClassifier`` and ``Regressor`` (missing values and text categories
handled natively).  causalml and scikit-uplift implement the same learners, but pull in
heavy or unmaintained dependencies for a dozen lines of composition.

Every customer's uplift used for evaluation is *cross-fitted*: predicted by models fitted
on the other folds, so the Qini curve judges the model on customers it has not seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from segmint._threads import one_thread


def _categorical(X: pd.DataFrame, categories: dict[str, list[str]] | None) -> tuple[
    pd.DataFrame, dict[str, list[str]]
]:  # fmt: skip
    """Text columns as pandas categories (the 30 commonest values; others missing)."""
    out = X.copy()
    learned = {} if categories is None else categories
    for col in X.columns:
        if X[col].dtype == object or isinstance(X[col].dtype, pd.CategoricalDtype):
            if categories is None:
                learned[col] = [str(v) for v in X[col].dropna().value_counts().index[:30]]
            out[col] = pd.Categorical(X[col].astype("string"), categories=learned[col])
        else:
            out[col] = pd.to_numeric(X[col], errors="coerce").astype(float)
    return out, learned


class XLearner(BaseEstimator):
    """X-learner uplift model for a randomised campaign with a binary response.

    Parameters
    ----------
    max_iter, learning_rate, max_depth, min_samples_leaf
        Passed to every gradient-boosting part; the defaults are deliberately smooth,
        since uplift is a small difference of two noisy rates.
    random_state
        Seed of the boosters.
    """

    def __init__(
        self,
        *,
        max_iter: int = 150,
        learning_rate: float = 0.05,
        max_depth: int | None = 3,
        min_samples_leaf: int = 100,
        random_state: int | None = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def _params(self) -> dict[str, Any]:
        return {
            "max_iter": self.max_iter,
            "learning_rate": self.learning_rate,
            "max_depth": self.max_depth,
            "min_samples_leaf": self.min_samples_leaf,
            "random_state": self.random_state,
            "categorical_features": "from_dtype",
        }

    @one_thread
    def fit(self, X: pd.DataFrame, treatment: Any, y: Any) -> XLearner:
        """Fit on features ``X``, ``treatment`` (1 treated, 0 control) and response ``y``."""
        t = np.asarray(treatment, dtype=bool)
        yv = np.asarray(y, dtype=float)
        if len(t) != len(X) or len(yv) != len(X):
            raise ValueError("X, treatment and y must have one row per customer")
        if t.all() or not t.any():
            raise ValueError("uplift needs customers in both arms (treated and control)")
        self.columns_ = [c for c in X.columns if X[c].notna().any()]  # all empty: no signal
        Xc, self.categories_ = _categorical(X[self.columns_], None)
        self.treated_share_ = float(t.mean())
        mu0 = HistGradientBoostingClassifier(**self._params()).fit(Xc[~t], yv[~t])
        mu1 = HistGradientBoostingClassifier(**self._params()).fit(Xc[t], yv[t])
        d1 = yv[t] - mu0.predict_proba(Xc[t])[:, 1]
        d0 = mu1.predict_proba(Xc[~t])[:, 1] - yv[~t]
        self.tau1_ = HistGradientBoostingRegressor(**self._params()).fit(Xc[t], d1)
        self.tau0_ = HistGradientBoostingRegressor(**self._params()).fit(Xc[~t], d0)
        self.mu0_, self.mu1_ = mu0, mu1
        return self

    @one_thread
    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Estimated uplift (treated minus control response probability) per row."""
        check_is_fitted(self, "tau1_")
        Xc, _ = _categorical(X[self.columns_], self.categories_)
        e = self.treated_share_
        return np.asarray(e * self.tau0_.predict(Xc) + (1 - e) * self.tau1_.predict(Xc))


def cross_fitted_uplift(
    X: pd.DataFrame, treatment: Any, y: Any, *, folds: int = 3, random_state: int = 0
) -> np.ndarray:
    """Each row's uplift predicted by an :class:`XLearner` fitted on the other folds
    (folds stratified by arm and response)."""
    t = np.asarray(treatment, dtype=bool)
    yv = np.asarray(y, dtype=bool)
    out = np.empty(len(X))
    strata = t.astype(int) * 2 + yv.astype(int)
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    for train, test in split.split(np.zeros(len(X)), strata):
        model = XLearner(random_state=random_state)
        model.fit(X.iloc[train], t[train], yv[train])
        out[test] = model.predict(X.iloc[test])
    return out


@dataclass(frozen=True)
class QiniCurve:
    """Incremental responders when the top ``fraction`` of customers by uplift are treated.

    ``gain[k]`` is Radcliffe's Qini at the top ``k`` customers: treated responders minus
    control responders scaled to the treated count, ``R_t(k) - R_c(k) * N_t(k) / N_c(k)``
    (0 while the top ``k`` hold no control customer). ``coefficient``: the area between
    the curve and the straight line of random targeting, with the fraction on the x axis
    and the gain divided by the number of customers on the y axis (0: no better than
    random; positive: the ranking finds responders that targeting at random would not).
    """

    fraction: np.ndarray
    gain: np.ndarray
    coefficient: float

    def at(self, points: int = 10) -> list[dict[str, float]]:
        """The curve at ``points`` evenly spaced fractions (for tables and charts)."""
        n = len(self.gain) - 1
        idx = np.unique(np.round(np.linspace(0, n, points + 1)).astype(int))
        return [
            {"fraction": float(self.fraction[i]), "incremental_responders": float(self.gain[i])}
            for i in idx
        ]


def qini_curve(uplift: Any, treatment: Any, y: Any) -> QiniCurve:
    """The Qini curve of a ranking by ``uplift`` (highest first; ties in input order)."""
    score = np.asarray(uplift, dtype=float)
    order = np.argsort(-score, kind="stable")
    t = np.asarray(treatment, dtype=bool)[order]
    yv = np.asarray(y, dtype=float)[order]
    n_t = np.concatenate([[0.0], np.cumsum(t)])
    n_c = np.concatenate([[0.0], np.cumsum(~t)])
    r_t = np.concatenate([[0.0], np.cumsum(yv * t)])
    r_c = np.concatenate([[0.0], np.cumsum(yv * ~t)])
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.where(n_c > 0, r_t - r_c * n_t / np.maximum(n_c, 1), 0.0)
    n = len(score)
    fraction = np.arange(n + 1) / max(n, 1)
    random_line = gain[-1] * fraction
    diff = (gain - random_line) / max(n, 1)
    coefficient = float(np.sum((diff[1:] + diff[:-1]) / 2) / max(n, 1))
    return QiniCurve(fraction, gain, coefficient)
