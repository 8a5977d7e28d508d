"""Benchmark: calendar feeds under polling load, against a floor run side by side.

10,000 feeds (over --plans verified plans) are polled by 200 concurrent clients on 127.0.0.1 the
way calendar apps poll: a new connection per request, a conditional GET with the ETag they kept
(--stale of them hold an old one and get the full calendar). Measured twice, alternately:

  service  `regimens serve` (Django, waitress, SQLite): token lookup, release check, cached
           bytes per verified revision, access log — the real thing;
  floor    bare waitress with the same number of threads answering from a dict through the same
           `regimens.exporters.feed` functions: what HTTP on this machine costs at best.

    python bench/feeds_load.py [--feeds 10000] [--plans 200] [--clients 200] [--seconds 20]

Prints requests per second, latency percentiles and status counts for both, their ratio, and
whether any schedule was built during the measured runs (it must not be: a poll is answered from
the cached bytes). Everything listens on 127.0.0.1, runs for a bounded time and is stopped by
process id.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HOST = "127.0.0.1"


# --- populating a service database -----------------------------------------------------------------

def populate(data_dir: Path, n_plans: int, n_feeds: int) -> list[str]:
    """One plan made and verified through the pages, cloned to n_plans verified plans (each its
    own UIDs, so its own bytes), and n_feeds tokens spread over them. Returns the tokens."""
    os.environ.update(server_env(data_dir))
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", interactive=False, verbosity=0)
    from regimens.web.clinic.models import Patient, Revision, TreatmentPlan
    from regimens.web.feeds.models import FeedToken
    from regimens.web.feeds.tokens import new_token

    users = []
    for name in ("bench-ph1", "bench-ph2"):
        u = User.objects.create_user(name, password=None)
        u.groups.add(Group.objects.get(name="pharmacist"))
        users.append(u)
    patient = Patient.objects.create(display_name="Bench Patient")
    c1, c2 = Client(), Client()
    c1.force_login(users[0])
    c2.force_login(users[1])
    r = c1.post(f"/patients/{patient.id}/plans/new/", {
        "protocol": "nct03114865", "arm": "1", "start": "2027-01-04", "choice_cycles": "2", "height_cm": "175",
        "weight_kg": "80", "age_years": "45", "bsa_formula": "mosteller"}, HTTP_HOST="127.0.0.1")
    assert r.status_code == 302, r.content[:500]
    tp = TreatmentPlan.objects.get()
    rev = tp.revisions.get()
    r = c2.post(f"/plans/{tp.id}/verify/", {"revision": str(rev.id)}, HTTP_HOST="127.0.0.1")
    assert r.status_code == 302
    rev.refresh_from_db()
    plans = [tp]
    for _ in range(n_plans - 1):
        clone = TreatmentPlan.objects.create(patient=patient, protocol_id=tp.protocol_id, created_by=users[0],
                                             latest_number=1)
        r2 = Revision.objects.create(plan=clone, number=1, plan_text=rev.plan_text, timeline_digest=rev.timeline_digest,
                                     protocol_hash=rev.protocol_hash, snapshot=rev.snapshot, author=users[0],
                                     verified_by=users[1], verified_at=rev.verified_at,
                                     verified_digest=rev.verified_digest)
        clone.released = r2
        clone.save(update_fields=["released"])
        plans.append(clone)
    tokens, rows = [], []
    for i in range(n_feeds):
        token, digest = new_token()
        tokens.append(token)
        rows.append(FeedToken(plan=plans[i % len(plans)], token_hash=digest, audience="full", created_by=users[0]))
    FeedToken.objects.bulk_create(rows, batch_size=1000)
    from django.db import connections

    connections.close_all()
    return tokens


def server_env(data_dir: Path) -> dict:
    return {"REGIMENS_DATA_DIR": str(data_dir), "REGIMENS_DATABASE_URL": f"sqlite:///{data_dir / 'db.sqlite3'}",
            "REGIMENS_SECRET_KEY": "bench-" + "k" * 44, "DJANGO_SETTINGS_MODULE": "regimens.web.settings",
            "REGIMENS_TZ": "America/Chicago", "REGIMENS_ALLOWED_HOSTS": "127.0.0.1"}


def start_service(data_dir: Path, threads: int) -> tuple[subprocess.Popen, int]:
    exe = str(Path(sys.executable).with_name("regimens"))
    env = {**os.environ, **server_env(data_dir)}
    proc = subprocess.Popen([exe, "serve", "--host", HOST, "--port", "0", "--data-dir", str(data_dir), "--no-migrate",
                             "--threads", str(threads)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = re.search(r"listening on http://[^:]+:(\d+)/", line)
        if m:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
            return proc, int(m.group(1))
        if not line and proc.poll() is not None:
            break
    stop(proc)
    raise SystemExit("regimens serve did not start")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


# --- the floor: bare waitress, same feed functions -------------------------------------------------

def floor_app(bodies: dict[str, tuple[bytes, str]]):
    from datetime import UTC, datetime

    from regimens.exporters.feed import precheck, respond

    modified = datetime(2027, 1, 1, tzinfo=UTC)

    def app(environ, start_response):
        token = environ["PATH_INFO"].removeprefix("/feeds/").removesuffix(".ics")
        hit = bodies.get(token)
        if hit is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no\n"]
        body, digest = hit
        headers = {k[5:].replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        fr = precheck(digest, modified, environ["REQUEST_METHOD"], headers, size=len(body)) or respond(
            body, modified, environ["REQUEST_METHOD"], headers, digest=digest)
        start_response(f"{fr.status} {'OK' if fr.status == 200 else 'Not Modified'}", list(fr.headers))
        return [fr.body]

    return app


def start_floor(bodies, threads: int):
    import logging

    import waitress

    logging.getLogger("waitress").setLevel(logging.ERROR)  # "task queue depth" notes under load

    server = waitress.create_server(floor_app(bodies), host=HOST, port=0, threads=threads)
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    return server, server.effective_port


# --- clients -------------------------------------------------------------------------------------

async def one(port: int, path: str, etag: str | None) -> tuple[int, str | None, float]:
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection(HOST, port)
    cond = f"If-None-Match: {etag}\r\n" if etag else ""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: feeds-load\r\n{cond}Connection: close\r\n\r\n"
                 .encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, _ = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    tag = next((ln.split(":", 1)[1].strip() for ln in lines[1:] if ln.lower().startswith("etag:")), None)
    return status, tag, time.perf_counter() - t0


async def load(port: int, tokens: list[str], etags: dict[str, str], clients: int, seconds: float, stale: float):
    lat: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + seconds
    rnd = random.Random(7)

    async def client():
        while time.monotonic() < deadline:
            t = rnd.choice(tokens)
            tag = '"stale"' if rnd.random() < stale else etags.get(t)
            try:
                status, _, dt = await one(port, f"/feeds/{t}.ics", tag)
            except OSError:
                status, dt = 599, 0.0
            statuses[status] = statuses.get(status, 0) + 1
            lat.append(dt)

    t0 = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.monotonic() - t0
    lat.sort()
    q = statistics.quantiles(lat, n=100) if len(lat) > 100 else [0.0] * 99
    return {"requests": len(lat), "rps": len(lat) / wall, "p50": q[49] * 1000, "p95": q[94] * 1000,
            "p99": q[98] * 1000, "statuses": dict(sorted(statuses.items()))}


async def warm(port: int, tokens: list[str], concurrency: int = 4) -> dict[str, str]:
    """One unconditional GET per feed (builds each plan's bytes once); returns token → ETag."""
    etags: dict[str, str] = {}
    queue = list(tokens)

    async def worker():
        while queue:
            t = queue.pop()
            status, tag, _ = await one(port, f"/feeds/{t}.ics", None)
            if status != 200:
                raise SystemExit(f"warm-up GET answered {status}")
            etags[t] = tag

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return etags


def fetch_bodies(port: int, tokens: list[str]) -> dict[str, tuple[bytes, str]]:
    """The service's bytes of each plan's feed, for the floor to serve the same sizes."""
    import hashlib
    import http.client

    out = {}
    for t in tokens:
        c = http.client.HTTPConnection(HOST, port, timeout=60)
        c.request("GET", f"/feeds/{t}.ics")
        body = c.getresponse().read()
        c.close()
        out[t] = (body, hashlib.sha256(body).hexdigest())
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=10_000)
    ap.add_argument("--plans", type=int, default=200)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--stale", type=float, default=0.02, help="share of polls with an old ETag (full body)")
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="feeds-load-") as tmp:
        data = Path(tmp)
        t0 = time.monotonic()
        tokens = populate(data, args.plans, args.feeds)
        print(f"populated {args.feeds} feeds over {args.plans} verified plans in {time.monotonic() - t0:.0f} s")
        proc, port = start_service(data, args.threads)
        floor = None
        try:
            t0 = time.monotonic()
            etags = asyncio.run(warm(port, tokens))
            print(f"warm-up: one GET per feed ({args.feeds}), {args.plans} calendars built, "
                  f"{time.monotonic() - t0:.0f} s")
            from django.db import connections

            from regimens.web.feeds.models import FeedAccess, FeedBody

            built_before = FeedBody.objects.count()
            per_plan = tokens[: args.plans]
            bodies = fetch_bodies(port, per_plan)
            floor_tokens = {t: bodies[tokens[i % args.plans]] for i, t in enumerate(tokens)}
            floor, floor_port = start_floor(floor_tokens, args.threads)
            results: dict[str, list[dict]] = {"service": [], "floor": []}
            for _ in range(args.rounds):
                for name, p in (("floor", floor_port), ("service", port)):
                    results[name].append(asyncio.run(load(p, tokens, etags, args.clients, args.seconds,
                                                          args.stale)))
            time.sleep(3)  # let the batched access log reach the database
            built_after = FeedBody.objects.count()
            logged = FeedAccess.objects.count()
            connections.close_all()
        finally:
            stop(proc)
            if floor is not None:
                floor.close()
    size = statistics.mean(len(b) for b, _ in bodies.values())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{args.feeds} feeds, {args.clients} concurrent clients, new connection per request, "
          f"{args.stale:.0%} stale ETags; calendar {size / 1000:.0f} kB; {args.seconds:.0f} s per run")
    print(f"{'run':<10}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  statuses")
    for name in ("floor", "service"):
        for r in results[name]:
            print(f"{name:<10}{r['requests']:>10}{r['rps']:>9.0f}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['p99']:>9.1f}  "
                  f"{r['statuses']}")
    s = statistics.mean(r["rps"] for r in results["service"])
    f = statistics.mean(r["rps"] for r in results["floor"])
    s95 = statistics.mean(r["p95"] for r in results["service"])
    f95 = statistics.mean(r["p95"] for r in results["floor"])
    print(f"service/floor: throughput {s / f:.2f}x, p95 {s95 / f95:.2f}x")
    print(f"calendars built during the measured runs: {built_after - built_before} (must be 0); "
          f"access log rows written: {logged}")


if __name__ == "__main__":
    main()
