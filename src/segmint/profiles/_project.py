"""Profile use cases on a project: the card of one group, or two side by side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from segmint.profiles._base import profile_base
from segmint.profiles._card import SegmentCard, compare, profiles
from segmint.profiles._groups import parse_group
from segmint.project import Project


@dataclass
class Profile:
    """A segment card, and the comparison with another when one was asked for."""

    card: SegmentCard
    other: SegmentCard | None = None
    comparison: list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"card": self.card.to_dict()}
        if self.other is not None:
            d["other"] = self.other.to_dict()
            d["comparison"] = self.comparison
        return d


def profile(project: Project, group: str, *, versus: str | None = None) -> Profile:
    """The card of ``group`` (a segment or ``FIELD=VALUE``) at the last run.

    ``versus``: a second group; the result then holds its card and the two side by side.
    """
    with profile_base(project.engine) as pb:
        wanted = [parse_group(group, pb)]
        if versus is not None:
            wanted.append(parse_group(versus, pb))
        found = profiles(pb, wanted, project.config.profiles)
    card = found.cards[wanted[0].name]
    if versus is None:
        return Profile(card)
    other = found.cards[wanted[1].name]
    return Profile(card, other, compare(card, other))
