"""Discovery in a run: clusters and macro segments as traits, their cards stored with it.

The run's customer base (attributes and traits) is read once into memory for the columns
the fits need; the previous successful run's cards give the centres and answer profiles
that keep labels stable.  The traits (``cluster``, ``cluster_name``, ``macro_segment``,
``macro_name``, ``macro_probability``) are joined onto the base like model scores, so rules,
profiles and exports use them as any other trait.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from segmint.discovery._clusters import CARD_MODEL as CLUSTERS
from segmint.discovery._clusters import fit_clusters
from segmint.discovery._features import present
from segmint.discovery._macro import CARD_MODEL as MACRO
from segmint.discovery._macro import fit_macro

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from segmint.discovery._config import DiscoveryConfig
    from segmint.engine import Engine

CLUSTER_TRAITS = ("cluster", "cluster_name")
MACRO_TRAITS = ("macro_segment", "macro_name", "macro_probability")


def previous_card(engine: Engine, model: str) -> dict[str, Any] | None:
    """The card of ``model`` stored with the last successful run (None before one)."""
    from segmint.runs import model_cards

    return next((c for c in model_cards(engine) if c.get("model") == model), None)


def pull(base: ir.Table, columns: Sequence[str]) -> pd.DataFrame:
    """``customer_id`` and those of ``columns`` the base has, as a pandas frame."""
    cols = ["customer_id", *present(base.columns, [c for c in columns if c != "customer_id"])]
    return base.select(*dict.fromkeys(cols)).to_pyarrow().to_pandas()


def discovery_traits(
    engine: Engine,
    base: ir.Table,
    settings: DiscoveryConfig,
    as_of: datetime,
    fields: frozenset[str] | None,
) -> tuple[list[pa.Table], list[dict[str, Any]]]:
    """Per-customer discovery traits and the cards of their fits, for a run as of ``as_of``.

    ``fields``: the traits a preview needs (None: all); discovery is skipped when none of
    its traits is among them.
    """
    tables: list[pa.Table] = []
    cards: list[dict[str, Any]] = []
    cl = settings.clusters
    if cl.enabled and (fields is None or fields & set(CLUSTER_TRAITS)):
        frame = pull(base, [*cl.features, *cl.describe_by])
        found = fit_clusters(frame, cl, previous=previous_card(engine, CLUSTERS))
        tables.append(found.table())
        cards.append(found.card.to_dict())
    mac = settings.macro
    if mac.enabled and (fields is None or fields & set(MACRO_TRAITS)):
        from segmint.traits import survey_answers

        answers = survey_answers(engine, as_of)
        if answers is None:
            from segmint.exceptions import ConfigError

            raise ConfigError("discovery.macro is enabled but the store has no survey_responses")
        segs = fit_macro(
            answers.to_pyarrow().to_pandas(),
            pull(base, mac.features),
            mac,
            previous=previous_card(engine, MACRO),
        )
        tables.append(segs.table())
        cards.append(segs.card.to_dict())
    return tables, cards
