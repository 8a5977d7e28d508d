from __future__ import annotations

from django import forms

from regimens.web.feeds.models import AUDIENCES, HOLDERS, MINIMAL, PATIENT


def minimal_available() -> bool:
    """Whether the calendar export offers the minimal wording (IcsOptions.audience)."""
    import dataclasses

    from regimens.exporters.ics import IcsOptions

    return "audience" in {f.name for f in dataclasses.fields(IcsOptions)}


class NewFeedForm(forms.Form):
    holder = forms.ChoiceField(choices=HOLDERS, initial=PATIENT, label="For")
    audience = forms.ChoiceField(choices=AUDIENCES, initial=MINIMAL, label="Wording",
                                 help_text="Minimal suits a phone others may see or a shared family calendar.")
    email = forms.EmailField(required=False, label="E-mail for same-day changes (optional)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not minimal_available():
            self.fields["audience"].choices = [c for c in AUDIENCES if c[0] != MINIMAL]
            self.fields["audience"].initial = AUDIENCES[0][0]
            self.fields["audience"].help_text = "Minimal wording needs a newer calendar export."


class EmailForm(forms.Form):
    email = forms.EmailField(label="Send to")
