"""Profile and report settings in ``segmint.yaml`` (``profiles:``).

::

    profiles:
      market:                      # sizing: how many households or companies like these exist
        table: market_households   # an external table (segmint load ... --key ...)
        size: households           # its column holding the count
        keys: {region: region, age_band: age}   # market column -> customer field
      min_market_share: 0.01       # a segment whose market is smaller is flagged "too narrow"
      card_traits: [cluster, macro_segment]     # the report's cards for each of their values

A key whose customer field is a number and whose market values are bands (``18-29``,
``75+``, ``0-9``) is matched by band: the bands are read from the market table itself.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class MarketConfig(_Model):
    """A market table: how many households or companies exist per cell."""

    table: str = Field(description="External table with the market sizes")
    size: str = Field(description="Its column with the number of households or companies")
    keys: dict[str, str] = Field(
        min_length=1,
        description="Market column -> customer attribute or trait (numbers match bands)",
    )


class ProfilesConfig(_Model):
    """Segment cards, sizing and the report."""

    market: MarketConfig | None = Field(None, description="Market table for sizing segments")
    min_market_share: float = Field(
        0.01, ge=0, le=1, description="Flag a segment as too narrow below this share of the market"
    )
    min_customers: int = Field(
        100, ge=0, description="Flag a segment as too narrow below this many customers"
    )
    card_traits: list[str] = Field(
        default_factory=lambda: ["cluster", "macro_segment"],
        description="Categorical traits whose values each get a card in the report",
    )
    top_traits: int = Field(10, ge=1, le=50, description="Distinguishing traits per card")


def demo_market(b2b: bool) -> MarketConfig:
    """The market table the demo loads: households by region and age, companies by size."""
    if b2b:
        return MarketConfig(
            table="market_companies",
            size="companies",
            keys={"nace_code": "nace_code", "size_band": "employees"},
        )
    return MarketConfig(
        table="market_households", size="households", keys={"region": "region", "age_band": "age"}
    )
