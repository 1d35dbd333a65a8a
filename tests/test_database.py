"""The embedded default's SQLite connections, kept between requests (config/sqlite)."""

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import IntegrityError
from django.db.utils import ConnectionHandler

from config.sqlite.base import DatabaseWrapper, pool_close


@pytest.fixture
def database(tmp_path: Path, django_db_blocker) -> Iterator[DatabaseWrapper]:
    """A SQLite file as the embedded default opens it (whatever database the suite runs on),
    with a table of notes and one of their authors."""
    options = {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "config.sqlite",
                "NAME": str(tmp_path / "db.sqlite3"),
                "OPTIONS": options,
            }
        }
    )
    wrapper = handler["default"]
    with django_db_blocker.unblock():
        with wrapper.cursor() as cursor:
            cursor.execute("CREATE TABLE author (id INTEGER PRIMARY KEY)")
            cursor.execute(
                "CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT,"
                " author_id INTEGER REFERENCES author (id))"
            )
            cursor.execute("INSERT INTO author (id) VALUES (1)")
        wrapper.close()
        yield wrapper
        wrapper.close()
    pool_close()


def _texts(wrapper: DatabaseWrapper) -> list[str]:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT text FROM note ORDER BY id")
        return [text for (text,) in cursor.fetchall()]


def test_the_next_request_takes_the_connection_the_last_one_closed(database) -> None:
    """Not a new one, whose schema SQLite would read again; and it sees what was committed."""
    with database.cursor() as cursor:
        cursor.execute("INSERT INTO note (text, author_id) VALUES ('first', 1)")
    first = database.connection
    database.close()

    assert _texts(database) == ["first"]
    assert database.connection is first


def test_work_of_a_transaction_left_open_is_rolled_back_not_handed_on(database) -> None:
    """A request that ends inside a transaction (a thread that died half-way) leaves neither its
    rows nor the write lock to the next."""
    with database.cursor() as cursor:
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("INSERT INTO note (text, author_id) VALUES ('half-way', 1)")
    left = database.connection
    database.close()

    assert _texts(database) == []
    assert database.connection is not left
    other = sqlite3.connect(database.settings_dict["NAME"], timeout=0)
    other.execute("BEGIN IMMEDIATE")  # the write lock is free
    other.rollback()
    other.close()


def test_a_kept_connection_checks_foreign_keys(database) -> None:
    with database.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys = OFF")  # as a migration does while it rebuilds
    database.close()

    with pytest.raises(IntegrityError), database.cursor() as cursor:
        cursor.execute("INSERT INTO note (text, author_id) VALUES ('orphan', 99)")


def test_a_replaced_database_file_is_not_reached_through_a_kept_connection(database) -> None:
    """A kept connection to a file since deleted would read and write a file nobody sees."""
    database.ensure_connection()
    database.close()
    name = database.settings_dict["NAME"]
    for suffix in ("", "-wal", "-shm"):
        Path(name + suffix).unlink(missing_ok=True)
    fresh = sqlite3.connect(name)
    fresh.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT, author_id INTEGER)")
    fresh.execute("INSERT INTO note (text) VALUES ('in the new file')")
    fresh.commit()
    fresh.close()

    assert _texts(database) == ["in the new file"]


def test_no_connection_is_carried_into_a_forked_child(database) -> None:
    """SQLite forbids using a connection in a child of the process that opened it: the kept
    ones are closed before a fork."""
    database.ensure_connection()
    kept = database.connection
    database.close()

    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)

    with pytest.raises(sqlite3.ProgrammingError):
        kept.execute("SELECT 1")
    assert _texts(database) == []
