from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.core.views import flash_errors
from fincrm.customers.models import Customer
from fincrm.customers.selectors import customer_get

from . import services


@login_required
@require_POST
def redeem(request, customer_pk: int):
    """Redeem a reward for a client the user manages."""
    customer = customer_get(user=request.user, pk=customer_pk, action="change")
    try:
        services.points_redeem(
            customer=customer, reward_code=request.POST.get("reward", ""), user=request.user
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Reward redeemed."))
    return redirect(customer.get_absolute_url() + "#loyalty")


@login_required
@require_POST
def referral(request, customer_pk: int):
    """The client introduced another business: the policy's referral points, once per
    referred client — by the link when it is on file as referred by this client (chosen from
    the card's list, or typed by its name), else by the name typed."""
    customer = customer_get(user=request.user, pk=customer_pk, action="change")
    referred = " ".join(request.POST.get("referred", "").split())[:50]
    chosen = request.POST.get("referred_client", "")
    linked = None
    if chosen.isdigit():
        linked = Customer.objects.filter(pk=int(chosen), referred_by=customer).first()
        if linked is None:
            raise Http404
    if not referred and linked is None:
        messages.error(request, _("Name the client who was referred."))
    elif services.referral_reward(
        referrer=customer, referred_name=referred, referred=linked, user=request.user
    ):
        messages.success(request, _("Referral points awarded."))
    else:
        messages.info(request, _("This referral was already rewarded."))
    return redirect(customer.get_absolute_url() + "#loyalty")
