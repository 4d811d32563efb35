"""The pricing rule applied to a client and a product (``fincrm.analytics.pricing``).

An application's proposed rate is the rule's rate (within the product's bounds); approval
refuses a rate below the rule's floor unless an approver who may override gives a reason
(``approval.control_breaches``, breach ``min_rate``). A quote is worked out from the current
policy whenever it is shown, never stored: the terms it priced (amount, tenor, security) may
change until the contract.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from fincrm.analytics.policy import PolicyConfig
from fincrm.analytics.pricing import Quote, QuoteInputs, price

from .choices import Frequency

COMPONENT_LABELS = {
    "base": _("Base rate (LPR)"),
    "grade_spread": _("Grade spread"),
    "tenor": _("Tenor premium"),
    "security": _("Guarantee adjustment"),
    "tier": _("Client tier discount"),
    "years": _("Relationship years discount"),
}


def years_with_us(customer) -> int:
    """Full years since the client came to us (its record's creation)."""
    since = timezone.localtime(customer.created_at).date()
    today = timezone.localdate()
    return max(today.year - since.year - ((today.month, today.day) < (since.month, since.day)), 0)


def quote_for(
    *,
    customer,
    product,
    amount: Decimal,
    tenor_months: int,
    guarantee_type: str,
    collateral_value: Decimal = Decimal(0),
    policy: PolicyConfig,
) -> Quote | None:
    """The rule's quote, or None for a client without a grade (it cannot be priced)."""
    classification = getattr(customer, "classification", None)
    grade = classification.grade if classification is not None else None
    if grade not in policy.grade_controls or not amount or amount <= 0:
        return None
    return price(
        QuoteInputs(
            grade=grade,
            tier=classification.tier or None,
            amount=float(amount),
            tenor_months=int(tenor_months),
            guarantee_type=guarantee_type,
            collateral_value=float(collateral_value or 0),
            years_with_us=years_with_us(customer),
            industry=customer.industry,
            arrangement_fee_percent=float(product.upfront_fee_percent),
        ),
        policy,
    )


def application_quote(application, policy: PolicyConfig) -> Quote | None:
    return quote_for(
        customer=application.customer,
        product=application.product,
        amount=application.amount,
        tenor_months=application.tenor_months,
        guarantee_type=application.guarantee_type,
        collateral_value=application.collateral_value,
        policy=policy,
    )


def application_pricing(application) -> dict | None:
    """The application's quote under the current policy, for its page (None: no grade)."""
    from .services import policy_current

    quote = application_quote(application, policy_current()[0])
    return quote_as_dict(quote) if quote is not None else None


def quote_as_dict(quote: Quote) -> dict:
    """The quote for the API and the pages: each component named, rates in % a year."""
    frequencies = dict(Frequency.choices)
    return {
        "components": [
            {
                "code": c.code,
                "label": str(COMPONENT_LABELS[c.code]),
                "bp": c.bp,
                "basis": c.basis,
            }
            for c in quote.components
        ],
        "rate": quote.rate_percent,
        "floor": quote.floor_percent,
        "arrangement_fee_percent": Decimal(str(quote.arrangement_fee_percent)),
        "fee_waived_share": quote.fee_waived_share,
        "seasonal": quote.seasonal,
        "frequencies": list(quote.frequencies),
        "frequency_labels": [str(frequencies.get(f, f)) for f in quote.frequencies],
        "interest_only_months": quote.interest_only_months,
    }


def rule_rows(policy: PolicyConfig) -> list[tuple[str, str]]:
    """The pricing rule in words, component by component, for the page where an application
    is opened (before there is a client and amount to quote)."""
    from fincrm.core.classes import Tier
    from fincrm.customers.choices import Industry

    from .choices import GuaranteeType

    rules, bp = policy.lending.pricing, gettext("bp")
    tiers, kinds, industries = (
        dict(Tier.choices),
        dict(GuaranteeType.choices),
        dict(Industry.choices),
    )

    def signed(value: int) -> str:
        return f"{value:+d} {bp}"

    tenor = [
        (gettext("up to %(months)s months") % {"months": b.up_to_months} if b.up_to_months
         else pgettext("tenor", "longer")) + f" {signed(b.premium_bp)}"
        for b in rules.tenor_premiums
    ]  # fmt: skip
    security = [
        f"{kinds.get(k, k)} {signed(v)}"
        + (gettext(" × collateral coverage") if k in rules.collateral_types else "")
        for k, v in rules.guarantee_bp.items()
        if v
    ]
    tier = [f"{tiers.get(t, t)} {signed(-v)}" for t, v in rules.tier_discount_bp.items() if v]
    fees = [
        gettext("%(tier)s: %(share)s%% of the arrangement fee waived")
        % {"tier": tiers.get(t, t), "share": round(share * 100)}
        for t, share in rules.fee_waiver_share.items()
        if share
    ]
    seasonal = gettext(
        "%(industries)s: quarterly repayment, up to %(months)s interest-only months"
    ) % {
        "industries": "、".join(str(industries.get(i, i)) for i in rules.seasonal_industries),
        "months": rules.seasonal_interest_only_months,
    }
    return [
        (str(COMPONENT_LABELS["base"]), f"{policy.lending.base_rate_percent:.2f}%"),
        (str(COMPONENT_LABELS["grade_spread"]), gettext("by the client's grade")),
        (str(COMPONENT_LABELS["tenor"]), "；".join(tenor)),
        (str(COMPONENT_LABELS["security"]), "；".join(security)),
        (str(COMPONENT_LABELS["tier"]), "；".join(tier)),
        (
            str(COMPONENT_LABELS["years"]),
            gettext("%(bp)s a full year with us, at most %(max)s")
            % {"bp": signed(-rules.discount_per_year_bp),
               "max": signed(-rules.max_years_discount_bp)},
        ),
        (gettext("Fee waiver"), "；".join(fees)),
        (gettext("Seasonal businesses"), seasonal),
        (
            gettext("Floor at approval"),
            gettext("the rule's rate less %(bp)s") % {"bp": f"{rules.discretion_bp} {bp}"},
        ),
    ]  # fmt: skip


def describe_floor(quote: Quote) -> str:
    """The floor's components in one line, for a breach message."""
    parts = [
        f"{COMPONENT_LABELS[c.code]} {c.bp:+d} {gettext('bp')}" for c in quote.components if c.bp
    ]
    return gettext("%(parts)s, less %(discretion)s bp of discretion") % {
        "parts": ", ".join(parts),
        "discretion": quote.rate_bp - quote.floor_bp,
    }
