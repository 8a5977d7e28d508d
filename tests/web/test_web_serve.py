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
from pathlib import Path

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


def _children(pid: int) -> set[int]:
    out = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        out |= {int(c) for c in (task / "children").read_text().split()}
    return out


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the process tree from /proc (Linux)")
def test_workers_start_several_processes_that_share_sessions_and_stop_by_pid(tmp_path):
    import os
    import signal
    import time

    from livesrv import server_env

    pytest.importorskip("gunicorn")
    data = tmp_path / "data"
    proc = subprocess.Popen([REGIMENS, "serve", "--port", "0", "--data-dir", str(data), "--workers", "2",
                             "--threads", "2", "--insecure-cookies"], env=server_env(data), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out = ""
        deadline = time.monotonic() + 120
        while "listening on" not in out and time.monotonic() < deadline and proc.poll() is None:
            out += proc.stdout.readline()
        assert "listening on" in out and "2 processes" in out, out
        base = re.search(r"listening on (http://127\.0\.0\.1:\d+)/", out).group(1)
        link = re.search(r"(http://\S+/setup/\S+/)", out).group(1)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(link, timeout=60).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "chief",
                                       "password1": "a-long-admin-passphrase", "password2": "a-long-admin-passphrase"})
        opener.open(urllib.request.Request(link, data=body.encode(), headers={"Referer": link}), timeout=60)
        deadline = time.monotonic() + 60
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = _children(proc.pid)
        assert len(workers) == 2
        # every request is a new connection, so both workers serve this session (shared database)
        for _ in range(8):
            resp = opener.open(base + "/admin/", timeout=60)
            assert resp.status == 200 and resp.geturl().endswith("/admin/")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == 0
    for pid in workers:  # the workers went with their master
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_workers_without_gunicorn_is_one_line_exit_2(tmp_path):
    code = ("import sys; sys.modules['gunicorn'] = None; from regimens.cli import main;"
            f" sys.exit(main(['serve', '--workers', '2', '--data-dir', {str(tmp_path)!r}]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "gunicorn" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "regimens.sqlite3").exists()
