"""Where the personal-information keys come from (server/settings.py, server/privacy/crypto.py):
settings are read once per process, so each case runs in a fresh interpreter."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_PII_ENV, TEST_PII_INDEX_KEY, TEST_PII_KEYS, run_django

READ = "from server.privacy.crypto import ring; r = ring(); print(list(r.keys), len(r.index_key))"


def test_local_runs_generate_the_keys_once_under_var(tmp_path):
    env = {"DEBUG": "1", "VAR_DIR": str(tmp_path)}
    first = run_django(READ, env)
    assert first.returncode == 0, first.stderr
    assert "['local1'] 32" in first.stdout
    keys = (tmp_path / "pii_keys").read_text()
    index = (tmp_path / "pii_index_key").read_text()
    for path in ("pii_keys", "pii_index_key"):
        assert (tmp_path / path).stat().st_mode & 0o077 == 0  # readable by its owner only
    assert run_django(READ, env).returncode == 0
    assert (tmp_path / "pii_keys").read_text() == keys
    assert (tmp_path / "pii_index_key").read_text() == index


def test_a_server_without_keys_refuses_to_start_when_debug_is_off(tmp_path):
    env = {"SECRET_KEY": "k", "VAR_DIR": str(tmp_path)}
    for module in ("server.wsgi", "server.asgi"):
        result = run_django(f"import {module}", env)
        assert result.returncode != 0
        assert (
            "PII_KEYS and PII_INDEX_KEY (or PII_KEYS_FILE and PII_INDEX_KEY_FILE) are required"
            in result.stderr
        )
    assert not (tmp_path / "pii_keys").exists()  # nothing generated without DEBUG
    # Commands that touch no personal data still run (CI's makemigrations --check, check).
    assert (
        run_django("from django.core.management import call_command; call_command('check')", env).returncode
        == 0
    )
    deploy = run_django(
        "from django.core.management import call_command; call_command('check', deploy=True)", env
    )
    assert "privacy.E001" in deploy.stderr
    assert run_django("import server.wsgi", {**env, **TEST_PII_ENV}).returncode == 0


def test_keys_from_files(tmp_path):
    (tmp_path / "keys").write_text(TEST_PII_KEYS + "\n")
    (tmp_path / "index").write_text(TEST_PII_INDEX_KEY + "\n")
    env = {
        "SECRET_KEY": "k",
        "VAR_DIR": str(tmp_path),
        "PII_KEYS_FILE": str(tmp_path / "keys"),
        "PII_INDEX_KEY_FILE": str(tmp_path / "index"),
    }
    result = run_django(READ, env)
    assert result.returncode == 0, result.stderr
    assert "['test1'] 32" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PII_KEYS": "k1:c2hvcnQ=", "PII_INDEX_KEY": TEST_PII_INDEX_KEY}, "AES-256 needs 32"),
        ({"PII_KEYS": TEST_PII_KEYS, "PII_INDEX_KEY": "c2hvcnQ="}, "PII_INDEX_KEY is 5 bytes"),
        ({"PII_KEYS": TEST_PII_KEYS}, "PII_INDEX_KEY is 0 bytes"),
    ],
)
def test_a_bad_key_stops_the_process_at_start(tmp_path, env, message):
    result = run_django("", {"SECRET_KEY": "k", "VAR_DIR": str(tmp_path), **env})
    assert result.returncode != 0
    assert message in result.stderr
