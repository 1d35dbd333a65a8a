"""Project-level guarantees: production settings pass Django's deploy checks, migrations match,
imports keep the contracts of pyproject.toml."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7-Vq2pZ!r9LmN4tB8wK1yF6hJ3sD0aGcE5uT2iO9pQ7vR4nM1bX8zY6wA3kL0jH",
    "ALLOWED_HOSTS": "crm.example.com",
    "HTTPS": "true",
    "DATABASE_URL": "postgresql://crm:secret@db.example.com:5432/crm",
    "REDIS_URL": "redis://cache.example.com:6379/0",
}


def manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_checks_report_nothing_with_production_settings(tmp_path) -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "DEBUG",
        env={**PRODUCTION_ENV, "VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_deploy_checks_catch_a_debug_server_without_https(tmp_path) -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION_ENV, "HTTPS": "false", "DEBUG": "true", "VAR_DIR": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout  # DEBUG in deployment


def test_models_and_migrations_agree() -> None:
    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_apps_keep_their_import_contracts() -> None:
    """The engine imports no app built on it, the CRM neither the designer nor the REST API, and
    so on (``[tool.importlinter]``): each contract is reported kept."""
    result = subprocess.run(
        [Path(sys.executable).parent / "lint-imports", "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_malformed_setting_is_refused_with_its_name(tmp_path) -> None:
    result = manage("check", env={"DEBUG": "maybe", "VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "DEBUG must be true or false, not 'maybe'" in result.stderr


def test_several_server_processes_are_refused_without_redis(tmp_path) -> None:
    result = manage("serve", "--workers", "2", env={"REDIS_URL": "", "VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "Several server processes need REDIS_URL" in result.stderr


def engine_limits(env: dict[str, str]) -> list[str]:
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from bizproc.runtime import setting; "
        "print(setting('STEP_TIME_LIMIT_SECONDS', None), setting('STATE_LIMIT_BYTES', None))",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_step_time_and_state_size_limits_are_read_from_the_environment(tmp_path) -> None:
    env = {"VAR_DIR": str(tmp_path)}
    assert engine_limits(env) == ["10", "1048576"]
    assert engine_limits(
        env | {"BIZPROC_STEP_TIME_LIMIT_SECONDS": "3", "BIZPROC_STATE_LIMIT_BYTES": "65536"}
    ) == ["3", "65536"]
