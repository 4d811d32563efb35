"""Object permissions for the client book (``user.has_perm('customers.view_customer', obj)``)."""

import rules

from fincrm.core.permissions import can_change, can_view

rules.add_perm("customers.view_customer", can_view)
rules.add_perm("customers.change_customer", can_change)
rules.add_perm("customers.add_customer", rules.is_authenticated & can_change)
