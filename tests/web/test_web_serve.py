"""`regimens serve` as a user starts it: first start creates the database and prints a one-time
link for the first administrator; files are private; bad options are one line and exit 2; the
command-line help does not import Django."""

from __future__ import annotations

import http.cookiejar
import re
import stat
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest
from livesrv import REGIMENS, running


def test_help_does_not_import_the_service():
    out = subprocess.run([sys.executable, "-X", "importtime", "-c",
                          "from regimens.cli import main; main(['--help'])"], capture_output=True, text=True, check=True)
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if "|" in line}
    assert not {m for m in imported if m.split(".")[0] in ("django", "waitress", "whitenoise", "axes", "csp")}


def test_bad_database_url_is_one_line_exit_2(tmp_path):
    r = subprocess.run([REGIMENS, "serve", "--data-dir", str(tmp_path), "--database", "mysql://x@y/z"],
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "postgresql://" in r.stderr
    assert "Traceback" not in r.stderr


def test_first_start_prints_a_one_time_admin_link(tmp_path):
    data = tmp_path / "data"
    with running(data, "--insecure-cookies") as (base, out):
        link = re.search(r"(http://\S+/setup/\S+/)", out).group(1)
        assert link.startswith(base)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(link, timeout=30).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "chief",
                                       "password1": "a-long-admin-passphrase", "password2": "a-long-admin-passphrase"})
        req = urllib.request.Request(link, data=body.encode(), headers={"Referer": link})
        resp = opener.open(req, timeout=30)
        assert resp.geturl().endswith("/admin/")
        # the link works once
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(link, timeout=30)
        assert err.value.code == 404
    for f in ("regimens.sqlite3", "secret_key"):
        assert stat.S_IMODE((data / f).stat().st_mode) == 0o600, f
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    # second start: an administrator exists, no link
    with running(data, "--insecure-cookies") as (_base, out):
        assert "/setup/" not in out


@pytest.mark.django_db
def test_tests_run_on_the_database_asked_for():
    # .ci/run runs tests/web a second time with REGIMENS_DATABASE_URL=postgresql://... (throw-away cluster)
    import os

    from django.db import connection

    want = "postgresql" if os.environ.get("REGIMENS_DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == want
