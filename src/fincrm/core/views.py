"""Shared view plumbing: every list and detail view restricts its queryset to what the
acting user may see (NetBox's ``restrict()``), so a new view cannot forget it."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import render
from django.views.generic import DetailView, ListView

from fincrm.core.pagination import EstimatedCountPaginator


def flash_errors(request, exc) -> None:
    """Each message of a ``ValidationError`` as an error message on the next page."""
    from django.contrib import messages

    for message in exc.messages:
        messages.error(request, message)


class RestrictedQuerysetMixin(LoginRequiredMixin):
    """Restrict ``queryset`` (or ``model``) to the rows the user may ``permission_action``."""

    permission_action = "view"

    def get_queryset(self):
        qs = super().get_queryset()
        if not hasattr(qs, "restrict"):
            raise ImproperlyConfigured(
                f"{qs.model.__name__} has no restrict(): add a RestrictedQuerySet"
            )
        return qs.restrict(self.request.user, self.permission_action)


#: At most this many rows in one list's Excel export.
MAX_EXPORT_ROWS = 20_000


class RestrictedListView(RestrictedQuerysetMixin, ListView):
    """A list a page at a time, filtered by ``filterset_class``. With ``export_columns``
    ((header, cell function of a row) pairs: what the page shows, masked as the page masks
    it), ``?export=xlsx`` answers the list as the reader sees it (their scope, filters, tab
    and order; every page) as an Excel sheet, the filters written on top."""

    paginate_by = 25
    paginator_class = EstimatedCountPaginator
    filterset_class = None
    export_columns: tuple = ()
    #: The export's file name (``fincrm-<export_name>-<day>.xlsx``) and sheet title.
    export_name = "list"
    export_title = ""

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "xlsx" and self.export_columns:
            return self.export()
        return super().get(request, *args, **kwargs)

    def export_applied(self) -> list[tuple[str, str]]:
        """What narrows the list besides the filter form (a tab such as "my teams")."""
        return []

    def export_rows(self, rows):
        """Each row's cells; a view whose cells need the reader (masking) overrides it."""
        return ([cell(row) for _, cell in self.export_columns] for row in rows)

    def export(self):
        from fincrm.core.excel import applied_filters, workbook, xlsx_response

        self.object_list = self.get_queryset()
        filterset = getattr(self, "filterset", None)
        if filterset is not None and filterset.is_bound and not filterset.is_valid():
            return self.render_to_response(self.get_context_data())  # the 400 page
        rows = self.object_list[:MAX_EXPORT_ROWS]
        content = workbook(
            title=str(self.export_title or self.export_name),
            header=[str(label) for label, _ in self.export_columns],
            rows=self.export_rows(rows),
            applied=[*applied_filters(filterset), *self.export_applied()],
        )
        return xlsx_response(content, name=self.export_name)

    def get_queryset(self):
        qs = super().get_queryset()
        if self.filterset_class is None:
            return qs
        self.filterset = self.filterset_class(
            self.request.GET or None, queryset=qs, request=self.request
        )
        return self.filterset.qs if self.filterset.is_bound else qs

    def get_paginator(self, queryset, per_page, *args, **kwargs):
        # A filterset may say how its rows are counted fastest (``CustomerFilterSet.counted``).
        counted = getattr(getattr(self, "filterset", None), "counted", None)
        if counted is not None and issubclass(self.paginator_class, EstimatedCountPaginator):
            kwargs["counted"] = counted
        return super().get_paginator(queryset, per_page, *args, **kwargs)

    def render_to_response(self, context, **response_kwargs):
        """A filter the form refuses (an id past 64 bits, a choice that does not exist) is
        the client's error: the page with the form's messages, answered 400."""
        filterset = getattr(self, "filterset", None)
        if filterset is not None and filterset.is_bound and not filterset.is_valid():
            response_kwargs.setdefault("status", 400)
        return super().render_to_response(context, **response_kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if self.filterset_class is not None:
            ctx["filterset"] = self.filterset
            query = self.request.GET.copy()
            query.pop("page", None)
            query.pop("export", None)
            ctx["query_without_page"] = query.urlencode()
            if self.export_columns:
                query["export"] = "xlsx"
                ctx["export_query"] = query.urlencode()
        return ctx


def ticked_ids(request, name: str, limit: int) -> list[int]:
    """The ids ticked on a list (``name`` repeated in the POST), at most ``limit``; anything
    that is not a whole number within 64 bits is ignored."""
    ids = [int(v) for v in request.POST.getlist(name) if v.isdigit() and len(v) < 19]
    return list(dict.fromkeys(ids))[:limit]


def safe_next(request) -> str:
    """The page to go back to after a bulk action, if it is one of this site's."""
    from django.utils.http import url_has_allowed_host_and_scheme

    back = request.POST.get("next", "")
    return back if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) else ""


def bulk_days(request) -> int | None:
    raw = request.POST.get("days", "")
    return int(raw) if raw.isdigit() and len(raw) < 4 else None


def bulk_confirm(request, *, action: str, label, url: str, field: str, rows, skipped: int,
                 cancel_url: str, assignee=None, days=None, **extra):  # fmt: skip
    """The page that asks before a bulk action: what, on how many and which rows (``rows``:
    (id, text) pairs), to whom or by how much, and how many ticked rows are left alone."""
    context = {"action": action, "action_label": label, "action_url": url, "field": field,
               "rows": rows, "skipped": skipped, "cancel_url": cancel_url,
               "assignee": assignee, "days": days, "next": safe_next(request), **extra}  # fmt: skip
    return render(request, "includes/bulk_confirm.html", context)


def bulk_done(request, message: str, *, skipped: int) -> None:
    """The message after a bulk action: how many changed, and how many were left alone."""
    from django.contrib import messages
    from django.utils.translation import ngettext

    earlier = request.POST.get("skipped", "")
    skipped += int(earlier) if earlier.isdigit() and len(earlier) < 4 else 0
    if skipped:
        message += " " + ngettext(
            "%(n)d ticked row was not yours to change and stays as it was.",
            "%(n)d ticked rows were not yours to change and stay as they were.",
            skipped,
        ) % {"n": skipped}
    messages.success(request, message)


class RestrictedDetailView(RestrictedQuerysetMixin, DetailView):
    pass
