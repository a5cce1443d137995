"""Settings of owner assignment and next best actions: ``actions:`` in ``segmint.yaml``.

Kept out of :mod:`segmint.config` (which refers to :class:`ActionsConfig` with one field)
so that the activation settings live beside the code that reads them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from segmint.segments._rules import Rule

#: EU size bands by employees, the same bands the lead score uses
SIZE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-9", 0, 9),
    ("10-49", 10, 49),
    ("50-249", 50, 249),
    ("250+", 250, None),
)
ActionKind = Literal["discount", "referral", "invitation", "win-back", "cross-sell", "other"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Salesperson(_Model):
    """One salesperson who can own accounts."""

    name: str = Field(min_length=1, description="Name as it goes to the CRM")
    capacity: int | None = Field(
        None, ge=0, description="At most this many accounts in all (null: no limit)"
    )
    active: bool = Field(True, description="false: gone; their accounts are reassigned")


class Territory(_Model):
    """A rule that sends matching accounts to some salespeople; empty lists match anything."""

    name: str = Field(min_length=1)
    owners: list[str] = Field(min_length=1, description="Salespeople of the territory")
    countries: list[str] = Field(default_factory=list, description="ISO alpha-2 codes")
    regions: list[str] = Field(default_factory=list, description="Region names as stored")
    nace: list[str] = Field(
        default_factory=list, description="NACE code prefixes: '62' matches 62.01 and 62.02"
    )
    size_bands: list[Literal["0-9", "10-49", "50-249", "250+"]] = Field(
        default_factory=list, description="Size bands by employees"
    )


class OwnersSettings(_Model):
    """Owner assignment of B2B accounts (docs/actions.md)."""

    enabled: bool = Field(False, description="Assign owners after every run")
    accounts: str | None = Field(
        None, description="Segment whose members are the accounts (null: every company)"
    )
    order_by: str | None = Field(
        "lead_score",
        description="Trait that decides who is assigned first when capacity is short "
        "(highest first; ties and a missing trait: by customer id)",
    )
    sticky: bool = Field(
        True, description="An account keeps its owner unless the owner is gone or over capacity"
    )
    crm_owner: bool = Field(
        False, description="Start from the customers' own 'owner' field when it names a salesperson"
    )
    overflow: Literal["round_robin", "none"] = Field(
        "round_robin",
        description="Accounts no territory takes (no match, or its owners full): round robin "
        "over every salesperson with room, or leave them unassigned",
    )
    salespeople: list[Salesperson] = Field(default_factory=list)
    territories: list[Territory] = Field(
        default_factory=list, description="Checked in order; the first match decides"
    )

    @model_validator(mode="after")
    def _known_owners(self) -> OwnersSettings:
        names = [s.name for s in self.salespeople]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"salespeople must be unique: {', '.join(dup)} repeat")
        for t in self.territories:
            unknown = [o for o in t.owners if o not in names]
            if unknown:
                raise ValueError(
                    f"territory {t.name!r}: {', '.join(unknown)} not among the salespeople"
                )
        return self


class FrequencyCap(_Model):
    """At most ``max_contacts`` contacts per customer in ``days`` days (on one channel)."""

    max_contacts: int = Field(ge=0)
    days: int = Field(ge=1)
    channel: str | None = Field(None, description="Only contacts on this channel (null: all)")


class ActionRule(_Model):
    """One action: who is eligible, through which channel, how urgent, how much held out."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="Action id")
    kind: ActionKind = Field(description="discount, referral, invitation, win-back, cross-sell")
    channel: str = Field(description="email, sms, phone, post, ads, ...")
    priority: int = Field(100, description="Lower first: a customer gets the most urgent action")
    when: Rule = Field(description="Eligibility, in the segment rule language")
    offer: str | None = Field(
        None, description="Offer text; cross-sell offers each customer's next best category"
    )
    control_share: float = Field(
        0.1, ge=0, lt=1, description="Share of the eligible held out as a control group"
    )


class NextBestActionSettings(_Model):
    """Next best actions and their campaign plan (docs/actions.md)."""

    actions: list[ActionRule] = Field(default_factory=list)
    max_actions_per_customer: int = Field(1, ge=1, description="Actions per customer per plan")
    frequency_caps: list[FrequencyCap] = Field(
        default_factory=list, description="Counted over campaign_contacts and the plan itself"
    )
    require_consent: bool = Field(
        True, description="Plan a channel only for customers whose consent_<channel> is true"
    )
    salt: str = Field(
        "segmint",
        description="Mixed into the control-group hash: change it to draw new control groups",
    )
    out_dir: str = Field("plans", description="Folder of the plan files, relative to the project")

    @model_validator(mode="after")
    def _unique(self) -> NextBestActionSettings:
        names = [a.name for a in self.actions]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"action names must be unique: {', '.join(dup)} repeat")
        return self


class ActionsConfig(_Model):
    """Activation settings: owners for B2B accounts, next best actions."""

    owners: OwnersSettings = Field(default_factory=OwnersSettings)
    next_best_action: NextBestActionSettings = Field(default_factory=NextBestActionSettings)
