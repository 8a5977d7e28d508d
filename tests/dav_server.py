"""Radicale on 127.0.0.1 for CalDAV tests: a free port, temporary storage, htpasswd
authentication, and a watchdog so the server exits by itself when the test process goes away
or after `lifetime` seconds (a crashed or interrupted run never leaves a server behind)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

_SERVER = r"""
import os, sys, threading, time
parent, deadline = os.getppid(), time.time() + float(sys.argv[4])
def watchdog():
    while os.getppid() == parent and time.time() < deadline:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watchdog, daemon=True).start()
from radicale.__main__ import run
sys.argv = ["radicale", "--config", "", "--server-hosts", sys.argv[1],
            "--auth-type", "htpasswd", "--auth-htpasswd-filename", sys.argv[3],
            "--auth-htpasswd-encryption", "autodetect", "--auth-delay", "0",
            "--rights-type", "owner_only", "--storage-filesystem-folder", sys.argv[2],
            "--logging-level", "error"]
run()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def radicale(folder: Path, users: dict[str, str], lifetime: float = 300):
    """Yield the server's base URL (http://127.0.0.1:PORT/); skip the test when Radicale cannot
    start. Passwords are stored as SHA-512 crypt with few rounds (fast; it is a test)."""
    import pytest

    pytest.importorskip("radicale", reason="Radicale is not installed (pip install '.[test]')")
    from passlib.hash import sha512_crypt  # a Radicale dependency

    folder.mkdir(parents=True, exist_ok=True)
    htpasswd = folder / "htpasswd"
    htpasswd.write_text("".join(f"{u}:{sha512_crypt.using(rounds=1000).hash(p)}\n" for u, p in users.items()))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", _SERVER, f"127.0.0.1:{port}", str(folder / "store"),
                             str(htpasswd), str(lifetime)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        for _ in range(200):
            if proc.poll() is not None:
                pytest.skip(f"Radicale could not start: {proc.stderr.read().decode()[-300:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.skip("Radicale did not accept connections on 127.0.0.1 within 20 s")
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
