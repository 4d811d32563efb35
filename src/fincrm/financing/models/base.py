"""Field options and the queryset the financing models share."""

from __future__ import annotations

from fincrm.core.permissions import RestrictedQuerySet

MONEY = {"max_digits": 18, "decimal_places": 2}
RATE = {"max_digits": 6, "decimal_places": 3}  # annual rate in percent, e.g. 6.350


class FacilityOwnedQuerySet(RestrictedQuerySet):
    owner_field = "facility__customer__owner"
    team_field = "facility__customer__team"
