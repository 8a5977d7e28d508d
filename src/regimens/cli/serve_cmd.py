"""`regimens serve`: the clinic service (docs/service.md). Django, waitress and gunicorn are
imported inside the command, so `regimens --help` stays fast.

One process (the default) runs under waitress, threads only, on every platform. `--workers N`
(N > 1) runs N processes under gunicorn (POSIX): Python runs one thread at a time per process,
so CPU-bound pages (a change preview compiles a protocol, a sign-in hashes a password) hold up
every other request of their process; several processes use every core. They share the
database (SQLite in WAL mode with a busy timeout, or PostgreSQL) and the service's cache
(files in the data folder by default: settings.CACHES)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click

from regimens.errors import RegimensError

DB_ENV = "REGIMENS_DATABASE_URL"


def _data_dir(given: str | None) -> Path:
    if given:
        return Path(given)
    if os.environ.get("REGIMENS_DATA_DIR"):
        return Path(os.environ["REGIMENS_DATA_DIR"])
    import platformdirs

    return Path(platformdirs.user_data_dir("regimens", appauthor=False))


def _secret_key(folder: Path) -> str:
    """A persistent key (sessions survive a restart), created once, readable by the owner only."""
    path = folder / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    import secrets  # here: `regimens --help` does not pay for it

    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    return key


def prepare(database: str | None, data_dir: str | None, protocols: str | None, tz: str | None,
            hosts: str, behind_proxy: bool, insecure_cookies: bool) -> str:
    """Fill the environment the Django settings read; returns a description of the database."""
    os.umask(0o077)  # the database, its WAL files and the key hold patient data or secrets
    folder = _data_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    env = os.environ
    url = database or env.get(DB_ENV)
    if url and not url.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise RegimensError(f"--database {url.split('@')[-1]!r} is not a database URL; give"
                            " postgresql://USER@HOST/NAME or leave it out for the embedded SQLite database")
    if not url:
        url = f"sqlite:///{folder / 'regimens.sqlite3'}"
    env[DB_ENV] = url
    env["REGIMENS_DATA_DIR"] = str(folder)
    env.setdefault("REGIMENS_SECRET_KEY", _secret_key(folder))
    env["REGIMENS_ALLOWED_HOSTS"] = hosts
    if protocols:
        env["REGIMENS_PROTOCOLS"] = protocols
    if tz:
        env["REGIMENS_TZ"] = tz
    if behind_proxy:
        env["REGIMENS_BEHIND_PROXY"] = "1"
    if insecure_cookies:
        env["REGIMENS_SECURE_COOKIES"] = "0"
    env["DJANGO_SETTINGS_MODULE"] = "regimens.web.settings"
    # never print a password that may be in a PostgreSQL URL
    return url.split("@")[-1] if url.startswith("postgres") else url.removeprefix("sqlite:///")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep 127.0.0.1 behind a reverse proxy (docs/service.md).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port (0: any free port, printed at start).")
@click.option("--database", metavar="URL", envvar=DB_ENV,
              help=f"postgresql://USER:PASSWORD@HOST/NAME for PostgreSQL. Default: SQLite in the data folder."
                   f" [env: {DB_ENV}]")
@click.option("--data-dir", type=click.Path(file_okay=False), envvar="REGIMENS_DATA_DIR",
              help="Folder for the SQLite database and the secret key. Default: the user data folder.")
@click.option("--protocols", "protocols_dir", type=click.Path(file_okay=False), envvar="REGIMENS_PROTOCOLS",
              help="Site protocol folder (as for the other commands).")
@click.option("--tz", envvar="REGIMENS_TZ", metavar="AREA/CITY",
              help="Clinic time zone: dates of 'today' and of calendar files. [env: REGIMENS_TZ]")
@click.option("--allowed-hosts", default="127.0.0.1,localhost", show_default=True,
              help="Host names the service answers to (comma-separated), e.g. the proxy's name.")
@click.option("--behind-proxy", is_flag=True,
              help="A reverse proxy terminates TLS and sends X-Forwarded-Proto (HSTS, HTTPS redirects).")
@click.option("--insecure-cookies", is_flag=True,
              help="Send session cookies over plain HTTP (only for a test on this computer).")
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Threads per process.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes. 1: waitress (any platform). More: gunicorn (Linux, macOS), e.g. one per core.")
@click.option("--no-migrate", is_flag=True, help="Do not apply database migrations at start.")
def serve_cmd(host, port, database, data_dir, protocols_dir, tz, allowed_hosts, behind_proxy, insecure_cookies,
              threads, workers, no_migrate) -> None:
    """Run the clinic service: pharmacists build and verify plans, nurses work from them.

    \b
    regimens serve                                  # SQLite in the user data folder, http://127.0.0.1:8000/
    regimens serve --database postgresql://regimens@db/regimens --behind-proxy --allowed-hosts onc.example.org

    On first start it prints a one-time link that creates the first administrator.
    """
    if workers > 1:
        try:
            import gunicorn  # noqa: F401
        except ImportError:
            raise RegimensError("--workers needs gunicorn (Linux or macOS: pip install gunicorn); without it,"
                                " leave --workers out to run one process under waitress") from None
    where = prepare(database, data_dir, protocols_dir, tz, allowed_hosts, behind_proxy, insecure_cookies)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if not no_migrate:
        call_command("migrate", interactive=False, verbosity=0)
        if settings.CACHES["regimens"]["BACKEND"].endswith("DatabaseCache"):
            call_command("createcachetable", verbosity=0)  # REGIMENS_CACHE=database; no-op when it exists
    from regimens.web.clinic.views import new_setup_token

    if workers > 1:
        _run_gunicorn(host, port, threads, workers, behind_proxy, where, new_setup_token)
        return
    import waitress

    from regimens.web.wsgi import application

    proxy = {"trusted_proxy": "127.0.0.1", "trusted_proxy_headers": "x-forwarded-proto"} if behind_proxy else {}
    server = waitress.create_server(application, host=host, port=port, threads=threads, ident="regimens",
                                    clear_untrusted_proxy_headers=True, **proxy)
    _announce(host, server.effective_port, where, new_setup_token, "1 process")
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("regimens serve: stopped", err=True)
    finally:
        server.close()


def _announce(host: str, port: int, where: str, new_setup_token, how: str) -> None:
    base = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    click.echo(f"regimens serve: database {where}", err=True)
    token = new_setup_token()
    if token:
        click.echo(f"regimens serve: no administrator yet; open this one-time link to create one:\n"
                   f"  {base}/setup/{token}/", err=True)
    click.echo(f"regimens serve: listening on {base}/ ({how}; Ctrl-C stops)", err=True)


def _run_gunicorn(host: str, port: int, threads: int, workers: int, behind_proxy: bool, where: str,
                  new_setup_token) -> None:
    """N gunicorn worker processes (threaded) on one socket bound here, so --port 0 can print the
    port the system gave before the workers start (connections wait in the backlog meanwhile)."""
    import socket

    from django.db import connections
    from gunicorn.app.base import BaseApplication

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise RegimensError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    _announce(host, sock.getsockname()[1], where, new_setup_token, f"{workers} processes × {threads} threads")
    connections.close_all()  # never share the master's database connection with forked workers
    options = {
        "bind": [f"fd://{sock.fileno()}"], "workers": workers, "threads": threads, "worker_class": "gthread",
        "preload_app": True,  # Django loaded once, before the fork
        "timeout": 120, "graceful_timeout": 10, "keepalive": 5, "proc_name": "regimens",
        "accesslog": None, "errorlog": "-", "loglevel": "warning",  # URLs carry no patient data; still no access log
        "control_socket_disable": True,
        # X-Forwarded-Proto is believed only from the proxy on this computer, and only with --behind-proxy
        # (as waitress's clear_untrusted_proxy_headers): otherwise a client could claim https
        "forwarded_allow_ips": "127.0.0.1,::1" if behind_proxy else "",
        "secure_scheme_headers": {"X-FORWARDED-PROTO": "https"} if behind_proxy else {},
    }

    class Service(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            from regimens.web.wsgi import application

            return application

    master = os.getpid()
    try:
        Service().run()  # gunicorn's arbiter: SIGTERM stops gracefully, SIGINT at once
    except SystemExit as exc:
        if os.getpid() != master:
            # a worker (forked inside this function) ends here, not back through the command
            # line's own exit handling, which belongs to the master
            os._exit(exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1)
        raise
    finally:
        if os.getpid() == master:
            with contextlib.suppress(OSError):  # gunicorn closed the descriptor it was given
                sock.close()
