from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Claim, EvidenceItem, GuaranteeContract, InsurancePolicy


@admin.register(EvidenceItem)
class EvidenceItemAdmin(SimpleHistoryAdmin):
    list_display = ("facility", "kind", "due_on", "status", "payee", "amount")
    list_filter = ("kind", "status")
    raw_id_fields = ("facility", "uploaded_by", "decided_by")


@admin.register(GuaranteeContract)
class GuaranteeContractAdmin(SimpleHistoryAdmin):
    list_display = ("number", "kind", "customer", "amount_covered", "start_on", "expires_on")
    list_filter = ("kind",)
    raw_id_fields = ("customer", "guarantor_client", "facilities", "created_by")


@admin.register(InsurancePolicy)
class InsurancePolicyAdmin(SimpleHistoryAdmin):
    list_display = ("policy_number", "insurer", "customer", "premium", "expires_on")
    raw_id_fields = ("customer", "facilities", "created_by")


@admin.register(Claim)
class ClaimAdmin(SimpleHistoryAdmin):
    list_display = ("facility", "amount_claimed", "status", "amount_recovered", "filed_on")
    list_filter = ("status",)
    raw_id_fields = ("facility", "guarantee", "policy", "payment", "created_by")
