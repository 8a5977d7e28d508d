"""Check-as-you-type (clinic/live.py): the answer to each change is the library's own message for
each field whose message changed (the same parse_height/parse_weight, Measurements and compile
checks as `regimens plan new` and as the submit), as htmx out-of-band swaps into the field's
aria-live region; no script, nothing saved, nothing audited; the submit stays the authority."""

from __future__ import annotations

import html
import re

import pytest
from conftest import NEW_PLAN
from django.urls import reverse

from regimens.dosing.measurements import parse_height
from regimens.errors import RegimensError
from regimens.plans.plan import load_plan
from regimens.web.clinic.models import AuditEntry, TreatmentPlan

pytestmark = pytest.mark.django_db
SWAP = re.compile(r'<p id="([^"]+)" hx-swap-oob="innerHTML">(.*?)<input type="hidden" name="shown-([^"]+)" '
                  r'value="([^"]*)"></p>', re.S)


def check(client, url, data, trigger):
    r = client.post(url, data, headers={"HX-Request": "true", "HX-Trigger": f"f-{trigger}"})
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    body = r.content.decode()
    assert "<script" not in body
    return {m[0]: (html.unescape(re.sub(r"<[^>]+>", "", m[1])), html.unescape(m[3])) for m in SWAP.findall(body)}


def _new(patient):
    return reverse("plan_new_check", args=[patient.id])


def test_a_height_in_feet_is_read_by_the_library_and_said_next_to_the_field(as_user, patient):
    c = as_user("ph1")
    got = check(c, _new(patient), {"protocol": "nct03114865", "height_cm": "5ft9in"}, "height_cm")
    # 69 in x 2.54 = 175.26 cm, exactly as the command line reads it
    assert parse_height("5ft9in").value == 175.26
    assert got["id_height_cm_live"][0] == "read as 175.26 cm (given as 5 ft 9 in)"
    # nothing typed yet in start or the decisions: no message there (not "required" at once)
    assert "id_start_live" not in got and "live-all" not in got


def test_library_messages_land_next_to_their_field_before_the_start_is_given(as_user, patient):
    c = as_user("ph1")
    got = check(c, _new(patient), {"protocol": "nct03114865", "height_cm": "1.75", "weight_kg": "80"}, "weight_kg")
    assert "looks like metres" in got["id_height_cm_live"][0]
    got = check(c, _new(patient), {"protocol": "nct03114865", "weight_kg": "80,5"}, "weight_kg")
    with pytest.raises(RegimensError) as exc:
        from regimens.dosing.measurements import parse_weight
        parse_weight("80,5", "weight")
    assert got["id_weight_kg_live"][0] == str(exc.value)  # the library's words, unchanged
    got = check(c, _new(patient), {"protocol": "nct03114865", "weight_kg": "154lb"}, "weight_kg")
    assert got["id_weight_kg_live"][0] == "read as 69.85 kg (given as 154 lb)"


def test_the_field_just_left_empty_says_so_and_unchanged_messages_are_not_sent_again(as_user, patient):
    c = as_user("ph1")
    got = check(c, _new(patient), {"protocol": "nct03114865", "start": ""}, "start")
    text, token = got["id_start_live"]
    assert text == "This field is required."
    again = check(c, _new(patient), {"protocol": "nct03114865", "start": "", "shown-start": token}, "start")
    assert "id_start_live" not in again  # a screen reader hears it once
    fixed = check(c, _new(patient), {"protocol": "nct03114865", "start": "2027-01-04", "shown-start": token}, "start")
    assert fixed["id_start_live"] == ("", "")  # cleared


def test_a_complete_form_is_compiled_and_a_compile_error_is_shown(as_user, patient):
    c = as_user("ph1")
    ok = check(c, _new(patient), {**NEW_PLAN}, "start")
    assert all(kind == "" for kind, _t in [(t.split(":")[0] if t else "", t) for _x, t in ok.values()]), ok
    bad = check(c, _new(patient), {**NEW_PLAN, "arm": "Z"}, "arm")
    assert bad["id_arm_live"][0]  # the arm's refusal, next to the arm


def test_the_live_check_saves_and_audits_nothing_and_needs_the_author_role(as_user, patient):
    n = AuditEntry.objects.count()
    check(as_user("ph1"), _new(patient), {**NEW_PLAN}, "start")
    assert TreatmentPlan.objects.count() == 0 and AuditEntry.objects.count() == n
    assert as_user("nurse").post(_new(patient), NEW_PLAN).status_code == 403
    assert as_user("ph1").get(_new(patient)).status_code == 405


def test_the_submit_takes_units_as_the_command_line_does(as_user, patient):
    c = as_user("ph1")
    r = c.post(reverse("plan_new", args=[patient.id]), {**NEW_PLAN, "height_cm": "5ft9in", "weight_kg": "154lb"})
    assert r.status_code == 302
    m = load_plan(TreatmentPlan.objects.get().revisions.get().plan_text, "x").measurements
    assert (m.height_cm, m.height_given, m.weight_kg, m.weight_given) == (175.26, "5 ft 9 in", 69.85, "154 lb")
    # the authority: a wrong value is refused on submit with the same words, whatever the page showed
    r = c.post(reverse("plan_new", args=[patient.id]), {**NEW_PLAN, "height_cm": "5ft13in"})
    assert r.status_code == 200 and "13 inches is a foot or more" in r.content.decode()


def test_the_change_form_is_checked_as_it_is_filled_in(verified_plan, as_user):
    c = as_user("ph1")
    url = reverse("plan_change_check", args=[verified_plan.id])
    base = {"base": "1", "kind": "actual_start", "cycle": "maintenance.c2", "bsa_formula": ""}
    # no reason typed yet: the library still checks the delay; the reason is asked for on submit
    ok = check(c, url, {**base, "new_start": "2027-03-22"}, "new_start")
    assert ok.get("live-all", ("", ""))[0] == "" and ok.get("id_reason_live", ("", ""))[0] == ""
    got = check(c, url, {**base, "kind": "measurements", "weight_kg": "154lb"}, "weight_kg")
    assert got["id_weight_kg_live"][0] == "read as 69.85 kg (given as 154 lb)"
    got = check(c, url, {**base, "kind": "modify", "drug": "blinatumomab", "change": "75 percent"}, "change")
    assert got["live-all"][0]  # the library's refusal of the modification text
    assert as_user("nurse").post(url, base).status_code == 403


def test_the_pages_wire_fields_to_their_live_regions(as_user, patient, verified_plan):
    c = as_user("ph1")
    for url in (reverse("plan_new", args=[patient.id]) + "?protocol=nct03114865",
                reverse("plan_change", args=[verified_plan.id])):
        body = c.get(url).content.decode()
        assert "<script>" not in body and 'hx-post="' in body and 'id="live-all" aria-live="polite"' in body
        assert re.search(r'aria-describedby="id_weight_kg_helptext id_weight_kg_live"', body)
        assert 'id="id_weight_kg_live" aria-live="polite"' in body
