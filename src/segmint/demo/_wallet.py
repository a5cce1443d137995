"""The planted category wallet of every B2C customer, the market table and survey answers.

A household's *wallet* is what it spends in a year on the retailer's categories, here or
elsewhere.  The demo plants it per customer as what the customer spent with the retailer
in the last year plus what they spent elsewhere: ``elsewhere = cell × LogNormal`` where
the cell's mean household wallet depends on region and age band.  So the planted share of
wallet is ``spend / (spend + elsewhere)``, never above 1.

Two sources estimate it, as the seeds describe:

* ``market_wallet`` (region, age_band, category, wallet): what a statistics office would
  publish, the mean yearly spend per household of the cell on each category, rounded to
  10 (the mean of ``elsewhere`` plus the customers' own spend spread over the cell's
  households);
* the survey: respondents state their household's yearly spend on these categories
  (``annual_category_spend``), the planted wallet with a reporting error of about 15 %
  (lognormal, sigma 0.15), rounded to 500.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

#: mean yearly spend per household on the retailer's categories, in the scenario's currency
BASE_WALLET = 14_000.0
#: by age band of the household's head: 18-29, 30-44, 45-59, 60-74, 75+
BAND_FACTOR = (0.8, 1.2, 1.15, 0.9, 0.6)
#: by country (price and income levels)
COUNTRY_FACTOR = {"DK": 1.0, "SE": 0.85, "NO": 1.25, "FI": 0.9}
SIGMA_ELSEWHERE = 0.5  # spread of households' spend elsewhere within a cell
SIGMA_STATED = 0.15  # reporting error of the survey answer
STATED_ROUNDING = 500.0
SURVEY_COLUMN = "annual_category_spend"


@dataclass
class Wallets:
    """Per customer: spend in the year, the planted wallet; the market table; the answers."""

    spend: np.ndarray  # spend with the retailer in the last 365 days of the window
    wallet: np.ndarray  # planted: spend + elsewhere
    cell_mean: np.ndarray  # the published mean wallet of the customer's cell (all categories)
    market: pa.Table  # market_wallet
    stated: np.ndarray  # survey answer of every customer (nan: did not respond)

    @property
    def share(self) -> np.ndarray:
        return self.spend / self.wallet


def last_year_spend(
    customer: np.ndarray, day: np.ndarray, amount: np.ndarray, t_end: float, n: int
) -> np.ndarray:
    """Each customer's spend on orders in ``[t_end - 365, t_end)`` (days since the start)."""
    recent = (day >= t_end - 365.0) & (day < t_end)
    return np.bincount(customer[recent], weights=amount[recent], minlength=n)


def draw(
    rng: np.random.Generator,
    spend: np.ndarray,
    region: list[str],
    region_country: list[str],
    place_region: np.ndarray,
    band: np.ndarray,
    households: pa.Table,
    categories: tuple[str, ...],
    category_share: np.ndarray,
    responded: np.ndarray,
) -> Wallets:
    """Plant every customer's wallet and derive the market table and the survey answers.

    ``region``/``region_country``: the market's regions and their countries;
    ``place_region``: each customer's region as an index into ``region``; ``households``:
    the market_households table (region, age_band, households); ``category_share``: the
    market's split of the wallet over ``categories`` (sums to 1).
    """
    n_bands = len(BAND_FACTOR)
    region_factor = rng.uniform(0.9, 1.1, len(region))
    cell_mean = np.array(
        [
            BASE_WALLET * COUNTRY_FACTOR[c] * region_factor[r] * BAND_FACTOR[b]
            for r, c in enumerate(region_country)
            for b in range(n_bands)
        ]
    )
    cell = place_region * n_bands + band
    noise = np.exp(rng.normal(-(SIGMA_ELSEWHERE**2) / 2, SIGMA_ELSEWHERE, len(spend)))
    wallet = spend + cell_mean[cell] * noise
    # the published mean: elsewhere averages cell_mean over all households of the cell;
    # the customers' own spend adds their total spread over the cell's households
    size = {
        (r, b): h
        for r, b, h in zip(
            households["region"].to_pylist(),
            households["age_band"].to_pylist(),
            households["households"].to_pylist(),
            strict=True,
        )
    }
    bands = ("18-29", "30-44", "45-59", "60-74", "75+")
    own = np.bincount(cell, weights=spend, minlength=len(cell_mean))
    published = np.array(
        [
            cell_mean[i] + own[i] / size[(region[i // n_bands], bands[i % n_bands])]
            for i in range(len(cell_mean))
        ]
    )
    rows_region, rows_band, rows_category, rows_wallet = [], [], [], []
    for i, total in enumerate(published):
        for category, share in zip(categories, category_share, strict=True):
            rows_region.append(region[i // n_bands])
            rows_band.append(bands[i % n_bands])
            rows_category.append(category)
            rows_wallet.append(round(float(total * share), -1))
    market = pa.table(
        {
            "region": pa.array(rows_region, pa.string()),
            "age_band": pa.array(rows_band, pa.string()),
            "category": pa.array(rows_category, pa.string()),
            "wallet": pa.array(rows_wallet, pa.float64()),
        }
    )
    reported = wallet * np.exp(rng.normal(0.0, SIGMA_STATED, len(spend)))
    stated = np.where(
        responded, np.maximum(np.round(reported / STATED_ROUNDING), 1) * STATED_ROUNDING, np.nan
    )
    published_total = np.array(
        [sum(round(float(t * s), -1) for s in category_share) for t in published]
    )
    return Wallets(spend, wallet, published_total[cell], market, stated)
