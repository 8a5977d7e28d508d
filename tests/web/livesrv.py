"""Start `regimens serve` as a real process on 127.0.0.1 with a free port and stop it by pid
(used by the serve, end-to-end and load tests)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REGIMENS = str(Path(sys.executable).with_name("regimens"))


def manage(data_dir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """A Django management command against the server's database (same environment as serve)."""
    e = server_env(data_dir, env)
    return subprocess.run([sys.executable, "-m", "regimens.web.manage", *args], env=e, capture_output=True,
                          text=True, timeout=300, check=True)


def server_env(data_dir: Path, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGIMENS_")}
    env.update({"REGIMENS_DATA_DIR": str(data_dir),
                "REGIMENS_DATABASE_URL": os.environ.get("REGIMENS_E2E_DATABASE_URL")
                or f"sqlite:///{data_dir / 'regimens.sqlite3'}",
                "REGIMENS_SECRET_KEY": "test-key-" + "x" * 40, "DJANGO_SETTINGS_MODULE": "regimens.web.settings"})
    env.update(extra or {})
    return env


@contextmanager
def running(data_dir: Path, *options: str, env: dict | None = None, timeout: float = 120):
    """Yields (base_url, first-start output). The process group is stopped by pid on exit."""
    proc = subprocess.Popen([REGIMENS, "serve", "--port", "0", "--data-dir", str(data_dir), *options],
                            env=server_env(data_dir, env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                if proc.poll() is not None:
                    raise RuntimeError("serve exited: " + "".join(lines))
                continue
            lines.append(line)
            if "listening on" in line:
                break
        else:
            raise RuntimeError("serve did not start: " + "".join(lines))
        base = re.search(r"listening on (http://\S+?)/? ", lines[-1]).group(1)
        yield base, "".join(lines)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        proc.stdout.close()
