"""Typed project configuration: ``segmint.yaml`` <-> pydantic models, with a JSON Schema.

The file is meant to live in git.  It round-trips: ``load_config(save_config(c)) == c``, and
keys left at their defaults are not written, so the file stays short and reviewable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from segmint.actions._config import ActionsConfig
from segmint.activation._config import ConsentConfig, DestinationConfig
from segmint.discovery._config import DiscoveryConfig
from segmint.exceptions import ConfigError
from segmint.profiles._config import ProfilesConfig
from segmint.segments._families_config import FamiliesConfig
from segmint.segments._rules import Rule, SegmentDefinition
from segmint.serving import ServerSettings
from segmint.traits._config import TraitsConfig

CONFIG_FILE = "segmint.yaml"
SCHEMA_FILE = "segmint.schema.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EngineConfig(_Model):
    """Where the data lives and queries run."""

    url: str = Field(
        "duckdb:///store.duckdb",
        description=(
            "Engine URL. duckdb:///store.duckdb is a file relative to the project folder; "
            "duckdb:///:memory: keeps nothing."
        ),
    )


class ReadOptions(_Model):
    """How to read a source file. Anything left empty is detected from the file."""

    encoding: str | None = Field(None, description="utf-8, utf-8-sig, cp1252, latin-1")
    delimiter: str | None = Field(None, description="Field separator: ',', ';', tab or '|'")
    decimal: Literal[".", ","] | None = Field(None, description="Decimal mark of numbers")
    thousands: Literal[".", ",", " ", ""] | None = Field(
        None, description="Thousands separator ('' for none)"
    )
    date_format: str | None = Field(
        None, description="strftime format of dates, e.g. %d-%m-%Y; detected per column if empty"
    )
    sheet: str | None = Field(None, description="Excel sheet name (default: the first)")
    query_table: str | None = Field(None, description="Table to read from a database URL")
    default_country: str = Field(
        "DK", description="Country (ISO alpha-2) for phone numbers written without +prefix"
    )


class SourceConfig(_Model):
    """One loaded source: a file (or database table) mapped to a table of the data model."""

    name: str = Field(description="Source name, stored with each row (_source)")
    table: str = Field(description="Entity or external table the source loads into")
    path: str = Field(description="File path (relative to the project) or database URL")
    mapping: dict[str, str] = Field(
        default_factory=dict, description="Source column -> field, as used by the last load"
    )
    options: ReadOptions = Field(default_factory=ReadOptions)


class ExternalTableConfig(_Model):
    """A keyed third-party or market table (postal code, CVR, market sizes)."""

    key: list[str] = Field(min_length=1, description="Columns that identify a row")
    description: str = ""


IdentityKey = Literal["customer_id", "email", "phone", "org_number"]
_DEFAULT_IDENTITY_KEYS: tuple[IdentityKey, ...] = ("customer_id", "email", "phone", "org_number")


class IdentityConfig(_Model):
    """Which keys link records of one customer across sources, and how far."""

    keys: list[IdentityKey] = Field(
        default_factory=lambda: list(_DEFAULT_IDENTITY_KEYS),
        description="Keys whose equal (normalised) values link two records",
    )
    max_records_per_value: int = Field(
        10,
        ge=2,
        description=(
            "A key value shared by more distinct customer ids than this (info@..., a "
            "switchboard number) links nothing and is reported instead. Records with the same "
            "customer id always link, whatever the keys"
        ),
    )
    ignore_values: list[str] = Field(
        default_factory=list, description="Key values that never link (normalised form)"
    )

    @field_validator("keys")
    @classmethod
    def _unique_keys(cls, keys: list[str]) -> list[str]:
        if len(set(keys)) != len(keys):
            raise ValueError("identity keys must not repeat")
        return keys


class RunsConfig(_Model):
    """How runs keep their results."""

    keep_snapshots: int = Field(
        10,
        ge=1,
        description=(
            "Runs whose segment membership stays readable: between this many and twice as many "
            "(deltas and sizes are kept forever)"
        ),
    )
    as_of: str | None = Field(
        None,
        description=(
            "Default evaluation date of 'segmint run' (ISO date); empty: now. The demo sets "
            "its observation end"
        ),
    )
    incremental: bool = Field(
        True,
        description=(
            "Recompute the customer base only for persons with new rows, a row crossing a "
            "window boundary or a changed identity, from the base kept by the previous run "
            "(exactly what a full computation gives; it falls back to one, and says why, "
            "whenever that cannot be shown)"
        ),
    )


class ClvSettings(_Model):
    """Customer lifetime value scores, fitted on every run (docs/models.md)."""

    enabled: bool = Field(False, description="Fit CLV models on each run and add their scores")
    model: Literal["bgnbd", "paretonbd"] = Field("bgnbd", description="Purchase model")
    unit: Literal["day", "week"] = Field("week", description="Time unit of the fit")
    months: int = Field(12, ge=1, le=120, description="Horizon of expected_orders and clv")
    discount_rate: float = Field(
        0.01, ge=0, lt=1, description="Monthly discount rate of clv (0.01: about 12.7 % a year)"
    )


class IcpRule(_Model):
    """One rule of an ideal customer profile, with its weight."""

    rule: Rule = Field(description="A condition in the segment rule language")
    weight: float = Field(1.0, gt=0, description="Weight of the rule in the score")


class LeadScoreSettings(_Model):
    """B2B lead score, fitted on each run from won and lost deals (docs/models.md)."""

    enabled: bool = Field(False, description="Fit the lead score on each run (trait lead_score)")
    min_outcomes: int = Field(
        200, ge=2, description="Fewer closed deals than this: score by the ICP rules instead"
    )
    icp: list[IcpRule] = Field(
        default_factory=list, description="Ideal customer profile: the fallback score's rules"
    )


class WalletSettings(_Model):
    """Share of wallet: spend over the estimated category wallet (docs/models.md)."""

    enabled: bool = Field(False, description="Estimate the wallet on each run (traits wallet, ...)")
    table: str = Field("market_wallet", description="The market table with wallets per cell")
    value: str = Field("wallet", description="Its column with the yearly wallet per household")
    keys: dict[str, str] = Field(
        default_factory=lambda: {"region": "region", "age_band": "age"},
        description="Market table column -> customer trait (ranges such as 18-29 match "
        "numeric traits by range)",
    )
    survey_column: str | None = Field(
        None, description="Survey answer with the stated yearly spend on the categories"
    )
    window_days: int = Field(365, ge=1, description="Spend window before as_of, in days")
    min_respondents: int = Field(
        30, ge=1, description="Answers needed to calibrate the market table to the survey"
    )


class ClassifierSettings(_Model):
    """A model fitted on each run from the past: trained at as_of - 2 x horizon, backtested
    at as_of - horizon (its window ends at as_of), then scoring every customer at as_of."""

    enabled: bool = Field(False, description="Fit on each run and add the scores as traits")
    horizon_days: int = Field(90, ge=7, le=730, description="The window a prediction is about")
    active_within_days: int | None = Field(
        365, ge=1, description="Scored: customers who ordered this recently (null: ever)"
    )
    max_samples: int | None = Field(
        200_000, ge=1000, description="Fit on a random sample of at most this many customers"
    )
    refit_days: int = Field(
        0,
        ge=0,
        description="Re-use the latest fit made at most this many days before as_of with the "
        "same settings (0: fit on every run)",
    )


class ChurnSettings(ClassifierSettings):
    """Churn probability and reasons (docs/models.md)."""

    kind: Literal["purchase", "subscription"] = Field(
        "purchase", description="purchase: no order in the horizon; subscription: one ends"
    )
    reasons: int = Field(3, ge=0, le=8, description="Plain-word reasons per customer")


class ModelsConfig(_Model):
    """Predictive models fitted on each run; their scores become traits."""

    clv: ClvSettings = Field(default_factory=ClvSettings)
    lead_score: LeadScoreSettings = Field(default_factory=LeadScoreSettings)
    churn: ChurnSettings = Field(default_factory=ChurnSettings)
    propensity: ClassifierSettings = Field(
        default_factory=ClassifierSettings,
        description="Category propensities and the next best category (docs/models.md)",
    )
    wallet: WalletSettings = Field(default_factory=WalletSettings)


class ProjectConfig(_Model):
    """The whole of ``segmint.yaml``."""

    name: str = Field("segmint project", description="Project name, shown in reports")
    engine: EngineConfig = Field(default_factory=EngineConfig)
    currency: str = Field("DKK", description="Currency of amounts (ISO 4217)")
    sources: list[SourceConfig] = Field(default_factory=list)
    external: dict[str, ExternalTableConfig] = Field(default_factory=dict)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    traits: TraitsConfig = Field(
        default_factory=TraitsConfig, description="Declared traits and built-in trait windows"
    )
    segments: list[SegmentDefinition] = Field(
        default_factory=list, description="Rule segments, evaluated on every run"
    )
    families: FamiliesConfig = Field(
        default_factory=FamiliesConfig,
        description="Built-in segment families: RFM, lifecycle stages, value tiers",
    )
    models: ModelsConfig = Field(
        default_factory=ModelsConfig, description="Predictive models whose scores are traits"
    )
    runs: RunsConfig = Field(default_factory=lambda: RunsConfig())
    discovery: DiscoveryConfig = Field(
        default_factory=DiscoveryConfig, description="Clusters and macro segments (traits)"
    )
    profiles: ProfilesConfig = Field(default_factory=ProfilesConfig, description="docs/profiles.md")
    destinations: list[DestinationConfig] = Field(
        default_factory=list, description="Where segments go (docs/activation.md)"
    )
    consent: ConsentConfig = Field(default_factory=ConsentConfig, description="Who may be exported")
    actions: ActionsConfig = Field(default_factory=ActionsConfig, description="docs/actions.md")
    server: ServerSettings = Field(default_factory=ServerSettings, description="docs/api.md")

    @field_validator("segments")
    @classmethod
    def _unique_segments(cls, segments: list[SegmentDefinition]) -> list[SegmentDefinition]:
        names = [s.name for s in segments]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"segment names must be unique: {', '.join(dup)} repeat")
        return segments

    def segment(self, name: str) -> SegmentDefinition | None:
        return next((s for s in self.segments if s.name == name), None)

    def source(self, name: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.name == name), None)

    def upsert_source(self, source: SourceConfig) -> None:
        """Record ``source``, replacing an earlier one of the same name."""
        self.sources = [s for s in self.sources if s.name != source.name] + [source]


def load_config(path: Path) -> ProjectConfig:
    """Read and validate ``segmint.yaml``; errors name the key that is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as e:
        from segmint.segments._parse import format_errors

        raise ConfigError(f"{path}: {format_errors(e, ProjectConfig, prefix='')}") from None


def config_to_yaml(config: ProjectConfig) -> str:
    data: dict[str, Any] = config.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def save_config(config: ProjectConfig, path: Path) -> None:
    """Write ``segmint.yaml`` atomically (a crash never leaves half a file)."""
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(
        f"# yaml-language-server: $schema={SCHEMA_FILE}\n" + config_to_yaml(config),
        encoding="utf-8",
    )
    tmp.replace(path)


def json_schema() -> dict[str, Any]:
    """JSON Schema of ``segmint.yaml``, for editors and validation in CI."""
    schema = ProjectConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "segmint project (segmint.yaml)"
    return schema


def write_json_schema(path: Path) -> None:
    path.write_text(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n", "utf-8")
