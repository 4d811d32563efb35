"""What complaints and requests tell the apps above them *inside* the transaction of a change.

Django signals, sent synchronously: a receiver's writes commit or roll back with the change
that sent them. The apps above service (surveys) connect their receivers in their
``AppConfig.ready``; service imports none of them. News that may wait for the commit goes
through :mod:`fincrm.core.events` instead.
"""

from __future__ import annotations

from django.dispatch import Signal

#: A ticket was closed (``ticket``): the after-complaint survey goes out (surveys), in the
#: same transaction.
ticket_closed = Signal()
