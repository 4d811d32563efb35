"""Saved views of list pages (issue 19, point 4): save the filters and order a list shows
under a name, for oneself or the team; delete one's own. And the person a bulk "assign" on a
list hands its rows to (``bulk_assignee``), read from the form."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fincrm.core.params import MAX_ID
from fincrm.core.permissions import get_restricted_or_404

from . import services
from .models import SavedView
from .selectors import assignable_users


def bulk_assignee(request):
    """The person a bulk "assign" hands rows to (``assignee`` in the POST), if the acting
    user may assign to them (``accounts.selectors.assignable_users``), else ``None``."""
    raw = request.POST.get("assignee", "")
    if not (raw.isdigit() and len(raw) < 19):
        return None
    return assignable_users(request.user).filter(pk=int(raw)).first()


#: Parameters that say where a reader is in a list, not what it shows.
NOT_SAVED = ("page", "export")


class SavedViewForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name of the view"), max_length=60)
    shared = forms.BooleanField(label=gettext_lazy("Share with my team"), required=False)
    path = forms.CharField(max_length=200)
    query = forms.CharField(max_length=1000, required=False)

    def clean_path(self) -> str:
        """A page of this site (a path the URL conf knows), never another host."""
        path = self.cleaned_data["path"]
        if not path.startswith("/") or path.startswith("//"):
            raise forms.ValidationError(_("Views can be saved for pages of this site only."))
        try:
            resolve(path)
        except Resolver404:
            raise forms.ValidationError(
                _("Views can be saved for pages of this site only.")
            ) from None
        return path

    def clean_query(self) -> str:
        query = QueryDict(self.cleaned_data["query"], mutable=True)
        for name in NOT_SAVED:
            query.pop(name, None)
        return query.urlencode()


class SavedViewDeleteForm(forms.Form):
    view = forms.IntegerField(min_value=1, max_value=MAX_ID)


@require_POST
@login_required
def saved_view_save(request):
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(form.cleaned_data.get("path") or "home")
    view = services.saved_view_save(owner=request.user, **form.cleaned_data)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(view.get_absolute_url())


@require_POST
@login_required
def saved_view_delete(request):
    form = SavedViewDeleteForm(request.POST)
    if not form.is_valid():
        return redirect("home")
    view = get_restricted_or_404(request.user, SavedView, "change", pk=form.cleaned_data["view"])
    path = view.path
    services.saved_view_delete(view=view)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return redirect(path)
