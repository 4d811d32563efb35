"""The search box in the top bar (issue 19, point 4): one query, results grouped by kind —
clients (by name or its pinyin initials, ``core.initials``; by credit code, and by ID number
or phone as the client list finds them, with its masking rules and access log), applications
by number (SQ00000123 or 123) and facilities by contract number — each group only what the
user may see.

The web layer (like the home page): it reads through each app's own restricted querysets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render

from fincrm.core import initials
from fincrm.customers.filtersets import MIN_SEARCH_LENGTH, search_matches
from fincrm.customers.models import Customer
from fincrm.financing.models import Application, Facility

#: Results shown per group; the clients' group links to the full client list.
GROUP_ROWS = 10
_APPLICATION_NUMBER = re.compile(r"^(?:SQ)?0*(\d{1,18})$", re.IGNORECASE)


@dataclass
class SearchResults:
    query: str
    too_short: bool = False
    clients: list = field(default_factory=list)
    client_count: int = 0
    applications: list = field(default_factory=list)
    facilities: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.clients or self.applications or self.facilities)


def global_search(*, user, query: str) -> SearchResults:
    """What ``user`` finds for ``query``, grouped; nothing for a query shorter than the
    client search's minimum."""
    query = query.strip()[:100]
    results = SearchResults(query=query)
    if len(query) < MIN_SEARCH_LENGTH:
        results.too_short = bool(query)
        return results
    matches = search_matches(query, user=user, via="page")
    wanted_clients = Q(pk__in=matches)
    if initials.is_initials_query(query):  # "zgjs": 中国建设… by its pinyin initials
        wanted_clients |= Q(pk__in=initials.matching(query))
    clients = Customer.objects.restrict(user, "view").filter(wanted_clients).order_by("name")
    results.clients = list(clients.select_related("owner")[:GROUP_ROWS])
    results.client_count = (
        len(results.clients) if len(results.clients) < GROUP_ROWS else clients.count()
    )
    number = _APPLICATION_NUMBER.match(query)
    wanted = Q(contract_number__istartswith=query) | (
        Q(pk=int(number.group(1))) if number else Q(pk__in=[])
    )
    results.applications = list(
        Application.objects.restrict(user, "view")
        .filter(wanted)
        .select_related("customer", "product")
        .order_by("-pk")[:GROUP_ROWS]
    )
    results.facilities = list(
        Facility.objects.restrict(user, "view")
        .filter(contract_number__istartswith=query)
        .select_related("customer")
        .order_by("contract_number")[:GROUP_ROWS]
    )
    return results


@login_required
def search(request):
    results = global_search(user=request.user, query=request.GET.get("q", ""))
    return render(request, "web/search.html", {"results": results})
