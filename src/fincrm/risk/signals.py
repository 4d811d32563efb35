"""What risk tells the apps above it *inside* the transaction of a change.

Django signals, sent synchronously: a receiver's writes commit or roll back with the change
that sent them. The evaluation connects its receivers in its ``AppConfig.ready``; risk
imports none of the apps above it.
"""

from __future__ import annotations

from django.dispatch import Signal

#: An officer completed a review (``review``): the client is re-evaluated at once, in this
#: transaction, so that the fresh assessment can be kept on the review.
review_completed = Signal()
