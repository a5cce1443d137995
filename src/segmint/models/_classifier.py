"""A calibrated gradient-boosting classifier on a trait frame, and its model card.

Churn and each category's purchase propensity are the same kind of model: a binary
outcome in a window after a cut-off, predicted from the traits as of the cut-off.
scikit-learn's ``HistGradientBoostingClassifier`` handles missing values and categories
natively and is fast on millions of rows; ``CalibratedClassifierCV`` (isotonic, by
default) turns its scores into probabilities that mean what they say, so "churn > 0.6"
is a sixty percent risk.  This module adds only what a trait frame needs on top: text
columns become categories learned in ``fit`` (rare values are pooled as missing), and
columns are matched by name when scoring.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from segmint._threads import one_thread

Calibration = Literal["isotonic", "sigmoid"]


class TraitClassifier(ClassifierMixin, BaseEstimator):
    """Gradient boosting with calibrated probabilities, fitted on a trait frame.

    Parameters
    ----------
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Passed to ``HistGradientBoostingClassifier``.
    calibration
        ``"isotonic"`` or ``"sigmoid"`` (Platt), for ``CalibratedClassifierCV``.
    cv
        Folds of the calibration: the calibration maps the out-of-fold scores of ``cv``
        boosters to outcomes, and is applied to one booster fitted on every row.
    max_categories
        Text columns keep their most frequent values up to this many; rarer values
        (and values first seen when scoring) count as missing.
    random_state
        Seed of the boosters.
    """

    def __init__(
        self,
        *,
        max_iter: int = 100,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 20,
        l2_regularization: float = 0.0,
        calibration: Calibration = "sigmoid",
        cv: int = 3,
        max_categories: int = 50,
        random_state: int | None = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.calibration = calibration
        self.cv = cv
        self.max_categories = max_categories
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: Any, sample_weight: Any = None) -> TraitClassifier:
        """Learn the categories, fit the boosters and calibrate them.

        Parameters
        ----------
        X
            A trait frame (one row per customer; see :func:`segmint.models.trait_frame`).
        y
            The outcome per row: 1 (or True) for the event, 0 otherwise.
        sample_weight
            Optional weight per row.
        """
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame of traits, got {type(X).__name__}")
        if self.calibration not in ("isotonic", "sigmoid"):
            raise ValueError(
                f"calibration must be 'isotonic' or 'sigmoid', not {self.calibration!r}"
            )
        target = np.asarray(y)
        if target.shape != (len(X),):
            raise ValueError(f"y has shape {target.shape} for {len(X)} rows of X")
        target = target.astype(int)
        found = set(np.unique(target).tolist())
        if not found <= {0, 1}:
            raise ValueError(f"y must be 0/1, found the values {sorted(found)}")
        counts = np.bincount(target, minlength=2)
        if counts.min() < self.cv:
            raise ValueError(
                f"y has {counts[1]} events and {counts[0]} non-events; the calibration "
                f"needs at least cv={self.cv} of each: use more customers or a longer window"
            )
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(X.columns)
        self.categories_: dict[str, list[str]] = {}
        used: list[str] = []
        for name in X.columns:
            col = X[name]
            if col.isna().all():
                continue
            if col.dtype == object or isinstance(col.dtype, pd.CategoricalDtype):
                top = col.dropna().astype(str).value_counts()
                self.categories_[name] = sorted(top.index[: self.max_categories])
            used.append(name)
        self.features_ = used
        booster = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            categorical_features="from_dtype",
            early_stopping=False,
            random_state=self.random_state,
        )
        # shuffled folds: rows often come sorted by customer id, that is by signup date,
        # and unshuffled folds would then each calibrate on another cohort
        folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        # ensemble=False: the folds only give out-of-fold scores to calibrate on, and one
        # booster fitted on every row scores, which is cv times cheaper to predict with
        self.model_ = CalibratedClassifierCV(
            booster, method=self.calibration, cv=folds, ensemble=False
        )
        one_thread(self.model_.fit)(self._encode(X), target, sample_weight=sample_weight)
        self.classes_ = np.array([0, 1])
        return self

    def _encode(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.features_ if c not in X.columns]
        if missing:
            raise ValueError(
                f"X lacks the features {missing[:5]} the model was fitted with; "
                "score with the same traits configuration as the fit"
            )
        cols: dict[str, Any] = {}
        for name in self.features_:
            if name in self.categories_:
                cols[name] = pd.Categorical(X[name], categories=self.categories_[name])
            else:
                cols[name] = pd.to_numeric(X[name], errors="coerce").astype(float).to_numpy()
        return pd.DataFrame(cols, index=X.index)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities of no event and of the event, one row per customer."""
        check_is_fitted(self)
        return np.asarray(one_thread(self.model_.predict_proba)(self._encode(X)))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """1 where the event is more likely than not."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)
