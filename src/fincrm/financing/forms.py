from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import STAGE_TRANSITIONS, Stage


class StageMoveForm(forms.Form):
    to_stage = forms.ChoiceField(label=_("Move to"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = STAGE_TRANSITIONS.get(application.stage, frozenset())
        self.fields["to_stage"].choices = [(s.value, s.label) for s in Stage if s.value in allowed]
