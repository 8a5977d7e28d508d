"""Load on the clinic service (run by hand: python bench/service_load.py [--patients N] [--users N]).

Seeds a throw-away SQLite database (or REGIMENS_BENCH_DATABASE_URL, e.g. a PostgreSQL database
made for it) with 10,000 patients, each with a verified plan (a fifth of them on the longest
shipped protocol, NCT02877303: 24 cycles, about 1,800 events), starts `regimens serve` on
127.0.0.1 with a free port, and lets 20 concurrent users sign in, browse, record changes
(preview, then save) and verify each other's changes for a bounded number of rounds. Prints
p50/p95 per page type, the number of failed requests, the CPU seconds the server's processes
used and the machine's load average; the server is stopped by its process id at the end.

A user is a pharmacist at work, not a request generator: between two clicks they read the page
or fill the form for `--think` seconds on average (uniform between half and one and a half
times it; default 5 s). Each round: verify one change another user saved (its plan page, then
the verification), search for a patient, open a plan page, a plan page of the longest protocol
at some cycle, a month view and a dose working, then record a change on one of their own plans
(the change form, a preview, the save of what was previewed). `--think 1` is a stress mix (about
five times the requests of 20 such people). docs/performance.md states these assumptions.

Users arrive over the first `--ramp` seconds (a clinic's staff do not all sign in in the same
second) and sign in once per session, then browse; sign-in (PBKDF2, deliberately slow) is
reported on its own line and is not in any page's figures.

`--workers N` runs `regimens serve --workers N` (`--workers 1,2`: one run each); `--baseline SRC`
(a checkout's src/ folder, e.g. of main before this change) first runs the same users against a
server from SRC on a copy of the same seeded database, so both runs see the same data and about
the same machine load. Before the servers, an in-process pass (`--cpu-rounds`, Django's test
client in a child process per tree) times each page type with the thread's CPU clock: what a
request costs the server, the figure a loaded machine moves least.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from datetime import date
from pathlib import Path

PASSWORD = "bench-long-password-1"
LOCK = threading.Lock()
LONGEST = "nct02877303"
OTHERS = ("nct03114865", "nct03739814")


def seed(data: Path, patients: int, users: int) -> dict:
    os.environ.update(env(data))
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.utils import timezone

    from regimens.plans.plan import Given, merge
    from regimens.plans.verification import compile_plan, timeline_digest
    from regimens.web.clinic import service
    from regimens.web.clinic.models import Patient, Revision, RevisionCycle, SheetRow, TreatmentPlan

    call_command("migrate", verbosity=0)
    pharm = Group.objects.get(name="pharmacist")
    people = []
    for i in range(users + 1):
        u = User.objects.create_user(f"ph{i}", password=PASSWORD)
        u.groups.add(pharm)
        people.append(u)
    verifier = people[-1]
    templates = {}
    for pid in (LONGEST, *OTHERS):
        pf = service.protocol(pid)
        plan = merge(None, pf, Given(start=date(2027, 1, 4), height_cm=175, weight_kg=80, age_years=45,
                                     arm="1"))
        tl = compile_plan(pf, plan)
        from regimens.plans.plan import dump_plan

        templates[pid] = (dump_plan(plan).decode(), timeline_digest(tl), tl.content_hash,
                          service._header_bytes(tl), tl)
    now = timezone.now()
    pts = Patient.objects.bulk_create([Patient(display_name=f"Patient {i:05d}", record_number=f"B{i:05d}")
                                       for i in range(patients)], batch_size=2000)
    plans, revs, owner = [], [], {}
    for i, p in enumerate(pts):
        pid = LONGEST if (i // users) % 5 == 0 else OTHERS[i % 2]
        author = people[i % users]
        tp = TreatmentPlan(patient=p, protocol_id=pid, created_by=author, latest_number=1)
        text, digest, chash, snap, _tl = templates[pid]
        rev = Revision(plan=tp, number=1, plan_text=text, timeline_digest=digest, protocol_hash=chash, snapshot=snap,
                       note="seeded", author=author, verified_by=verifier, verified_at=now, verified_digest=digest)
        tp.released = rev
        plans.append(tp)
        revs.append(rev)
        owner.setdefault(author.username, []).append((str(tp.id), pid))
    for tp in plans:
        tp.released = None
    TreatmentPlan.objects.bulk_create(plans, batch_size=2000)
    Revision.objects.bulk_create(revs, batch_size=500)
    for tp, rev in zip(plans, revs, strict=True):
        tp.released = rev
    TreatmentPlan.objects.bulk_update(plans, ["released"], batch_size=2000)
    cyc = {pid: service._cycle_rows(revs[0], t[4]) for pid, t in templates.items()}
    RevisionCycle.objects.bulk_create([
        RevisionCycle(revision=rev, seq=c.seq, cycle_id=c.cycle_id, phase=c.phase, number=c.number, first=c.first,
                      last=c.last, count=c.count, events=c.events)
        for tp, rev in zip(plans, revs, strict=True) for c in cyc[tp.protocol_id]], batch_size=2000)
    # the nurses' index only for the shorter protocols (the long one adds ~1,000 rows per plan)
    rows = []
    for tp, rev in zip(plans, revs, strict=True):
        if tp.protocol_id != LONGEST:
            for e in templates[tp.protocol_id][4].administrations():
                rows.append(SheetRow(revision=rev, plan=tp, uid=e.uid, date=e.date, time=e.time, kind=e.kind,
                                     title=e.title, cycle_id=e.cycle_id, day=e.day))
    SheetRow.objects.bulk_create(rows, batch_size=5000)
    return owner


def env(data: Path) -> dict:
    return {"REGIMENS_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "regimens.web.settings",
            "REGIMENS_DATABASE_URL": os.environ.get("REGIMENS_BENCH_DATABASE_URL")
            or f"sqlite:///{data / 'regimens.sqlite3'}", "REGIMENS_SECRET_KEY": "bench-" + "k" * 44}


class User:
    def __init__(self, base: str, name: str, plans: list, stats, failures, deadline: float, think: float,
                 arrive: float = 0.0, pending: list | None = None):
        self.base, self.name, self.plans, self.stats, self.failures = base, name, plans, stats, failures
        self.pending = pending if pending is not None else []  # (author, plan id): changes awaiting a second check
        self.deadline, self.think, self.arrive = deadline, think, arrive
        self.rng = random.Random("think" + name)
        self.jar = http.cookiejar.CookieJar()
        self.http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.refused = 0
        self.verified = self.refused_verify = 0

    def req(self, kind: str, path: str, data: dict | None = None, expect=(200, 302)) -> str:
        if self.think:  # a person reads the page (or fills the form) before the next click
            time.sleep(self.rng.uniform(0.5, 1.5) * self.think)
        url = self.base + path
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        r = urllib.request.Request(url, data=body, headers={"Referer": url})
        t = time.perf_counter()
        try:
            with self.http.open(r, timeout=60) as resp:
                text = resp.read().decode("utf-8", "replace")
                code = resp.status
        except urllib.error.HTTPError as exc:
            text, code = exc.read().decode("utf-8", "replace"), exc.code
        except OSError as exc:
            text, code = str(exc), 0
        self.stats[kind].append((time.perf_counter() - t) * 1000)
        if code not in expect:
            why = re.findall(r'<p class="error"[^>]*>([^<]+)</p>|<div class="error" role="alert">\s*<p>([^<]+)', text)
            self.failures.append((kind, path, code, why[:2]))
            if os.environ.get("BENCH_DEBUG"):
                Path(os.environ["BENCH_DEBUG"]).write_text(f"{data}\n{text}")
        return text

    @staticmethod
    def token(html: str) -> str:
        m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        return m.group(1) if m else ""

    def run(self, rounds: int) -> None:
        time.sleep(self.arrive)
        page = self.req("login page", "/login/")
        self.req("sign in", "/login/", {"csrfmiddlewaretoken": self.token(page), "username": self.name,
                                        "password": PASSWORD})
        rng = random.Random(self.name)
        longest = [p for p in self.plans if p[1] == LONGEST]
        for _ in range(rounds):
            if time.monotonic() > self.deadline:
                break
            self.verify_one()
            self.req("patients search", "/patients/?q=" + urllib.parse.quote(f"Patient {rng.randrange(10000):05d}"))
            pid, proto = rng.choice(self.plans)
            self.req("plan page (longest protocol)" if proto == LONGEST else "plan page", f"/plans/{pid}/")
            lp = rng.choice(longest)[0]
            self.req("plan page (longest protocol)", f"/plans/{lp}/?cycle=maintenance.c{rng.randrange(1, 16)}")
            self.req("month view", f"/plans/{pid}/month/?month=2027-0{rng.randrange(1, 10)}")
            self.req("dose working", f"/plans/{pid}/working/")
            # a change on one of this user's own plans: preview, then save what was previewed
            cid, _proto = rng.choice(self.plans)
            form = self.req("change form", f"/plans/{cid}/change/")
            base = re.search(r'name="base" value="(\d+)"', form)
            cycle = re.findall(r'<option value="([a-z0-9_.-]+\.c\d+)"', form)
            if not base or not cycle:
                self.failures.append(("change form", cid, "no form"))
                continue
            # hold one day of a cycle (a day with no dose is refused by the library: try another)
            for _try in range(6):
                data = {"csrfmiddlewaretoken": self.token(form), "kind": "hold", "mode": "dose",
                        "selector": f"{rng.choice(cycle)}:{rng.choice((1, 1, 8, 15))}", "reason": "bench",
                        "base": base.group(1), "action": "preview", "bsa_formula": ""}
                pv = self.req("change preview", f"/plans/{cid}/change/", data)
                prev = re.search(r'name="previewed" value="([0-9a-f]{64})"', pv)
                if prev:
                    break
                self.refused += 1
            else:
                continue
            data.update(action="save", previewed=prev.group(1), csrfmiddlewaretoken=self.token(pv))
            # urllib follows the redirect to the plan page, which confirms the save
            done = self.req("change save", f"/plans/{cid}/change/", data)
            if "saved: awaiting verification" not in done:
                self.failures.append(("change save", cid, "not saved"))
            else:
                with LOCK:
                    self.pending.append((self.name, cid, _proto))

    def verify_one(self) -> None:
        """The second pharmacist's check of a change someone else saved: open its plan page, verify
        (the redirect back to the plan page is in the figure). A plan changed again meanwhile is
        refused by the service and shown as a message, as a pharmacist would see it."""
        with LOCK:
            mine = next((i for i, (author, *_) in enumerate(self.pending) if author != self.name), None)
            if mine is None:
                return
            _author, pid, proto = self.pending.pop(mine)
        # a plan page like any other (a new revision's: its body is not cached yet in every process)
        page = self.req("plan page (longest protocol)" if proto == LONGEST else "plan page", f"/plans/{pid}/")
        rid = re.search(r'name="revision" value="([^"]+)"', page)
        if not rid:
            return  # already verified by someone else, or changed again and not yet saved
        done = self.req("verify (+ redirect to the plan page)", f"/plans/{pid}/verify/",
                        {"csrfmiddlewaretoken": self.token(page), "revision": rid.group(1)})
        if "verified: nurse sheets" in done:
            self.verified += 1
        else:
            self.refused_verify += 1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--max-seconds", type=int, default=600, help="per run")
    ap.add_argument("--think", default="5",
                    help="mean seconds a user reads a page or fills a form before the next click (0: none);"
                         " 5,1 runs every server once per value")
    ap.add_argument("--ramp", type=float, default=20.0, help="users arrive over this many seconds")
    ap.add_argument("--workers", default="1", help="regimens serve --workers N for this tree; 1,2 runs both")
    ap.add_argument("--baseline", metavar="SRC", help="also run a server from this src/ folder first (1 process)")
    ap.add_argument("--cpu-rounds", type=int, default=6,
                    help="rounds of the in-process CPU-per-page-type pass for each tree (0: skip it)")
    ap.add_argument("--only-cpu", action="store_true", help="only the in-process pass (no server, no users)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        seeded = Path(tmp) / "seed"
        seeded.mkdir()
        t = time.perf_counter()
        owner = subprocess_seed(seeded, args.patients, args.users)
        print(f"seeded {args.patients} patients in {time.perf_counter() - t:.0f} s")
        here = str(Path(__file__).resolve().parents[1] / "src")
        runs = [(think, *run) for think in (float(x) for x in args.think.split(",")) for run in
                ([("baseline", args.baseline, 1)] if args.baseline else []) + [
                    ("this tree", here, int(n)) for n in args.workers.split(",")]]
        if args.cpu_rounds:
            cpu_runs = []
            trees = ([("baseline", args.baseline)] if args.baseline else []) + [("this tree", here)]
            for j, (label, src) in enumerate(trees):
                loads = " ".join(Path("/proc/loadavg").read_text().split()[:3])
                cpu_runs.append((label, loads, child_cpu_by_page(seeded, Path(tmp) / f"cpu{j}", src, owner,
                                                                 args.cpu_rounds)))
            print(f"\n== server CPU per page type, in-process (median ms of thread CPU, {args.cpu_rounds} rounds;"
                  " load average at the start of each tree's pass: "
                  + "; ".join(f"{label} {loads}" for label, loads, _ in cpu_runs) + ")")
            kinds = sorted({k for _, _, c in cpu_runs for k in c})
            print(f"{'page type':<38}" + "".join(f"{label:>14}" for label, _, _ in cpu_runs))
            for k in kinds:
                print(f"{k:<38}" + "".join(f"{statistics.median(c[k]) if c.get(k) else float('nan'):>14.0f}"
                                           for _, _, c in cpu_runs), flush=True)
        for i, (think, label, src, workers) in enumerate([] if args.only_cpu else runs):
            data = Path(tmp) / f"run{i}"
            data.mkdir()
            copy_database(seeded, data)
            report(f"{label}, {workers} process{'es' if workers > 1 else ''}", think, args.users,
                   one_run(data, src, workers, owner, args, think))


def report(label: str, think: float, users: int, result) -> None:
    stats, failures, wall, cpu, loads, (refused, verified, unverified) = result
    total = sum(len(v) for v in stats.values())
    print(f"\n== {label}: {users} users, think {think:g} s, {total} requests in {wall:.0f} s,"
          f" failed requests: {len(failures)} (changes the library refused, shown as a message: {refused};"
          f" changes verified {verified}, verification refused as no longer newest {unverified});"
          f" server CPU after start-up {cpu:.0f} s, sign-ins included"
          f" ({cpu / max(total, 1) * 1000:.0f} ms per request); load average {loads[0]} at start, {loads[1]} at end")
    for f in failures[:10]:
        print("  failed:", f)
    print(f"{'page type':<38} {'n':>5} {'p50 ms':>8} {'p95 ms':>8}")
    for kind, xs in sorted(stats.items()):
        xs = sorted(xs)
        p95 = xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]
        print(f"{kind:<38} {len(xs):>5} {statistics.median(xs):>8.0f} {p95:>8.0f}", flush=True)


def one_run(data: Path, src: str, workers: int, owner: dict, args, think: float):
    """Start a server from `src` on `data`, run the users, stop it by its process id."""
    regimens = str(Path(sys.executable).with_name("regimens"))
    cmd = [regimens, "serve", "--port", "0", "--data-dir", str(data), "--insecure-cookies",
           "--threads", os.environ.get("BENCH_THREADS", "8"), "--no-migrate"]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    environ = {**os.environ, **env(data), "PYTHONPATH": src}
    proc = subprocess.Popen(cmd, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        base = None
        for line in proc.stdout:
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            if m:
                base = m.group(1)
                break
        if base is None:
            raise SystemExit("server did not start")
        threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
        stats: dict[str, list[float]] = defaultdict(list)
        failures: list = []
        loads = [" ".join(Path("/proc/loadavg").read_text().split()[:3]), ""]
        time.sleep(1.0)  # gunicorn's workers finish importing after the socket is bound
        cpu0 = server_cpu(proc.pid)  # start-up (imports, migrations check) is not a request's
        deadline = time.monotonic() + args.max_seconds
        rng = random.Random("arrivals")
        pending: list = []
        people = [User(base, name, plans, stats, failures, deadline, think, rng.uniform(0, args.ramp), pending)
                  for name, plans in sorted(owner.items())]
        t = time.perf_counter()
        threads = [threading.Thread(target=u.run, args=(args.rounds,)) for u in people]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t
        loads[1] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        cpu = server_cpu(proc.pid) - cpu0
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    return stats, failures, wall, cpu, loads, (sum(u.refused for u in people), sum(u.verified for u in people),
                                               sum(u.refused_verify for u in people))


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of the server and its worker processes so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return total


def cpu_by_page(data: Path, rounds: int) -> dict:
    """In this process (run in a child with PYTHONPATH set to the tree under test): the same mix as
    one user's rounds, plus the second pharmacist's verification, through Django's test client on
    a copy of the seeded database, timed with this thread's CPU clock, so the figures are what
    each page type costs the server, not how long it queued on a loaded machine."""
    os.environ.update(env(data))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User as DjangoUser
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    owner = json.loads((data / "owner.json").read_text())
    author, verifier = Client(), Client()
    author.force_login(DjangoUser.objects.get(username="ph0"))
    verifier.force_login(DjangoUser.objects.get(username="ph1"))
    plans = owner["ph0"]
    longest = [p for p, proto in plans if proto == LONGEST]
    rng = random.Random("cpu")
    cpu: dict[str, list[float]] = defaultdict(list)

    def req(kind, client, path, post=None):
        t = time.thread_time()
        r = client.post(path, post, follow=True) if post is not None else client.get(path)
        cpu[kind].append((time.thread_time() - t) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{kind} {path}: HTTP {r.status_code}")
        return r.content.decode()

    # one untimed visit of each page first: the first request of a process compiles templates
    for path in ("/patients/?q=x", f"/plans/{longest[-1]}/", f"/plans/{longest[-1]}/month/",
                 f"/plans/{longest[-1]}/working/", f"/plans/{longest[-1]}/change/"):
        req("warm-up", author, path)
    del cpu["warm-up"]
    for i in range(rounds):
        lp = longest[i % len(longest)]
        req("patients search", author, "/patients/?q=" + urllib.parse.quote(f"Patient {rng.randrange(10000):05d}"))
        req("plan page (longest protocol)", author, f"/plans/{lp}/")
        req("plan page (longest protocol)", author, f"/plans/{lp}/?cycle=maintenance.c{rng.randrange(1, 16)}")
        req("plan page", author, f"/plans/{next(p for p, proto in plans if proto != LONGEST)}/")
        req("month view", author, f"/plans/{lp}/month/?month=2027-0{rng.randrange(1, 10)}")
        req("dose working", author, f"/plans/{lp}/working/")
        form = req("change form", author, f"/plans/{lp}/change/")
        base = re.search(r'name="base" value="(\d+)"', form).group(1)
        for _try in range(8):
            data_ = {"kind": "hold", "mode": "dose", "reason": "bench", "base": base, "action": "preview",
                     "selector": f"maintenance.c{rng.randrange(1, 16)}:{rng.choice((1, 8, 15))}", "bsa_formula": ""}
            pv = req("change preview", author, f"/plans/{lp}/change/", data_)
            prev = re.search(r'name="previewed" value="([0-9a-f]{64})"', pv)
            if prev:
                break
        else:
            continue
        data_.update(action="save", previewed=prev.group(1))
        if "saved: awaiting verification" not in req("change save", author, f"/plans/{lp}/change/", data_):
            raise SystemExit("change not saved")
        page = req("plan page (longest protocol)", verifier, f"/plans/{lp}/")
        rid = re.search(r'name="revision" value="([^"]+)"', page).group(1)
        if "verified: nurse sheets" not in req("verify (+ redirect to the plan page)", verifier,
                                               f"/plans/{lp}/verify/", {"revision": rid}):
            raise SystemExit("not verified")
    return cpu


def copy_database(seeded: Path, data: Path) -> None:
    """Each run starts from the seeded SQLite file. On REGIMENS_BENCH_DATABASE_URL (PostgreSQL)
    there is no file to copy: the runs share that database, so later runs see the earlier runs'
    changes (a few dozen revisions among 10,000 patients)."""
    if (seeded / "regimens.sqlite3").exists():
        shutil.copy(seeded / "regimens.sqlite3", data / "regimens.sqlite3")


def child_cpu_by_page(seeded: Path, data: Path, src: str, owner: dict, rounds: int) -> dict:
    data.mkdir()
    copy_database(seeded, data)
    (data / "owner.json").write_text(json.dumps(owner))
    here = str(Path(__file__).parent)
    code = (f"import json, sys; sys.path.insert(0, {here!r}); from service_load import cpu_by_page;"
            f" from pathlib import Path; print(json.dumps(cpu_by_page(Path({str(data)!r}), {rounds})))")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env(data), "PYTHONPATH": src},
                         capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def subprocess_seed(data: Path, patients: int, users: int) -> dict:
    """Seed in a child process, so this one never holds Django or a database connection."""
    here = str(Path(__file__).parent)
    code = (f"import json, sys; sys.path.insert(0, {here!r}); from service_load import seed; from pathlib import Path;"
            f" print(json.dumps(seed(Path({str(data)!r}), {patients}, {users})))")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env(data)}, capture_output=True,
                         text=True, check=False)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
