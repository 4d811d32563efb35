"""The outbox (what went, what failed and why), the message templates, the unsubscribe
page of e-mails, and sending a care task's message."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from fincrm.core.permissions import get_restricted_or_404, is_admin
from fincrm.core.views import RestrictedListView
from fincrm.customers.models import Customer
from fincrm.customers.selectors import customer_get
from fincrm.engagement.care import OCCASION_NAMES, fill
from fincrm.engagement.choices import TaskStatus
from fincrm.engagement.forms import CareSendForm
from fincrm.engagement.models import MessageTemplate, Task

from . import care, services
from .care import placeholders
from .choices import ConsentSource, ConsentStatus, MessageStatus
from .filtersets import MessageFilterSet
from .forms import MessageTemplateForm
from .models import Message

#: The placeholders a template may use (``fincrm.engagement.models.MessageTemplate``).
PLACEHOLDERS = ("client", "contact", "manager", "occasion", "years", "date")


class OutboxView(RestrictedListView):
    """Messages to the clients the user may see, newest first, filtered by status, channel
    and kind; addresses masked."""

    model = Message
    filterset_class = MessageFilterSet
    template_name = "messaging/outbox.html"
    paginate_by = 50

    def get_queryset(self):
        return super().get_queryset().select_related("customer").order_by("-created_at", "-id")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if is_admin(self.request.user):
            path = reverse("messaging:inbound", args=[services.inbound_token()])
            ctx["inbound_url"] = settings.FINCRM_BASE_URL.rstrip("/") + path
        return ctx


def _staff(user) -> None:
    if not (user.role or user.is_superuser) or hasattr(user, "portal_account"):
        raise PermissionDenied


@login_required
def template_list(request):
    """Every message template: staff read them, administrators edit them."""
    _staff(request.user)
    languages = dict(settings.LANGUAGES)
    templates = list(MessageTemplate.objects.all())
    for template in templates:
        template.occasion_name = OCCASION_NAMES.get(template.occasion, template.occasion)
        template.language_name = languages.get(template.language, template.language)
    return render(
        request,
        "messaging/template_list.html",
        {"templates": templates, "may_edit": is_admin(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request, pk: int | None = None):
    """Create or edit a template (administrators); ``?client=<id>`` previews it for a client
    the user may see."""
    _staff(request.user)
    template = get_object_or_404(MessageTemplate, pk=pk) if pk else None
    if request.method == "POST" and not is_admin(request.user):
        raise PermissionDenied
    form = MessageTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("Template saved."))
        return redirect("messaging:template_edit", pk=saved.pk)
    preview, client = None, None
    client_id = request.GET.get("client", "")
    if template is not None and client_id.isdigit():
        client = customer_get(user=request.user, pk=int(client_id))
        preview = template_preview(template, client)
    return render(
        request,
        "messaging/template_form.html",
        {
            "form": form,
            "template": template,
            "may_edit": is_admin(request.user),
            "placeholders": PLACEHOLDERS,
            "used": placeholders(template.body) if template else [],
            "preview": preview,
            "client": client,
            "occasion_name": OCCASION_NAMES.get(template.occasion, "") if template else "",
        },
    )


def template_preview(template: MessageTemplate, client: Customer) -> str:
    """The template's text for a real client (the festival's date left as a placeholder)."""
    owner = client.owner
    manager = (f"{owner.last_name}{owner.first_name}" or owner.username) if owner else ""
    years = ""
    if client.founded_on:
        years = timezone.localdate().year - client.founded_on.year
    return fill(
        template.body,
        occasion=template.occasion,
        language=template.language,
        client=client.name,
        contact=client.name,
        manager=manager,
        years=years,
    )


@csrf_exempt  # the signed token is the credential; mail clients POST without a form
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """An e-mail's unsubscribe link: GET asks, POST opts out (mail scanners follow links;
    one-click clients POST, RFC 8058). No login: the signed token names the client."""
    found = services.unsubscribe_token_read(token)
    if found is None:
        raise Http404
    customer = get_object_or_404(Customer, pk=found[0])
    done = False
    if request.method == "POST":
        services.consent_set(customer=customer, channel=found[1],
                             status=ConsentStatus.OPTED_OUT,
                             source=ConsentSource.UNSUBSCRIBE_LINK)  # fmt: skip
        done = True
    return render(request, "messaging/unsubscribe.html", {"done": done})


@csrf_exempt  # gateways post here; the secret path segment is the credential
@require_http_methods(["POST"])
def inbound(request, token: str):
    """Replies and delivery reports pushed by a gateway (``services.inbound_receive``)."""
    if not constant_time_compare(token, services.inbound_token()):
        raise Http404
    try:
        payload = json.loads(request.body.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        return JsonResponse({"error": "not JSON"}, status=400)
    return JsonResponse(services.inbound_receive(payload))


@login_required
def care_send(request, pk: int):
    """Send a care task's message (edited if need be): through the channel's gateway, else
    logged as sent by staff. Named ``engagement:care_send`` (the task list's page;
    ``fincrm.urls`` puts it in engagement's URLs)."""
    task = get_restricted_or_404(
        request.user, Task.objects.select_related("customer"), "change", pk=pk,
        status=TaskStatus.OPEN,
    )  # fmt: skip
    form = CareSendForm(
        request.POST or None, initial={"channel": task.channel, "message": task.detail}
    )
    if request.method == "POST" and form.is_valid():
        sent = care.care_send(task=task, user=request.user, **form.cleaned_data)
        if not isinstance(sent, Message):
            messages.success(request, _("Care message recorded as sent."))
        elif sent.status in (MessageStatus.BLOCKED, MessageStatus.FAILED):
            messages.error(request, _("Not sent: %(reason)s") % {"reason": sent.reason_display})
            return redirect("engagement:care_send", pk=task.pk)
        else:
            messages.success(
                request, _("Care message queued: it is logged once the gateway has sent it.")
            )
        return redirect("engagement:tasks")
    return render(request, "engagement/care_send.html", {"form": form, "task": task})
