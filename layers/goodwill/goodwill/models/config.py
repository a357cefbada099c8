"""An org's goodwill configuration, with the contract's defaults."""

from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from goodwill.models.common import Channel, ReasonCode, StrictModel, View, listed_once

DEFAULT_REASONS = [
    ("SERVICE_RECOVERY", "Service recovery"),
    ("LATE_DELIVERY", "Late delivery"),
    ("DAMAGED_ITEM", "Damaged item"),
    ("PRICE_ADJUSTMENT", "Price adjustment"),
    ("CORRECTION", "Correction"),
    ("REWARD", "Reward"),
    ("MIGRATION", "Migration"),
    ("BULK_ADJUSTMENT", "Bulk adjustment"),
]

# Placeholders a template may use; anything else is rejected when the config is saved.
PLACEHOLDERS = frozenset(
    {
        "customer_name",
        "points",
        "abs_points",
        "balance",
        "lifetime",
        "program_id",
        "reason",
        "customer_message",
        "coupon_code",
        "coupon_expires_at",
        "coupon_discount",
        "series_name",
        "expires_at",
        "expiring_points",
    }
)

DEFAULT_TEMPLATES = {
    "POINTS_CREDITED": "Hi {customer_name}, we added {abs_points} points to your account. "
    "Your balance is now {balance} points. {customer_message}",
    "POINTS_DEBITED": "Hi {customer_name}, we removed {abs_points} points from your account. "
    "Your balance is now {balance} points. {customer_message}",
    "COUPON_ISSUED": "Hi {customer_name}, here is your coupon {coupon_code} ({coupon_discount}), "
    "valid until {coupon_expires_at}. {customer_message}",
    "POINTS_EXPIRING": "Hi {customer_name}, {expiring_points} of your points expire on {expires_at}. "
    "Your balance is {balance} points.",
    "POINTS_EXPIRED": "Hi {customer_name}, {expiring_points} of your points expired on {expires_at}. "
    "Your balance is now {balance} points.",
    # A reversal corrects a mistake: say so plainly, without the agent's comment or reason code.
    "POINTS_REVERSED": "Hi {customer_name}, we have corrected an earlier change to your points. "
    "Your balance is now {balance} points.",
}

ProgramId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]


class Reason(StrictModel):
    code: ReasonCode
    label: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ReasonPage(View):
    """The org's reason codes, for everyone who gives goodwill (GET /config is for admins)."""

    items: list[Reason] = Field(description="In the org's order; the defaults when it set none")
    next_token: None = Field(description="Always null: every reason is on this one page")


# Upper bounds of the points rules (10^40 was a 500 before they existed, 2026-12-06): a config
# stored before then with a larger number is read as the bound (services.config), which means the
# same in practice ("no approvals below a billion points").
UPPER_BOUNDS = {"approval_threshold": 1_000_000_000, "max_per_request": 1_000_000_000, "agent_daily_limit": 10**12}


class PointsConfig(StrictModel):
    auto_approve: bool = True
    approval_threshold: Annotated[int, Field(strict=True, ge=1, le=UPPER_BOUNDS["approval_threshold"])] | None = None
    max_per_request: Annotated[int, Field(strict=True, ge=1, le=UPPER_BOUNDS["max_per_request"])] = 100_000
    allow_negative_balance: bool = False
    # The points an agent may credit per UTC day without an approver (points/limits.py).
    agent_daily_limit: Annotated[int, Field(strict=True, ge=1, le=UPPER_BOUNDS["agent_daily_limit"])] | None = None
    # Expiring points (lots): credits without expires_at expire this many days later (None: never).
    default_expiry_days: Annotated[int, Field(strict=True, ge=1, le=36_500)] | None = None
    expiry_reminder_days: Annotated[int, Field(strict=True, ge=1, le=3_650)] | None = 7
    notify_on_expiry: bool = True


class CouponsConfig(StrictModel):
    auto_approve: bool = False


class ChannelsConfig(StrictModel):
    mandatory: list[Channel] = Field(default_factory=list, max_length=3)
    priority: list[Channel] = Field(default_factory=lambda: [Channel.SMS, Channel.EMAIL, Channel.PUSH], max_length=3)

    _unique = listed_once("mandatory", "priority", message="a channel may be listed once")


Template = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class Templates(StrictModel):
    POINTS_CREDITED: Template = DEFAULT_TEMPLATES["POINTS_CREDITED"]
    POINTS_DEBITED: Template = DEFAULT_TEMPLATES["POINTS_DEBITED"]
    COUPON_ISSUED: Template = DEFAULT_TEMPLATES["COUPON_ISSUED"]
    POINTS_EXPIRING: Template = DEFAULT_TEMPLATES["POINTS_EXPIRING"]
    POINTS_EXPIRED: Template = DEFAULT_TEMPLATES["POINTS_EXPIRED"]
    POINTS_REVERSED: Template = DEFAULT_TEMPLATES["POINTS_REVERSED"]

    @field_validator(
        "POINTS_CREDITED", "POINTS_DEBITED", "COUPON_ISSUED", "POINTS_EXPIRING", "POINTS_EXPIRED", "POINTS_REVERSED"
    )
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        import string  # only when a template is saved (1 ms of every cold start)

        try:
            parts = list(string.Formatter().parse(value))
        except ValueError as exc:
            raise ValueError(f"malformed template: {exc}") from exc
        for _, field, spec, conversion in parts:
            if field is None:
                continue
            if field not in PLACEHOLDERS:
                raise ValueError(f"unknown placeholder {{{field}}}; known: {', '.join(sorted(PLACEHOLDERS))}")
            if spec or conversion:
                raise ValueError(f"placeholder {{{field}}} may not carry a format spec or conversion")
        return value


class OrgConfig(StrictModel):
    programs: list[ProgramId] = Field(default_factory=lambda: ["default"], min_length=1, max_length=50)
    reasons: list[Reason] = Field(
        default_factory=lambda: [Reason(code=c, label=lbl) for c, lbl in DEFAULT_REASONS],
        min_length=1,
        max_length=200,
    )
    points: PointsConfig = Field(default_factory=PointsConfig)
    coupons: CouponsConfig = Field(default_factory=CouponsConfig)
    approval_timeout_hours: Annotated[int, Field(strict=True, ge=1, le=24 * 90)] = 72
    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    templates: Templates = Field(default_factory=Templates)

    _programs_once = listed_once("programs", message="programs must be unique")

    @field_validator("reasons")
    @classmethod
    def _reason_codes_once(cls, reasons: list[Reason]) -> list[Reason]:
        codes = [r.code for r in reasons]
        if len(set(codes)) != len(codes):
            raise ValueError("reason codes must be unique")
        return reasons

    def reason_codes(self) -> set[str]:
        return {r.code for r in self.reasons}

    def needs_points_approval(self, points: int) -> bool:
        if not self.points.auto_approve:
            return True
        threshold = self.points.approval_threshold
        return threshold is not None and abs(points) > threshold
