"""Profiles: segment cards (size, value, growth, FACTS / SALES / VALUE canvas, index vs
the base), comparisons, sizing against a market table, and transitions between runs.

See docs/profiles.md.  Any group of customers can be profiled: a segment, a family cell,
or the customers whose trait has a value (``cluster=3``).
"""

from typing import Any

from segmint.profiles._base import ProfileBase, profile_base
from segmint.profiles._card import Profiles, SegmentCard, canvas_section, compare, profiles
from segmint.profiles._config import MarketConfig, ProfilesConfig, demo_market
from segmint.profiles._groups import BASE, Group, membership, parse_group, trait_values
from segmint.profiles._index import GroupStats, distinguishing, group_stats, index
from segmint.profiles._sizing import Sizing, parse_bands, sizing
from segmint.profiles._transitions import Transitions, family_segments, transitions

__all__ = [
    "BASE",
    "Group",
    "GroupStats",
    "MarketConfig",
    "Profile",
    "ProfileBase",
    "Profiles",
    "ProfilesConfig",
    "SegmentCard",
    "Sizing",
    "Transitions",
    "canvas_section",
    "compare",
    "demo_market",
    "distinguishing",
    "family_segments",
    "group_stats",
    "index",
    "membership",
    "parse_bands",
    "parse_group",
    "profile",
    "profile_base",
    "profiles",
    "sizing",
    "trait_values",
    "transitions",
]


def __getattr__(name: str) -> Any:
    """``profile`` and ``Profile`` load the project layer on first use: ``segmint.config``
    imports this package for its settings, and the project layer imports the config."""
    if name in ("profile", "Profile"):
        from segmint.profiles import _project

        return getattr(_project, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
