"""What financing tells the apps above it *inside* the transaction of a change.

Django signals, sent synchronously: a receiver's writes commit or roll back with the change
that sent them. The apps above financing (postloan) connect their receivers in their
``AppConfig.ready``; financing imports none of them. News that may wait for the commit goes
through :mod:`fincrm.core.events` instead.
"""

from __future__ import annotations

from django.dispatch import Signal

#: A facility was booked at disbursement (``facility``, its product loaded): its checklist of
#: evidence of the use of funds is created (postloan), in the same transaction as the booking.
facility_booked = Signal()

#: A client must be re-evaluated as soon as the current transaction commits, in this process
#: (``customer_id``): an alert for a missed payment must not wait for the task worker or the
#: nightly run. The evaluation connects its receiver (which waits for the commit).
evaluation_wanted = Signal()
