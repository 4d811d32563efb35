from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import DeliveryChannel, QuestionKind, Trigger
from .models import Question

#: Question rows offered by the builder; empty rows are ignored.
BUILDER_ROWS = 10


class SurveyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    intro = forms.CharField(
        label=_("Introduction"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    trigger = forms.ChoiceField(label=_("Sent when"), choices=Trigger.choices)
    channel = forms.ChoiceField(label=_("Delivery"), choices=DeliveryChannel.choices)
    valid_days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=365, initial=30
    )


class QuestionRowForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=QuestionKind.choices, required=False)
    text = forms.CharField(label=_("Question"), max_length=300, required=False)
    choices = forms.CharField(
        label=_("Options (one per line)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    required = forms.BooleanField(label=_("Required"), required=False, initial=True)
    is_overall = forms.BooleanField(label=_("Overall satisfaction"), required=False)

    def spec(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("text"):
            return None
        return {
            "kind": data.get("kind") or QuestionKind.RATING,
            "text": data["text"],
            "choices": [line for line in data.get("choices", "").splitlines() if line.strip()],
            "required": data.get("required", False),
            "is_overall": data.get("is_overall", False),
        }


QuestionFormSet = forms.formset_factory(QuestionRowForm, extra=BUILDER_ROWS, max_num=30)


def answer_fields(questions: list[Question]) -> list[dict]:
    """What the answer page renders for each question."""
    rows = []
    for q in questions:
        if q.kind == QuestionKind.NPS:
            options = [str(i) for i in range(11)]
        elif q.kind == QuestionKind.RATING:
            options = [str(i) for i in range(1, 6)]
        else:
            options = q.choices
        rows.append({"q": q, "name": f"q{q.pk}", "options": options})
    return rows
