"""What the client book tells the apps above it *inside* the transaction of a change.

Django signals, sent synchronously: a receiver's writes commit or roll back with the change
that sent them. The apps above customers connect their receivers in their ``AppConfig.ready``;
customers imports none of them. News that may wait for the commit goes through
:mod:`fincrm.core.events` instead.
"""

from __future__ import annotations

from django.dispatch import Signal

#: A client changed hands (``customer``, its new ``owner_id`` already set, and
#: ``previous_owner_id``): whatever follows the owner (engagement's open tasks) moves with it,
#: in the same transaction.
customer_reassigned = Signal()
