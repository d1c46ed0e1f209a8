"""Settings read the environment once per process, so each case runs in a fresh interpreter."""

import json

from tests.conftest import run_django

PRINT = (
    "from django.conf import settings as s; import json;"
    "print(json.dumps({k: str(getattr(s, k)) for k in %r}))"
)


def settings_of(env, *names):
    result = run_django(PRINT % (list(names),), env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = run_django("", {"DEBUG": "0", "VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) is required when DEBUG is off" in result.stderr


def test_a_bad_boolean_stops_the_process(tmp_path):
    result = run_django("", {"DEBUG": "maybe", "VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_local_runs_generate_the_secret_key_once_under_var(tmp_path):
    first = settings_of({"DEBUG": "1", "VAR_DIR": str(tmp_path)}, "SECRET_KEY")["SECRET_KEY"]
    second = settings_of({"DEBUG": "1", "VAR_DIR": str(tmp_path)}, "SECRET_KEY")["SECRET_KEY"]
    assert len(first) >= 50
    assert first == second == (tmp_path / "secret_key").read_text().strip()
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by its owner only


def test_defaults_are_spatialite_local_disk_and_inline_tasks(tmp_path):
    values = settings_of(
        {"SECRET_KEY": "k", "VAR_DIR": str(tmp_path)},
        "DATABASES",
        "STORAGES",
        "CELERY_TASK_ALWAYS_EAGER",
        "TIME_ZONE",
        "USE_TZ",
        "LANGUAGE_CODE",
        "DEBUG",
    )
    assert "spatialite" in values["DATABASES"]
    assert str(tmp_path / "fieldtrace.sqlite3") in values["DATABASES"]
    assert "FileSystemStorage" in values["STORAGES"]
    assert values["CELERY_TASK_ALWAYS_EAGER"] == "True"
    assert values["TIME_ZONE"] == "Asia/Shanghai"
    assert values["USE_TZ"] == "True"
    assert values["LANGUAGE_CODE"] == "zh-hans"
    assert values["DEBUG"] == "False"


def test_production_shape_from_the_environment(tmp_path):
    secret = tmp_path / "s3-secret"
    secret.write_text("sk-from-file")
    values = settings_of(
        {
            "SECRET_KEY": "k",
            "DATABASE_URL": "postgis://ft@db:5432/fieldtrace",
            "S3_BUCKET": "photos",
            "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
            "S3_ACCESS_KEY_ID": "ak",
            "S3_SECRET_ACCESS_KEY_FILE": str(secret),
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
            "ALLOWED_HOSTS": "fieldtrace.example.cn, api.fieldtrace.example.cn",
        },
        "DATABASES",
        "STORAGES",
        "CELERY_TASK_ALWAYS_EAGER",
        "ALLOWED_HOSTS",
    )
    assert "postgis" in values["DATABASES"]
    assert "'connect_timeout': 5" in values["DATABASES"]
    assert "storages.backends.s3.S3Storage" in values["STORAGES"]
    assert "sk-from-file" in values["STORAGES"]
    assert "'bucket_name': 'photos'" in values["STORAGES"]
    assert values["CELERY_TASK_ALWAYS_EAGER"] == "False"
    assert values["ALLOWED_HOSTS"] == "['fieldtrace.example.cn', 'api.fieldtrace.example.cn']"


def test_an_unknown_database_scheme_stops_the_process(tmp_path):
    result = run_django("", {"SECRET_KEY": "k", "DATABASE_URL": "mysql://x/y"})
    assert result.returncode != 0
    assert "DATABASE_URL has the scheme 'mysql'" in result.stderr
