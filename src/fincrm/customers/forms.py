from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from fincrm.accounts.choices import Role
from fincrm.accounts.models import User
from fincrm.core.validators import normalize_ric, normalize_uscc

from .choices import CustomerKind
from .geo import CITIES, CITY_BY_NAME
from .models import Contact, Customer, FinancialStatement
from .services import CONTACT_FIELDS, STATEMENT_FIELDS

MSG_CITY_PROVINCE_MISMATCH = _("%(city)s is in %(province)s, not %(given)s.")


class ReferrerPicker(forms.Select):
    """The referrer: a search box whose matches (``customers:referrers``, through htmx)
    replace the list's options. Only the chosen client is rendered with the page, whatever
    the size of the book; the search keeps it as the first option."""

    search_url = ""

    def optgroups(self, name, value, attrs=None):
        chosen = [v for v in value if v]
        rows = [("", "---------")]
        rows += list(Customer.objects.filter(pk__in=chosen).values_list("pk", "name"))
        return [
            (None, [self.create_option(name, pk, label, str(pk) in value, i, attrs=attrs)], i)
            for i, (pk, label) in enumerate(rows)
        ]

    def render(self, name, value, attrs=None, renderer=None):
        select = super().render(name, value, attrs, renderer)
        search = format_html(
            '<input type="search" name="referrer_q" class="referrer-search" autocomplete="off"'
            ' placeholder="{}" aria-label="{}" hx-get="{}" hx-include="next select"'
            ' hx-trigger="input changed delay:300ms, search" hx-target="next select"'
            ' hx-swap="innerHTML">',
            _("Search clients by name or credit code"),
            _("Search for the referrer"),
            self.search_url,
        )
        return search + select


class CustomerForm(forms.ModelForm):
    city = forms.ChoiceField(
        label=_("City"),
        choices=[("", "---------")] + [(c.name, f"{c.name}（{c.province}）") for c in CITIES],
    )

    class Meta:
        model = Customer
        fields = [
            "kind",
            "name",
            "credit_code",
            "id_number",
            "phone",
            "email",
            "client_type",
            "industry",
            "province",
            "city",
            "address",
            "registered_capital",
            "annual_revenue",
            "employee_count",
            "needs_level",
            "risk_appetite",
            "source_channel",
            "owner",
            "referred_by",
            "birthday",
            "founded_on",
            "tags",
        ]
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}),
            "founded_on": forms.DateInput(attrs={"type": "date"}),
            "tags": forms.CheckboxSelectMultiple,
            "referred_by": ReferrerPicker,
        }
        help_texts = {
            "referred_by": _(
                "The client who introduced this one: a client you can see, never this client "
                "or one it brought in."
            ),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["province"].widget = forms.Select(
            choices=[("", "---------"), *sorted({(c.province, c.province) for c in CITIES})]
        )
        owners = User.objects.filter(
            role__in=[Role.ACCOUNT_MANAGER, Role.TEAM_LEAD], is_active=True
        )
        if user is not None and user.role == Role.ACCOUNT_MANAGER:
            owners = owners.filter(pk=user.pk)
        elif user is not None and user.role == Role.TEAM_LEAD:
            owners = owners.filter(team_id__in=user.visible_team_ids()) | owners.filter(pk=user.pk)
        self.fields["owner"].queryset = owners.order_by("username")
        self.fields["owner"].required = True
        if user is not None and user.role == Role.ACCOUNT_MANAGER and not self.instance.pk:
            self.fields["owner"].initial = user.pk
        if self.instance.pk is None or user is None:
            # A new client is linked to its referrer once it exists (the search is the edit
            # page's: it leaves out the client's own referrals).
            del self.fields["referred_by"]
        else:
            # The referrer already on file stays valid even outside the user's scope.
            self.fields["referred_by"].queryset = Customer.objects.restrict(
                user, "view"
            ) | Customer.objects.filter(pk=self.instance.referred_by_id)
            self.fields["referred_by"].widget.search_url = reverse(
                "customers:referrers", args=[self.instance.pk]
            )

    def clean(self):
        cleaned = super().clean()
        city, province = cleaned.get("city"), cleaned.get("province")
        kind = cleaned.get("kind")
        if kind == CustomerKind.COMPANY:
            cleaned["id_number"] = self.instance.id_number = None
        elif kind == CustomerKind.PERSON:
            cleaned["credit_code"] = self.instance.credit_code = None
        known = CITY_BY_NAME.get(city or "")
        if known and province and known.province != province:
            self.add_error(
                "city",
                MSG_CITY_PROVINCE_MISMATCH
                % {"city": city, "province": known.province, "given": province},
            )
        return cleaned

    def clean_credit_code(self):
        value = self.cleaned_data.get("credit_code")
        return normalize_uscc(value) if value else None

    def clean_id_number(self):
        value = self.cleaned_data.get("id_number")
        return normalize_ric(value) if value else None


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = list(CONTACT_FIELDS)
        widgets = {"birthday": forms.DateInput(attrs={"type": "date"})}


class StatementForm(forms.ModelForm):
    """A period's figures in yuan. Equity is asked for so that the balance sheet can be
    checked (assets = liabilities + equity); it is not stored: it is assets − liabilities."""

    equity = forms.DecimalField(
        label=_("Owners' equity"), max_digits=18, decimal_places=2, required=True
    )

    class Meta:
        model = FinancialStatement
        fields = [*STATEMENT_FIELDS[:6], "equity", *STATEMENT_FIELDS[6:]]
        widgets = {"period_end": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        statement = self.instance
        if statement.pk:
            self.fields["equity"].initial = statement.total_assets - statement.total_liabilities
        for name in STATEMENT_FIELDS[1:-1]:
            self.fields[name].widget.attrs.setdefault("step", "0.01")
