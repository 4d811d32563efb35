"""The financing models, one module per concept; every model is importable from here."""

from .application import (
    Application,
    ApplicationDocument,
    ApplicationStageChange,
    ApprovalVote,
    DocumentOwnedQuerySet,
)
from .base import MONEY, RATE, FacilityOwnedQuerySet
from .collection import (
    CollectionAction,
    CollectionLetter,
    CollectionLetterTemplate,
    LetterOwnedQuerySet,
)
from .facility import Facility, Fee, Installment, Payment, ScheduleRevision, Tranche
from .modification import FacilityModification, ModificationVote
from .product import Product, _all_repayment_methods

__all__ = [
    "MONEY",
    "RATE",
    "Application",
    "ApplicationDocument",
    "ApplicationStageChange",
    "ApprovalVote",
    "CollectionAction",
    "CollectionLetter",
    "CollectionLetterTemplate",
    "DocumentOwnedQuerySet",
    "Facility",
    "FacilityModification",
    "FacilityOwnedQuerySet",
    "Fee",
    "Installment",
    "LetterOwnedQuerySet",
    "ModificationVote",
    "Payment",
    "Product",
    "ScheduleRevision",
    "Tranche",
    # Migration 0008 names it fincrm.financing.models._all_repayment_methods.
    "_all_repayment_methods",
]
