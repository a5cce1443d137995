"""Needs-based macro segments: latent classes of survey answers, projected onto everyone.

Latent class analysis is StepMix's (categorical measurement model, EM, several starts); the
number of classes is the one with the lowest BIC.  Only some customers answer a survey, so
a scikit-learn classifier (``HistGradientBoostingClassifier``) learns each respondent's
class from internal data (traits and attributes) and assigns the others; its accuracy is
measured on respondents held out of its fit.  Respondents keep their own class and
posterior probability; everyone else gets the classifier's class and probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from segmint._threads import one_thread
from segmint.discovery._features import categories, informative, model_frame
from segmint.discovery._labels import stable_labels
from segmint.exceptions import ConfigError
from segmint.models._card import _Card, _now, _version

if TYPE_CHECKING:
    from segmint.discovery._config import MacroSettings

CARD_MODEL = "macro segments"
#: survey columns that are not needs items
NOT_ITEMS = {"customer_id", "response_id", "survey_id", "response_date", "nps"}
MIN_RESPONDENTS = 50
#: an answer column with more distinct values than this is not a rating item
MAX_LEVELS = 11


@dataclass
class MacroCard(_Card):
    """The latent class model, the BIC per class count, each class's answer profile, and
    how well internal data predicts the class (held-out respondents)."""

    items: list[str]
    k: int
    bic: list[dict[str, float]]
    respondents: int
    customers: int
    classes: list[dict[str, Any]]
    projection: dict[str, Any]
    seed: int
    model: str = CARD_MODEL
    fitted_at: str = field(default_factory=_now)
    segmint_version: str = field(default_factory=_version)


@dataclass
class MacroSegments:
    """Every customer's macro segment (stable label), its name and probability."""

    customer_id: np.ndarray
    label: np.ndarray
    probability: np.ndarray
    respondent: np.ndarray
    names: dict[int, str]
    card: MacroCard

    def table(self) -> pa.Table:
        """``customer_id``, ``macro_segment``, ``macro_name``, ``macro_probability``."""
        return pa.table(
            {
                "customer_id": pa.array(self.customer_id.astype(str), pa.string()),
                "macro_segment": pa.array(self.label, pa.int64()),
                "macro_name": pa.array([self.names[int(x)] for x in self.label], pa.string()),
                "macro_probability": pa.array(self.probability, pa.float64()),
            }
        )


def survey_items(answers: pd.DataFrame, items: Sequence[str] | None) -> list[str]:
    """The needs items: those given, or every integer answer column but NPS."""
    if items is not None:
        missing = [i for i in items if i not in answers.columns]
        if missing:
            raise ConfigError(f"discovery.macro.items: no survey answer {', '.join(missing)}")
        return list(items)
    return [
        c
        for c in answers.columns
        if c not in NOT_ITEMS
        and not c.startswith("_")
        and pd.api.types.is_numeric_dtype(answers[c])
        and answers[c].nunique() <= MAX_LEVELS
    ]


def _codes(answers: pd.DataFrame, items: Sequence[str]) -> tuple[np.ndarray, list[list[float]]]:
    """Answers as 0-based category codes per item (NaN when unanswered), and the levels."""
    cols, levels = [], []
    for item in items:
        v = pd.to_numeric(answers[item], errors="coerce")
        lv = sorted(v.dropna().unique().tolist())
        code = v.map({x: i for i, x in enumerate(lv)}).astype("float64")
        cols.append(code.to_numpy())
        levels.append([float(x) for x in lv])
    return np.column_stack(cols), levels


def fit_lca(
    codes: np.ndarray, *, k_min: int, k_max: int, k: int | None, seed: int
) -> tuple[Any, list[dict[str, float]]]:
    """StepMix latent class models for each class count; the lowest BIC wins."""
    from stepmix.stepmix import StepMix

    measurement = "categorical_nan" if np.isnan(codes).any() else "categorical"
    data = codes if measurement == "categorical_nan" else codes.astype(int)
    best, best_bic, bic = None, np.inf, []
    for n in [k] if k is not None else range(k_min, k_max + 1):
        m = StepMix(
            n_components=n, measurement=measurement, n_init=3, max_iter=1000, abs_tol=1e-6,
            random_state=seed, verbose=0, progress_bar=0,
        )  # fmt: skip
        m.fit(data)
        value = float(m.bic(data))
        bic.append({"k": n, "bic": value})
        if value < best_bic:
            best, best_bic = m, value
    return best, bic


def _profiles(codes: np.ndarray, levels: list[list[float]], post: np.ndarray) -> np.ndarray:
    """Posterior-weighted mean answer per class and item (classes x items)."""
    values = np.column_stack(
        [np.where(np.isnan(codes[:, j]), np.nan, np.take(levels[j], np.nan_to_num(
            codes[:, j]).astype(int))) for j in range(codes.shape[1])]
    )  # fmt: skip
    seen = ~np.isnan(values)
    num = post.T @ np.where(seen, values, 0.0)
    den = post.T @ seen.astype(float)
    return np.asarray(num / np.maximum(den, 1e-12))


def class_name(profile: np.ndarray, overall: np.ndarray, items: Sequence[str], n: int = 2) -> str:
    """ "Values online & price": the ``n`` items a class agrees with most above average,
    in alphabetical order (two items with nearly the same lead would otherwise swap places
    between runs on slightly different data and rename a class that did not change)."""
    gap = profile - overall
    top = [items[j] for j in np.argsort(-gap)[:n] if gap[j] >= 0.3]
    words = sorted(t.removeprefix("q_").replace("_", " ") for t in top)
    if not words:
        return "Average on every item"
    return "Values " + (", ".join(words[:-1]) + " & " + words[-1] if len(words) > 1 else words[0])


def class_names(
    profiles: np.ndarray, overall: np.ndarray, items: Sequence[str], labels: Sequence[int]
) -> dict[int, str]:
    """A name per class; classes that would share a name are told apart by more items."""
    names = {lab: class_name(profiles[i], overall, items) for i, lab in enumerate(labels)}
    for n in range(3, len(items) + 1):
        values = list(names.values())
        clash = [i for i, lab in enumerate(labels) if values.count(names[lab]) > 1]
        if not clash:
            break
        for i in clash:
            names[labels[i]] = class_name(profiles[i], overall, items, n)
    return _unique(names)


@one_thread
def fit_macro(
    answers: pd.DataFrame,
    internal: pd.DataFrame,
    settings: MacroSettings,
    *,
    previous: dict[str, Any] | None = None,
) -> MacroSegments:
    """Latent classes of ``answers``, projected onto every customer of ``internal``.

    Parameters
    ----------
    answers
        One row per respondent: ``customer_id`` and the answer columns.
    internal
        One row per customer: ``customer_id`` and the traits/attributes to project from.
    settings
        Items, class count (or range), features, hold-out share, seed, names.
    previous
        The previous run's macro card: matching classes keep their labels.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import accuracy_score, balanced_accuracy_score
    from sklearn.model_selection import train_test_split

    items = survey_items(answers, settings.items)
    answers = answers.drop_duplicates("customer_id", keep="last")
    answers = answers[answers["customer_id"].isin(internal["customer_id"])]
    if len(answers) < MIN_RESPONDENTS or not items:
        raise ConfigError(
            f"macro segments need at least {MIN_RESPONDENTS} survey respondents with needs "
            f"items; found {len(answers)} respondents, items: {', '.join(items) or 'none'}"
        )
    codes, levels = _codes(answers, items)
    lca, bic = fit_lca(
        codes, k_min=settings.k_min, k_max=settings.k_max, k=settings.k, seed=settings.seed
    )
    data = codes if np.isnan(codes).any() else codes.astype(int)
    post = np.asarray(lca.predict_proba(data))
    k = post.shape[1]
    profiles = _profiles(codes, levels, post)
    overall = np.nanmean(
        np.column_stack([np.take(levels[j], np.nan_to_num(codes[:, j]).astype(int))
                         for j in range(len(items))]), axis=0)  # fmt: skip
    sizes = post.sum(axis=0)
    old = {
        int(c["label"]): np.array([c["profile"].get(i, np.nan) for i in items])
        for c in (previous or {}).get("classes", [])
    }
    old = {lab: np.nan_to_num(v, nan=float(np.mean(overall))) for lab, v in old.items()}
    match = stable_labels(profiles, [round(float(s)) for s in sizes], old)
    label_of = np.array(match.labels, dtype=np.int64)
    names = class_names(profiles, overall, items, match.labels)
    names |= {lab: name for lab, name in settings.names.items() if lab in names}

    # projection: respondents' classes learned from internal data
    feats = informative(internal, settings.features)
    if not feats:
        raise ConfigError("discovery.macro.features: none of them is a trait of this project")
    x_all = model_frame(internal, feats, categories(internal, feats))
    row_of = pd.Series(np.arange(len(internal)), index=internal["customer_id"].to_numpy())
    resp_rows = row_of.loc[answers["customer_id"].to_numpy()].to_numpy()
    y = post.argmax(axis=1)
    clf_args: dict[str, Any] = {
        "categorical_features": "from_dtype", "random_state": settings.seed, "max_iter": 100,
        "learning_rate": 0.05, "max_leaf_nodes": 15, "l2_regularization": 1.0,
    }  # fmt: skip
    counts = np.bincount(y, minlength=k)
    strat = y if counts[counts > 0].min() >= 2 else None
    train, test = train_test_split(
        np.arange(len(y)), test_size=settings.holdout, random_state=settings.seed, stratify=strat
    )
    clf = HistGradientBoostingClassifier(**clf_args).fit(x_all.iloc[resp_rows[train]], y[train])
    pred = clf.predict(x_all.iloc[resp_rows[test]])
    majority = float(np.mean(y[test] == np.bincount(y[train], minlength=k).argmax()))
    projection = {
        "classifier": "HistGradientBoostingClassifier",
        "features": feats,
        "held_out": len(test),
        "accuracy": float(accuracy_score(y[test], pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y[test], pred)),
        "majority_baseline": majority,
        "target": "each respondent's most probable latent class",
    }
    full = HistGradientBoostingClassifier(**clf_args).fit(x_all.iloc[resp_rows], y)
    proba = np.zeros((len(internal), k))
    proba[:, full.classes_] = full.predict_proba(x_all)
    proba[resp_rows] = post
    fitted = proba.argmax(axis=1)
    respondent = np.zeros(len(internal), dtype=bool)
    respondent[resp_rows] = True
    classes = [
        {
            "label": match.labels[i],
            "name": names[match.labels[i]],
            "respondents": float(sizes[i]),
            "customers": int((fitted == i).sum()),
            "profile": {it: float(v) for it, v in zip(items, profiles[i], strict=True)},
        }
        for i in sorted(range(k), key=lambda i: match.labels[i])
    ]
    card = MacroCard(
        items=items,
        k=k,
        bic=bic,
        respondents=len(answers),
        customers=len(internal),
        classes=classes,
        projection=projection,
        seed=settings.seed,
    )
    return MacroSegments(
        internal["customer_id"].to_numpy(),
        label_of[fitted],
        proba.max(axis=1),
        respondent,
        names,
        card,
    )


def _unique(names: dict[int, str]) -> dict[int, str]:
    values = list(names.values())
    return {lab: (f"{n} ({lab})" if values.count(n) > 1 else n) for lab, n in names.items()}
