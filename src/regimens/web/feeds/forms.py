from __future__ import annotations

from django import forms

from regimens.web.feeds.models import AUDIENCES, HOLDERS, MINIMAL, PATIENT


class NewFeedForm(forms.Form):
    holder = forms.ChoiceField(choices=HOLDERS, initial=PATIENT, label="For")
    audience = forms.ChoiceField(choices=AUDIENCES, initial=MINIMAL, label="Wording",
                                 help_text="Minimal suits a phone others may see or a shared family calendar.")
    email = forms.EmailField(required=False, label="E-mail for same-day changes (optional)")


class EmailForm(forms.Form):
    email = forms.EmailField(label="Send to")
