"""Browser tests: the real server, started as `make run` starts it, driven by Chromium.

The server runs `bin/run` (migrate, demo data, serve with the embedded worker) on a free
loopback port with its own var/ folder, so its SQLite database and credentials are fresh.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_HINT = (
    "No Chromium for the browser tests. Install Debian's package "
    "(`apt-get install chromium chromium-driver`), point CHROMIUM at a Chromium binary, "
    "or run `.venv/bin/playwright install chromium`."
)


@dataclass
class Server:
    url: str
    username: str
    password: str
    process: subprocess.Popen


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(tmp_path: Path, extra_env: dict[str, str] | None = None) -> Server:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {"PORT": str(port), "VAR_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    env |= extra_env or {}
    process = subprocess.Popen(
        [str(ROOT / "bin" / "run")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    credentials = None
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while credentials is None:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("The server stopped before it was ready:\n" + "".join(output))
        output.append(line)
        credentials = re.search(r"Log in as: (\S+)\s+password: (\S+)", line)
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("The server did not start in time:\n" + "".join(output))
    # Keep reading what the server prints (its log of refused pages, warnings …): a pipe nobody
    # reads fills up, and the server then blocks on its next write — every request with it.
    threading.Thread(target=_drain, args=(process.stdout, output), daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            with urllib.request.urlopen(f"{url}/accounts/login/", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise AssertionError("The server never answered:\n" + "".join(output)) from None
            time.sleep(0.1)
    return Server(url, credentials[1], credentials[2], process)


def _drain(stream: IO[str], output: list[str]) -> None:
    """Reads the server's output to its end, keeping the last lines for a failure's message."""
    for line in stream:
        output.append(line)
        del output[:-200]


def stop_server(server: Server) -> int:
    """Stops the server with Ctrl-C, as a person would; returns its exit code."""
    server.process.send_signal(signal.SIGINT)
    try:
        return server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        raise


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("server-var"))
    yield running
    stop_server(running)


def chromium_executable() -> str | None:
    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


# Per module: Playwright's sync API keeps an event loop running in the main thread, which
# would break later tests that call asyncio.run() (the REST client libraries).
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_executable()
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=executable,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
            )
        except Exception as error:  # Playwright raises its own Error when no browser is found
            pytest.fail(f"{CHROMIUM_HINT}\n{error}")
        yield launched
        launched.close()


# What the pages' Content-Security-Policy blocked during the test (see ``new_context``).
CSP_VIOLATIONS: list[str] = []

_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${location.pathname}: ${event.effectiveDirective} blocked ${event.blockedURI || "inline"} `
    + `(${event.sourceFile}:${event.lineNumber}) ${event.sample}`
  );
});
"""


def new_context(browser: Browser) -> BrowserContext:
    """A browser context (its own cookies) whose pages report what their CSP blocks."""
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(10_000)
    context.expose_binding("reportCspViolation", lambda _source, text: CSP_VIOLATIONS.append(text))
    context.add_init_script(_REPORT_CSP_VIOLATIONS)
    return context


@pytest.fixture(autouse=True)
def _nothing_blocked_by_csp() -> Iterator[None]:
    """Every browser test also asserts that the Content-Security-Policy blocked nothing: each
    page works under it (htmx, its websocket extension, the designer's scripts)."""
    CSP_VIOLATIONS.clear()
    yield
    assert CSP_VIOLATIONS == []


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = new_context(browser)
    opened = context.new_page()
    yield opened
    context.close()


def log_in(
    page: Page, server: Server, username: str | None = None, password: str | None = None
) -> None:
    page.goto(f"{server.url}/accounts/login/")
    page.get_by_label("Username").fill(username or server.username)
    page.get_by_label("Password").fill(password or server.password)
    page.get_by_role("button", name="Log in").click()


def manage(var_dir: Path, *args: str) -> str:
    """Runs a management command on the database of a server started with this ``var_dir``."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["VAR_DIR"] = str(var_dir)
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@dataclass
class Site:
    """A server of a module's own (its database changed by the module's tests alone) and the
    var/ folder that holds its database, for management commands."""

    server: Server
    var_dir: Path

    def shell(self, code: str) -> str:
        """Runs Python in ``manage.py shell`` on the site's database; returns what it printed."""
        return manage(self.var_dir, "shell", "--no-imports", "-c", code).strip()


@contextmanager
def own_site(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Site]:
    """Starts a server on a fresh demo company of its own; stops it on leaving."""
    var_dir = tmp_path_factory.mktemp(f"{name}-var")
    server = start_server(var_dir)
    try:
        yield Site(server, var_dir)
    finally:
        stop_server(server)
