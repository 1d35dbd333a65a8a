"""The live Processes view: two people look at the same deal; one starts a process with a pause;
the other, without reloading, sees it appear, its journal rows arrive, and it complete.

The server is `bin/run` (the embedded default: SQLite, the in-memory channel layer, the task
worker in a thread of the server process), so the wake-up after the pause is executed by the
worker thread and reaches the other person's socket on the server's event loop.
"""

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ROOT, Server, log_in, new_context, start_server, stop_server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    var_dir = tmp_path_factory.mktemp("live-var")
    server = start_server(var_dir)
    yield server, var_dir
    stop_server(server)


def manage(var_dir: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env | {"VAR_DIR": str(var_dir)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def first_deal(var_dir: Path) -> str:
    with sqlite3.connect(f"file:{var_dir / 'db.sqlite3'}?mode=ro", uri=True) as db:
        (deal,) = db.execute("SELECT min(id) FROM crm_deal").fetchone()
    return f"DEAL_{deal}"


def person(browser: Browser, server: Server) -> Page:
    context = new_context(browser)
    page = context.new_page()
    log_in(page, server)
    return page


def test_a_second_viewer_sees_the_process_appear_run_and_complete(
    browser: Browser, live: tuple[Server, Path]
) -> None:
    server, var_dir = live
    assert "Published “Pause demo”" in manage(var_dir, "demo_process", "--pause", "2")
    url = f"{server.url}/bizproc/documents/{first_deal(var_dir)}/processes/"
    starter, watcher = person(browser, server), person(browser, server)
    try:
        with watcher.expect_websocket() as socket:
            watcher.goto(url)
        socket.value.wait_for_event("framereceived")  # open, and caught up
        active = watcher.get_by_role("region", name="Active processes")
        completed = watcher.get_by_role("region", name="Completed processes")
        latest = watcher.get_by_role("region", name="Latest journal records")
        expect(active).to_contain_text("There are no active processes at the moment.")

        starter.goto(url)
        starter.get_by_role("link", name="Pause demo").click()
        starter.get_by_role("button", name="Start").click()

        expect(active.get_by_role("link", name="Pause demo", exact=True)).to_be_visible()
        expect(active).to_contain_text("Pausing")
        expect(latest).to_contain_text("Pausing for 2 s")
        expect(completed.get_by_role("link", name="Pause demo", exact=True)).to_be_visible()
        expect(latest).to_contain_text("The pause is over")
        expect(active).to_contain_text("There are no active processes at the moment.")

        # The starter landed on the process's page, which is live too.
        summary = starter.locator("#instance-summary")
        expect(summary).to_contain_text("Completed")
        expect(starter.get_by_role("region", name="Workflow log")).to_contain_text(
            "The pause is over"
        )
    finally:
        starter.context.close()
        watcher.context.close()
