"""The cluster matrix: numbers imputed, logged when skewed and standardised; text traits as
indicators scaled to unit variance on average; checked against a computation by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmint.discovery._features import FeatureTransform
from segmint.exceptions import ConfigError


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    n = 400
    return pd.DataFrame(
        {
            "spend": np.r_[rng.lognormal(5, 1.5, n - 1), np.nan],  # skewed, one missing
            "age": rng.normal(45, 12, n),  # not skewed
            "channel": rng.choice(["web", "store", "app"], n, p=[0.6, 0.3, 0.1]),
        }
    )


def test_numbers_and_text_equal_a_computation_by_hand() -> None:
    f = _frame()
    t = FeatureTransform(features=["spend", "age", "channel"]).fit(f)
    got = t.transform(f)

    spend = f["spend"].fillna(f["spend"].median())
    want_spend = np.log1p(spend)
    want_spend = (want_spend - want_spend.mean()) / want_spend.std(ddof=0)
    want_age = (f["age"] - f["age"].mean()) / f["age"].std(ddof=0)
    np.testing.assert_allclose(got[:, 0], want_spend, rtol=1e-10)
    np.testing.assert_allclose(got[:, 1], want_age, rtol=1e-10)

    levels = f["channel"].value_counts()  # most frequent first: web, store, app
    share = levels.to_numpy() / len(f)
    scale = 1 / np.sqrt((share * (1 - share)).mean())
    for j, level in enumerate(levels.index):
        np.testing.assert_allclose(got[:, 2 + j], (f["channel"] == level) * scale)
    assert t.names_ == ["log1p(spend)", "age", "channel=web", "channel=store", "channel=app"]


def test_only_text_traits() -> None:
    f = pd.DataFrame({"channel": ["web", "store", "web", None], "size": ["s", "s", "m", "m"]})
    t = FeatureTransform(features=["channel", "size"]).fit(f)
    got = t.transform(f)
    # channel: web 1/2, store 1/4, (none) 1/4 -> mean p(1-p) = (1/4 + 3/16 + 3/16) / 3
    c = 1 / np.sqrt((1 / 4 + 3 / 16 + 3 / 16) / 3)
    want = np.array(
        [[c, 0, 0, 2, 0], [0, c, 0, 2, 0], [c, 0, 0, 0, 2], [0, 0, c, 0, 2]], dtype=float
    )
    np.testing.assert_allclose(got, want)
    assert t.describe()["numeric"] == []


def test_missing_traits_are_named() -> None:
    with pytest.raises(ConfigError, match="nope"):
        FeatureTransform(features=["spend", "nope"]).fit(_frame())
