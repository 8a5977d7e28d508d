"""End to end in Debian's Chromium (Playwright, system browser, no download): the real
`regimens serve` process on 127.0.0.1, a pharmacist creates a plan, is refused self-verification,
a second pharmacist verifies, the nurse PDF prints, a delay is recorded and the dates move, the
.ics is read back by a parser; axe-core finds no WCAG 2.2 A/AA violation on any page visited.

REGIMENS_SCREENSHOTS=1 also writes docs/images/service-*.png."""

from __future__ import annotations

import io
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from livesrv import manage, running

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PASSWORD = "e2e-long-password-1"

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")

USERS = f"""
from django.contrib.auth.models import Group, User
for name, role in (("ph1", "pharmacist"), ("ph2", "pharmacist"), ("nurse1", "nurse"), ("nurse2", "nurse")):
    u = User.objects.create_user(name, password="{PASSWORD}")
    u.groups.add(Group.objects.get(name=role))
"""


class Browser:
    def __init__(self, page, base: str, shots: bool):
        self.page, self.base, self.shots = page, base, shots
        self.checked: list[str] = []

    def go(self, path: str):
        self.page.goto(self.base + path)

    def axe(self, label: str):
        """Run axe-core (WCAG 2.0/2.1/2.2 A and AA rules) on the page as it is now."""
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate(
            "async () => await axe.run(document, {runOnly: {type: 'tag', values:"
            " ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})")
        problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
        assert problems == [], f"{label}: {problems}"
        self.checked.append(label)

    def shot(self, name: str):
        if self.shots:
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(DOCS_IMAGES / f"service-{name}.png"), full_page=True)

    def login(self, user: str):
        self.go("/login/")
        self.page.get_by_label("Username").fill(user)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()

    def logout(self):
        self.page.get_by_role("button", name="Sign out").click()


def test_pharmacists_verify_nurse_prints_delay_moves_dates(tmp_path):
    from ics_readers import all_parsers
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    manage(data, "migrate", "--verbosity", "0")
    manage(data, "shell", "-c", USERS)
    shots = os.environ.get("REGIMENS_SCREENSHOTS") == "1"
    start = date.today()
    with running(data, "--tz", "UTC") as (base, _out), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            ctx = browser.new_context(accept_downloads=True, bypass_csp=True, viewport={"width": 1280, "height": 900})
            b = Browser(ctx.new_page(), base, shots)
            page = b.page
            b.go("/login/")
            b.axe("login")
            b.shot("login")
            b.login("ph1")
            page.wait_for_url(re.compile(r"/patients/$"))
            page.get_by_role("link", name="Add a patient").click()
            b.axe("add patient")
            page.get_by_label("Display name").fill("Alex Example")
            page.get_by_label("Record number (optional)").fill("E2E-1")
            page.get_by_role("button", name="Add patient").click()
            page.wait_for_url(re.compile(r"/patients/[0-9a-f-]{36}/$"))
            b.axe("patient")
            page.get_by_role("link", name="New plan from a protocol").click()
            page.get_by_label("Protocol").select_option("nct03114865")
            page.get_by_role("button", name="Continue").click()
            page.get_by_label("Start (day 1 of the first element)").fill(start.isoformat())
            page.get_by_label("Height", exact=True).fill("1.75")  # metres: the library's check shows next to the field
            page.get_by_label("Weight", exact=True).fill("80")
            page.get_by_role("button", name=re.compile("Save plan")).click()
            assert "looks like metres" in page.locator("#f-height_cm .error").inner_text()
            b.axe("new plan with an error")
            b.shot("new-plan")
            page.get_by_label("Height", exact=True).fill("175")
            page.get_by_label("Age (years)").fill("45")
            page.get_by_role("button", name=re.compile("Save plan")).click()
            page.wait_for_url(re.compile(r"/plans/[0-9a-f-]{36}/$"))
            plan_url = page.url
            assert "NOT VERIFIED" in page.locator(".status").inner_text()
            b.axe("plan (draft)")
            # the author is refused
            page.get_by_role("button", name="Verify revision 1").click()
            assert "second pharmacist" in page.locator(".messages").inner_text()
            assert "NOT VERIFIED" in page.locator(".status").inner_text()
            b.logout()

            b.login("ph2")
            page.goto(plan_url)
            page.get_by_role("button", name="Verify revision 1").click()
            assert "verified by ph2" in page.locator(".status").inner_text()
            b.axe("plan (verified)")
            b.shot("plan")
            with page.expect_download() as dl:
                page.get_by_role("link", name="PDF").first.click()
            pdf = Path(dl.value.path()).read_bytes()
            text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
            assert pdf.startswith(b"%PDF") and "Alex Example" in text and "NOT VERIFIED" not in text
            for name in ("Month", "Dose working", "Protocol"):
                page.goto(plan_url)
                page.get_by_role("link", name=name, exact=True).click()
                b.axe(name)
                b.shot(name.lower().replace(" ", "-"))

            # a delay of cycle 2 by one week, previewed, saved, then verified by the other pharmacist
            c2_before = start + timedelta(days=42)  # 28-day infusion + 14 days rest
            page.goto(plan_url)
            page.get_by_role("link", name="Record a change").click()
            page.get_by_label("Change").select_option("actual_start")
            page.get_by_label("Cycle", exact=True).select_option("maintenance.c2")
            new_c2 = c2_before + timedelta(days=7)
            page.get_by_label("Date", exact=True).fill(new_c2.isoformat())
            page.get_by_label("Reason").fill("neutropenia")
            page.get_by_role("button", name="Preview what moves").click()
            preview = page.locator(".preview").inner_text()
            assert f"{c2_before.isoformat()}" in preview and new_c2.isoformat() in preview
            b.axe("change preview")
            b.shot("change-preview")
            page.get_by_role("button", name="Save as revision 2").click()
            page.wait_for_url(plan_url)
            assert "NOT VERIFIED" in page.locator(".status").inner_text()
            b.logout()
            b.login("ph1")
            page.goto(plan_url)
            page.get_by_role("button", name="Verify revision 2").click()
            assert "verified by ph1" in page.locator(".status").inner_text()
            page.goto(plan_url + "?cycle=maintenance.c2")
            dates = page.locator("table.events tbody tr td:first-child").all_inner_texts()
            assert dates and dates[0].startswith(new_c2.isoformat())
            with page.expect_download() as dl:
                page.get_by_role("link", name="Calendar file (.ics)").click()
            ics = Path(dl.value.path()).read_bytes()
            b.go("/patients/")
            b.axe("patients")
            b.shot("patients")
            page.get_by_role("link", name="Alex Example").click()
            page.get_by_role("link", name="Audit trail for this patient").click()
            b.axe("audit")
            b.shot("audit")
            b.logout()

            b.login("nurse1")
            page.wait_for_url(re.compile(r"/today/$"))
            assert "Alex Example" in page.locator("table.events").inner_text()
            page.locator("summary").first.click()
            b.axe("today")
            b.shot("today")
            form = page.locator("form.admin-form").first
            form.get_by_label("Second checker (user name)").fill("nurse2")
            form.get_by_label("Second checker's password").fill(PASSWORD)
            form.get_by_role("button", name="Record").click()
            assert "recorded as given" in page.locator(".messages").inner_text()
        finally:
            browser.close()

    # the .ics, read back by three independent parsers: cycle 2 starts on the new day
    for name, occ in all_parsers(ics).items():
        starts = {(s.date() if hasattr(s, "hour") else s) for _uid, s, _e in occ}
        assert new_c2 in starts and c2_before not in starts, name
    assert "Alex Example" not in ics.decode()  # no patient name in a calendar unless asked
    assert len(b.checked) >= 12
