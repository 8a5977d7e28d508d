"""Forms. Validation of everything clinical is the library's: a form builds the library's input
(plans.plan.Given) and shows the library's one-line message next to the field it names."""

from __future__ import annotations

import re
from datetime import date

from dataclasses import dataclass

from django import forms
from django.contrib.auth import authenticate, get_user_model
from django.forms.boundfield import BoundField

from regimens.dosing.bsa import DEFAULT_FORMULA, FORMULAS, Measurements
from regimens.dosing.measurements import Quantity, parse_height, parse_weight
from regimens.errors import RegimensError
from regimens.plans.changes import Administered, Cease, Move, Resume, preview
from regimens.plans.plan import Given, Plan, PlanModification, load_plan, merge, same_content
from regimens.plans.records import CEASE_WHY
from regimens.plans.verification import compile_plan
from regimens.protocol.loader import ProtocolFile

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_MEASURE_FIELDS = {"height": "height_cm", "weight": "weight_kg", "age": "age_years", "bsa cap": "bsa_cap",
                   "bsa": "bsa_m2"}


def _field_for(message: str, fields) -> str | None:
    """Which field a library message is about (its first words name it), else None."""
    low = message.lower()
    for word, name in _MEASURE_FIELDS.items():
        if low.startswith(word + " ") and name in fields:
            return name
    m = re.search(r"decision on '([^']+)'|--choose ([a-z0-9_-]+)=", message)
    if m:
        key = f"choice_{m.group(1) or m.group(2)}"
        if key in fields:
            return key
    if "arm" in low and "arm" in fields:
        return "arm"
    return None


class PatientForm(forms.Form):
    display_name = forms.CharField(max_length=120, label="Display name",
                                   help_text="As the clinic calls the patient; no other identifiers.")
    record_number = forms.CharField(max_length=40, required=False, label="Record number (optional)")


class SearchForm(forms.Form):
    q = forms.CharField(max_length=80, required=False, label="Find a patient (name or record number)")


class LiveBoundField(BoundField):
    """A field that also names its live message (the `<p id="…_live" aria-live="polite">` the
    check-as-you-type answer fills) in aria-describedby, after its help text and error."""

    @property
    def live_id(self) -> str:
        return f"{self.auto_id}_live"

    @property
    def aria_describedby(self):
        if self.field.widget.attrs.get("aria-describedby") or not self.auto_id or self.is_hidden:
            return super().aria_describedby
        return " ".join(filter(None, [super().aria_describedby, self.live_id]))


@dataclass(frozen=True)
class LiveMessage:
    """One field's message for the page as it is being filled in: `kind` is "error", "ok" (e.g.
    what a height in feet was read as) or "" (nothing to say)."""

    name: str
    kind: str
    text: str
    shown: str
    """What the page says it shows now (its hidden `shown-NAME` input): unchanged messages are
    not sent again, so a screen reader hears only what changed."""

    @property
    def token(self) -> str:
        return f"{self.kind}:{self.text}" if self.kind else ""

    @property
    def changed(self) -> bool:
        return self.token != self.shown

    @property
    def dom_id(self) -> str:
        return "live-all" if self.name == ALL else f"id_{self.name}_live"


ALL = "__all__"


class LiveForm(forms.Form):
    """The same form and the same library checks as on submit, run while the pharmacist fills
    it in (htmx posts the form after each change). `live_messages` binds the form with live=True:
    a required field still empty is not an error yet unless it is the one just left, and the
    form-wide message waits until every field the check needs is filled in. On submit nothing
    is relaxed: the server-side check stays the authority."""

    bound_field_class = LiveBoundField
    live_waits_for: frozenset[str] = frozenset()
    """Required fields whose emptiness does not stop the whole-form check while typing."""

    def __init__(self, *args, live: bool = False, trigger: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.live, self.trigger = live, trigger
        self.notes: dict[str, str] = {}
        self.relaxed: set[str] = set()

    def _relax_unfilled(self) -> None:
        for name, f in self.fields.items():
            if f.required and name != self.trigger and self.data.get(name, "") == "":
                f.required = False
                self.relaxed.add(name)

    def live_messages(self) -> list[LiveMessage]:
        self._relax_unfilled()
        self.is_valid()
        out = []
        for name, f in self.fields.items():
            if f.widget.is_hidden:
                continue
            filled = name == self.trigger or self.data.get(name, "") != ""
            errs = self.errors.get(name) if filled else None
            kind, text = ("error", " ".join(errs)) if errs else ("ok", self.notes[name]) if (
                filled and name in self.notes) else ("", "")
            out.append(LiveMessage(name, kind, text, self.data.get(f"shown-{name}", "")))
        whole = self.non_field_errors() if self.relaxed <= self.live_waits_for else []
        out.append(LiveMessage(ALL, "error" if whole else "", " ".join(whole), self.data.get(f"shown-{ALL}", "")))
        return out


class MeasurementsMixin(LiveForm):
    """Height and weight as the command line takes them (`175`, `1.75m`, `5ft9in`; `80`, `154lb`):
    read by the library's own parsers, and what a unit was read as is said next to the field."""

    height_cm = forms.CharField(required=False, max_length=20, label="Height",
                                help_text="Centimetres (175), or with a unit: 1.75m, 69in, 5ft9in")
    weight_kg = forms.CharField(required=False, max_length=20, label="Weight",
                                help_text="Kilograms (80), or with a unit: 154lb, 3500g")
    bsa_m2 = forms.FloatField(required=False, label="BSA (m²), only if given directly")
    age_years = forms.FloatField(required=False, label="Age (years)")
    measured_on = forms.DateField(required=False, widget=DATE, label="Measured on")
    bsa_formula = forms.ChoiceField(choices=[(k, f.name) for k, f in FORMULAS.items()], initial=DEFAULT_FORMULA,
                                    label="BSA formula")

    def _quantity(self, name: str, parse, what: str, unit: str) -> float | None:
        raw = (self.cleaned_data.get(name) or "").strip()
        if not raw:
            return None
        try:
            q: Quantity = parse(raw, what)
        except RegimensError as exc:
            raise forms.ValidationError(str(exc)) from None
        self.quantities[name] = q
        if q.converted:
            self.notes[name] = f"read as {q.text(unit)}"
        return q.value

    def clean_height_cm(self):
        return self._quantity("height_cm", parse_height, "height", "cm")

    def clean_weight_kg(self):
        return self._quantity("weight_kg", parse_weight, "weight", "kg")

    @property
    def quantities(self) -> dict[str, Quantity]:
        if not hasattr(self, "_quantities"):
            self._quantities = {}
        return self._quantities

    def measurement_given(self) -> dict:
        """The measurement part of plans.plan.Given, with a converted unit kept as written."""
        c = self.cleaned_data
        h, w = self.quantities.get("height_cm"), self.quantities.get("weight_kg")
        return {"height_cm": c.get("height_cm"), "weight_kg": c.get("weight_kg"), "bsa_m2": c.get("bsa_m2"),
                "age_years": c.get("age_years"), "measured_on": c.get("measured_on"),
                "bsa_formula": c.get("bsa_formula") or None,
                "height_given": h.given if h and h.converted else None,
                "weight_given": w.given if w and w.converted else None}

    def check_measurements(self) -> bool:
        """The library's plausibility check of the measurements on their own (dosing.bsa), so a
        wrong height shows next to it before the start date or arm are chosen. False (and the
        message added to its field) when refused."""
        g = self.measurement_given()
        if all(g[k] is None for k in ("height_cm", "weight_kg", "bsa_m2", "age_years")):
            return True
        if self.live and g["bsa_m2"] is None and (g["height_cm"] is None) != (g["weight_kg"] is None):
            return True  # the other one is not typed yet: "height alone gives no BSA" would be premature
        try:
            Measurements(g["height_cm"], g["weight_kg"], g["bsa_m2"], g["age_years"], g["measured_on"],
                         g["bsa_formula"] or DEFAULT_FORMULA, height_given=g["height_given"],
                         weight_given=g["weight_given"])
        except RegimensError as exc:
            self.add_error(_field_for(str(exc), self.fields), str(exc))
            return False
        return True


class NewPlanForm(MeasurementsMixin):
    """Arm, choices and start of a new plan for one protocol, checked by compiling it."""

    start = forms.DateField(widget=DATE, label="Start (day 1 of the first element)")

    def __init__(self, pf: ProtocolFile, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pf = pf
        p = pf.protocol
        arms = [(a.label, f"{a.label}: {a.name}") for a in p.arms]
        self.fields = {"arm": forms.ChoiceField(choices=arms, label="Arm",
                                                initial=p.default_arm or (arms[0][0] if len(arms) == 1 else None)),
                       **self.fields}
        for name, d in p.decisions.items():
            choices = ([("", "— choose —")] if d.default is None else []) + [
                (c.value, c.label) for c in d.choices]
            self.fields[f"choice_{name}"] = forms.ChoiceField(
                choices=choices, initial=d.default, label=d.label, required=d.default is None,
                help_text=f"Default: {d.default or 'none, must be chosen'} — {d.why_default}")
        from regimens.web.clinic.languages import language_field

        self.fields["language"] = language_field()  # stored on the plan, not in the plan file
        self.plan: Plan | None = None

    def decision_fields(self):
        return [self[k] for k in self.fields if k.startswith("choice_")]

    def measurement_fields(self):
        return [self[k] for k in ("height_cm", "weight_kg", "bsa_m2", "age_years", "measured_on", "bsa_formula")]

    def given(self) -> Given:
        c = self.cleaned_data
        choices = {k.removeprefix("choice_"): v for k, v in c.items() if k.startswith("choice_") and v}
        return Given(start=c.get("start"), arm=c.get("arm"), choices=choices, **self.measurement_given())

    def clean(self):
        cleaned = super().clean()
        if self.errors or not self.check_measurements():
            return cleaned
        if self.live and self.relaxed:
            return cleaned  # the plan is compiled once arm, start and the decisions are all given
        try:
            plan = merge(None, self.pf, self.given())
            compile_plan(self.pf, plan)  # arm, choices, start: the compiler's own checks
        except RegimensError as exc:
            self.add_error(_field_for(str(exc), self.fields), str(exc))
            return cleaned
        self.plan = plan
        return cleaned


LIVE_REASON = "(reason not given yet)"
"""Stands in for the reason while the change is checked as it is typed (never saved: the submit
refuses a change without its reason)."""

CHANGE_KINDS = [
    ("actual_start", "Delay or bring forward a cycle (actual day 1)"),
    ("move", "Move a dose or day (and, by mode, the rest of its cycle or everything after)"),
    ("hold", "Hold a dose or cycle (may be given later)"),
    ("resume", "Resume what was held"),
    ("omit", "Omit a dose"),
    ("not_given", "Record a dose as not given"),
    ("cease", "Cease a drug or all treatment"),
    ("modify", "Modify a dose (e.g. 75% or -25%)"),
    ("measurements", "New measurements"),
]
MODES = [("dose", "only this dose or day"), ("cycle", "it and the rest of its cycle"),
         ("later", "it and everything after it")]


class ChangeForm(MeasurementsMixin):
    """One change to a plan, as the library's types (plans.plan.Given for delays, holds, omits,
    modifications and measurements; plans.changes for moves, ceases, resumes, not given), checked
    by plans.changes.preview, which also says what moves."""

    kind = forms.ChoiceField(choices=CHANGE_KINDS, label="Change")
    cycle = forms.ChoiceField(required=False, label="Cycle")
    selector = forms.CharField(required=False, max_length=120, label="Dose or day (cycle:day or cycle:day:drug)",
                               help_text="e.g. intensive.c2:3 or intensive.c2:3:vincristine; for a hold or omit,"
                                         " the cycle alone means every dose of that cycle")
    new_start = forms.DateField(required=False, widget=DATE, label="Date",
                                help_text="Actual day 1 of the cycle; the new date of a moved dose; the day"
                                          " treatment resumes; the first day a ceased drug is not given")
    at_time = forms.TimeField(required=False, label="New time (moves only, optional)",
                              widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    mode = forms.ChoiceField(choices=MODES, initial="dose", required=False, label="What moves with it")
    drug = forms.CharField(required=False, max_length=60, label="Drug (modification or cease; 'all' to cease"
                                                                " all treatment)")
    change = forms.CharField(required=False, max_length=40, label="Modification (75%, -25%, 1 mg, 750 mg/m2)")
    cease_why = forms.ChoiceField(required=False, label="Why ceased", choices=[("", "—")] + [
        (w, w.replace("-", " ")) for w in CEASE_WHY])
    reason = forms.CharField(max_length=300, label="Reason", widget=forms.TextInput)
    note = forms.CharField(required=False, max_length=500, label="Note (kept in the plan's history)")
    override = forms.CharField(required=False, max_length=300, label="Override (only when a rule allows one)",
                               help_text="'NAME: why' — lets through a protocol rule that allows a named override")
    base = forms.IntegerField(widget=forms.HiddenInput)
    previewed = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, pf: ProtocolFile, saved: Plan, cycles: list[tuple[str, str]], by: str, *args,
                 realiser=None, limits=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pf, self.saved, self.by = pf, saved, by
        self.realiser = realiser  # the service's memo of plans.changes.realise (saved revisions compile once)
        self.limits = limits  # the shipped lifetime limits, read once (None: the library reads them)
        self.fields["cycle"].choices = [("", "—")] + cycles
        self.fields["bsa_formula"].required = False
        self.outcome = None

    def _target(self) -> str:
        c = self.cleaned_data
        sel = (c.get("selector") or "").strip() or c.get("cycle")
        if not sel:
            raise forms.ValidationError("say which dose: a cycle, or cycle:day[:drug]")
        return sel

    def _date(self, what: str) -> date:
        d = self.cleaned_data.get("new_start")
        if d is None:
            raise forms.ValidationError(f"{what} needs the date")
        return d

    def parsed(self) -> tuple[Given, list]:
        """(plan values to merge, treatment changes) for the chosen kind."""
        c = self.cleaned_data
        kind, reason, by = c["kind"], (c.get("reason") or "").strip() or LIVE_REASON, self.by
        if kind == "actual_start":
            if not c.get("cycle"):
                raise forms.ValidationError("a delay needs the cycle")
            return Given(actual_starts={c["cycle"]: self._date("a delay")}), []
        if kind in ("hold", "omit"):
            return Given(**{kind: {self._target(): reason}}), []
        if kind == "modify":
            drug, change = (c.get("drug") or "").strip().lower(), (c.get("change") or "").strip()
            if not drug or not change:
                raise forms.ValidationError("a modification needs the drug and the change (e.g. 75%)")
            return Given(modifications=(PlanModification(drug=drug, change=change, from_cycle=c.get("cycle") or None,
                                                         reason=reason),)), []
        if kind == "measurements":
            return Given(**self.measurement_given()), []
        if kind == "move":
            at = c["at_time"].strftime("%H:%M") if c.get("at_time") else None
            return Given(), [Move(self._target(), self._date("a move"), at, c.get("mode") or "dose", reason, by,
                                  (c.get("override") or "").strip() or None)]
        if kind == "resume":
            return Given(), [Resume(self._target(), self._date("a resume"), reason, by, c.get("mode") or "dose")]
        if kind == "not_given":
            return Given(), [Administered(self._target(), False, None, None, None, by, None, reason)]
        drug = (c.get("drug") or "").strip().lower()
        if not drug or not c.get("cease_why"):
            raise forms.ValidationError("a cease needs the drug (or 'all') and why it is ceased")
        return Given(), [Cease(None if drug == "all" else drug, self._date("a cease"), c["cease_why"], reason, by)]

    live_waits_for = frozenset({"reason"})

    def clean(self):
        cleaned = super().clean()
        if self.errors or not self.check_measurements():
            return cleaned
        if not cleaned.get("reason", "").strip() and not (self.live and "reason" in self.relaxed):
            self.add_error("reason", "give the reason for the change")
            return cleaned
        try:
            g, changes = self.parsed()
            if not g.changes_anything() and not changes:
                raise forms.ValidationError("nothing to record: give a change")
            candidate = merge(self.saved, self.pf, g) if g.changes_anything() else self.saved
            if g.modifications:
                candidate.dosing()  # the library parses and checks the modification
            self.outcome = preview(self.pf, candidate, changes, base=self.saved,
                                   override=(cleaned.get("override") or "").strip() or None, by=self.by,
                                   realiser=self.realiser, limits=self.limits)
        except forms.ValidationError:
            raise
        except RegimensError as exc:
            self.add_error(_field_for(str(exc), self.fields), str(exc))
            return cleaned
        if same_content(self.outcome.plan, self.saved):
            self.add_error(None, "nothing to record: the plan already holds this")
        return cleaned


class AdministrationForm(forms.Form):
    """The nurse who is logged in gave the dose; a second person checks it with their password."""

    uid = forms.CharField(widget=forms.HiddenInput, max_length=80)
    dose_given = forms.CharField(max_length=120, label="Dose given")
    checker = forms.CharField(max_length=150, label="Second checker (user name)")
    checker_password = forms.CharField(widget=forms.PasswordInput, label="Second checker's password")
    note = forms.CharField(required=False, max_length=300, label="Note")

    def __init__(self, request, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.checker_user = None

    def clean(self):
        cleaned = super().clean()
        name, pw = cleaned.get("checker"), cleaned.get("checker_password")
        if not name or not pw:
            return cleaned
        if name == self.request.user.get_username():
            self.add_error("checker", "the second checker must be someone else")
            return cleaned
        user = authenticate(self.request, username=name, password=pw)
        if user is None or not (user.has_perm("clinic.record_administration") or user.has_perm("clinic.verify_plan")):
            self.add_error("checker_password", "the second checker's name or password is not right, or they"
                                               " are not a nurse or pharmacist")
            return cleaned
        self.checker_user = user
        return cleaned


class ImportForm(forms.Form):
    plan_file = forms.FileField(label="Plan file (.yaml made with `regimens plan new`)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from regimens.web.clinic.languages import language_field

        # a plan file has no patient language (it is not part of the verified schedule): asked
        # here as on the new-plan form, so an imported plan does not silently start in English
        self.fields["language"] = language_field()

    def clean_plan_file(self):
        f = self.cleaned_data["plan_file"]
        if f.size > 256 * 1024:
            raise forms.ValidationError("a plan file is a few kilobytes; this one is too large")
        try:
            text = f.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError("not a text file (UTF-8)") from None
        try:
            self.plan = load_plan(text, "the uploaded file")
        except RegimensError as exc:
            raise forms.ValidationError(str(exc)) from None
        return f


class SetupForm(forms.Form):
    username = forms.CharField(max_length=150)
    password1 = forms.CharField(widget=forms.PasswordInput, label="Password")
    password2 = forms.CharField(widget=forms.PasswordInput, label="Password again")

    def clean(self):
        from django.contrib.auth.password_validation import validate_password

        c = super().clean()
        if c.get("password1") != c.get("password2"):
            self.add_error("password2", "the two passwords differ")
        elif c.get("password1"):
            try:
                validate_password(c["password1"], get_user_model()(username=c.get("username", "")))
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return c


def today_local() -> date:
    from django.utils import timezone

    return timezone.localdate()
