"""A scheduled campaign launches in ``fincrm db_worker`` at its time."""

from __future__ import annotations

from django_tasks import task


@task()
def launch_campaign(campaign_id: int, user_id: int) -> dict:
    from django.contrib.auth import get_user_model

    from .choices import CampaignStatus
    from .models import Campaign
    from .services import campaign_launch

    campaign = Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SCHEDULED).first()
    if campaign is None:  # launched by hand meanwhile, or unscheduled
        return {}
    user = get_user_model().objects.get(pk=user_id)
    return campaign_launch(campaign=campaign, user=user)
