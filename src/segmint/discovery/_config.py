"""Settings of segment discovery (``discovery:`` in ``segmint.yaml``), see docs/discovery.md."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: behavioural traits clustered by default (those a project lacks are skipped): how often,
#: how much and how recently they buy, and also what, where and how they shop and engage
#: (category, channel, device, web visits, email opens, membership)
DEFAULT_CLUSTER_FEATURES: tuple[str, ...] = (
    "frequency",
    "monetary",
    "avg_order_value",
    "recency_days",
    "tenure_days",
    "orders_365d",
    "spend_365d",
    "distinct_categories",
    "web_visits_365d",
    "email_opens_365d",
    "subscription_active",
    "top_channel",
    "top_category",
    "top_device",
)
#: attributes that describe a cluster in its name without shaping it
DEFAULT_DESCRIBE_BY: tuple[str, ...] = ("age", "region")
#: internal data the survey classes are projected from (those a project lacks are skipped)
DEFAULT_PROJECTION_FEATURES: tuple[str, ...] = (
    *DEFAULT_CLUSTER_FEATURES,
    "service_tickets_365d",
    "nps_last",
    "consent_email",
    "age",
    "gender",
    "country",
    "region",
    "employees",
    "nace_code",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class _KRange(_Model):
    k: int | None = Field(None, ge=2, le=30, description="Fixed number of groups (null: choose)")
    k_min: int = Field(2, ge=2, le=30, description="Smallest number of groups tried")
    k_max: int = Field(8, ge=2, le=30, description="Largest number of groups tried")
    seed: int = Field(0, description="Random seed: the same seed and data give the same fit")
    names: dict[int, str] = Field(
        default_factory=dict, description="Your names, by stable label (they replace ours)"
    )

    @model_validator(mode="after")
    def _range(self) -> _KRange:
        if self.k_min > self.k_max:
            raise ValueError(f"k_min ({self.k_min}) must not exceed k_max ({self.k_max})")
        return self


class ClusterSettings(_KRange):
    """Behavioural clusters on a run's traits (traits ``cluster`` and ``cluster_name``)."""

    enabled: bool = Field(False, description="Cluster the customers on every run")
    method: Literal["kmeans", "gmm"] = Field(
        "kmeans", description="kmeans or gmm (Gaussian mixture, full covariances)"
    )
    criterion: Literal["silhouette", "bic", "stability"] | None = Field(
        None,
        description=(
            "How k is chosen: silhouette on a sample, BIC (gmm only) or agreement across "
            "resamples; null: silhouette for kmeans, bic for gmm"
        ),
    )
    features: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CLUSTER_FEATURES),
        description="Traits clustered on (missing ones are skipped; text traits one-hot)",
    )
    describe_by: list[str] = Field(
        default_factory=lambda: list(DEFAULT_DESCRIBE_BY),
        description="Attributes named when a cluster leans to one value (age band, region)",
    )
    sample: int = Field(
        20_000, ge=500, description="Customers sampled for choosing k and naming the clusters"
    )
    resamples: int = Field(3, ge=2, le=20, description="Resamples of the stability criterion")

    @model_validator(mode="after")
    def _bic_needs_gmm(self) -> ClusterSettings:
        if self.criterion == "bic" and self.method != "gmm":
            raise ValueError("criterion bic needs method gmm (k-means has no likelihood)")
        return self

    def chosen_criterion(self) -> str:
        return self.criterion or ("bic" if self.method == "gmm" else "silhouette")


class MacroSettings(_KRange):
    """Needs-based macro segments from survey answers (``macro_segment``, ``macro_name``,
    ``macro_probability``)."""

    enabled: bool = Field(False, description="Fit the survey classes and project them each run")
    k_max: int = Field(7, ge=2, le=30, description="Largest number of classes tried")
    items: list[str] | None = Field(
        None, description="Survey answer columns (null: every answer column except nps)"
    )
    features: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PROJECTION_FEATURES),
        description="Internal traits and attributes the classes are projected from",
    )
    holdout: float = Field(
        0.25, gt=0, lt=0.9, description="Share of respondents held out to measure the projection"
    )


class DiscoveryConfig(_Model):
    """Segments the data finds: behavioural clusters and needs-based macro segments."""

    clusters: ClusterSettings = Field(default_factory=ClusterSettings)
    macro: MacroSettings = Field(default_factory=MacroSettings)
