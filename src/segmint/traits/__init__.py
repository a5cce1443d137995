"""Traits: per-customer values computed in the engine, point-in-time correct.

``customer_base(engine, config, as_of)`` gives one row per person with the customer
attributes (merged across the person's records) and every built-in and declared trait,
computed only from data before ``as_of``.
"""

from __future__ import annotations

from segmint.traits._activity import activity, person_map
from segmint.traits._base import customer_base
from segmint.traits._builtin import category_spend, survey_answers
from segmint.traits._catalogue import (
    BUILTIN_TRAITS,
    BuiltinTrait,
    TraitInfo,
    builtin_trait_names,
    trait_catalog,
)
from segmint.traits._config import TraitDef, TraitFilter, TraitsConfig, Window, parse_traits_config

__all__ = [
    "BUILTIN_TRAITS",
    "BuiltinTrait",
    "TraitDef",
    "TraitFilter",
    "TraitInfo",
    "TraitsConfig",
    "Window",
    "activity",
    "builtin_trait_names",
    "category_spend",
    "customer_base",
    "parse_traits_config",
    "person_map",
    "survey_answers",
    "trait_catalog",
]
