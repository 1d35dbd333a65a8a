"""Live updates across processes (PostgreSQL + Redis): two server processes and a separate
worker. A socket on one server shows a process started through the other server and woken by
the worker, as each step commits."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from websockets.sync.client import connect

from tests.bizproc.builders import node, published
from tests.crm.factories import DealFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {what}")
        time.sleep(0.1)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def topology(tmp_path) -> Iterator[tuple[str, str]]:
    """Two `manage.py serve` servers (no embedded worker; the second with two worker
    processes) and one `bizproc_worker`, on the test database and Redis; yields their URLs."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "EMBEDDED_WORKER": "false",
        "SECRET_KEY": settings.SECRET_KEY,  # the sessions this test makes are valid there
        "VAR_DIR": str(tmp_path),
    }
    ports = [free_port(), free_port()]
    log = (tmp_path / "processes.log").open("a")
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port), "--workers", workers],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for port, workers in zip(ports, ["1", "2"], strict=True)
    ]
    processes.append(
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "bizproc_worker",
                "--queue-name",
                "*",
                "--interval",
                "0.1",
                "--no-startup-delay",
                "--no-reload",
                "-v",
                "0",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    )
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            wait_for(lambda url=url: answers(f"{url}/accounts/login/"), 60, f"{url} to answer")
        yield urls[0], urls[1]
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT if process.args[2] == "serve" else signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def start_through(server: str, path: str, session: str) -> None:
    """Fills and sends the start form the way a browser does (CSRF token from the form)."""
    cookie = {"Cookie": f"sessionid={session}"}
    request = urllib.request.Request(f"{server}{path}", headers=cookie)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
        form = response.read().decode()
        cookies = SimpleCookie(response.headers["Set-Cookie"])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
    post = urllib.request.Request(  # noqa: S310 (loopback)
        f"{server}{path}",
        data=urlencode({"csrfmiddlewaretoken": token}).encode(),
        headers={"Cookie": f"sessionid={session}; csrftoken={cookies['csrftoken'].value}"},
    )
    with urllib.request.urlopen(post, timeout=10) as response:  # noqa: S310 (loopback)
        assert "/bizproc/processes/" in response.url


def test_a_socket_on_one_server_follows_a_process_started_through_the_other(
    topology,
) -> None:
    watched, used = topology
    admin = UserFactory(is_crm_admin=True, full_name="Anna Admin")
    deal = DealFactory(assigned_by=admin)
    template = published(
        node("LogActivity", Text="before the pause", Title="Before"),
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="s", Title="Pause"),
        node("LogActivity", Text="after the pause", Title="After"),
        user=admin,
        name="Across processes",
    )
    client = Client()
    client.force_login(admin)
    session = client.cookies["sessionid"].value
    host = watched.removeprefix("http://")

    with connect(
        f"ws://{host}/ws/bizproc/documents/{deal.document_id}/",
        additional_headers={"Cookie": f"sessionid={session}", "Origin": watched},
    ) as page:
        assert "There are no active processes" in page.recv(timeout=10)
        start_through(
            used, f"/bizproc/documents/{deal.document_id}/processes/start/{template.pk}/", session
        )
        started = page.recv(timeout=10)
        assert "Across processes" in started and "before the pause" in started
        assert "There are no active processes" not in started
        assert "after the pause" not in started
        finished = page.recv(timeout=20)  # the worker's step, a second later
        assert "after the pause" in finished
        assert "There are no active processes" in finished
        completed = finished[finished.index('id="completed-heading"') :]
        assert "Across processes" in completed
