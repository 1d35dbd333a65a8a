"""Shared set-up for the benchmarks: a fresh PostgreSQL database, Django, and the report header."""

import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]

# Each request goes on a new connection, as a reverse proxy in front of the server processes
# sends them by default (nginx speaks HTTP/1.0 to its upstreams). Over one long-lived
# connection per client, the kernel gives every connection to whichever worker process wakes
# first: four clients can all land on one process while the other idles, and the figures
# measure that lottery rather than the application.
NEW_CONNECTION = {"Connection": "close"}
CONNECTIONS = "a new connection per request (Connection: close, as a reverse proxy sends them)"


def fresh_database(name: str) -> str:
    """Drops and creates database ``name`` next to DATABASE_URL's; returns its URL."""
    import psycopg

    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    if not base.startswith(("postgres://", "postgresql://")):
        sys.exit("The benchmarks run on PostgreSQL: set DATABASE_URL=postgresql://…")
    parsed = urlparse(base)
    admin_url = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(parsed._replace(path=f"/{name}"))


def django_setup(database_url: str, **env: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def header(title: str, **facts: object) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    print(f"# {title}")
    print(f"commit {commit or 'uncommitted'} · {os.cpu_count()} cores · {cpu}")
    for key, value in facts.items():
        print(f"{key}: {value}")


def percentiles(samples_ms: list[float]) -> str:
    if not samples_ms:
        return "no samples"
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):.1f} ms · p99 {p99:.1f} ms · n={len(ordered)}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(port: int, *, database_url: str, workers: int) -> subprocess.Popen:
    """``manage.py serve`` on ``port``, once it accepts connections (this process's
    environment, with ``database_url``)."""
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                sys.exit("The server did not start.")
            time.sleep(0.1)
