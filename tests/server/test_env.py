import pytest
from django.core.exceptions import ImproperlyConfigured

from server.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_secret,
    env_str,
    parse_database_url,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_reads_the_usual_spellings(raw, expected):
    assert env_bool("DEBUG", environ={"DEBUG": raw}) is expected


@pytest.mark.parametrize("raw", ["ture", "2", "enabled", "y e s"])
def test_env_bool_refuses_anything_else_and_names_the_variable(raw):
    with pytest.raises(ImproperlyConfigured, match=r"DEBUG=.* is not a boolean"):
        env_bool("DEBUG", environ={"DEBUG": raw})


def test_env_bool_default_and_required():
    assert env_bool("DEBUG", False, environ={}) is False
    with pytest.raises(ImproperlyConfigured, match="DEBUG is required"):
        env_bool("DEBUG", environ={})


def test_env_int_parses_and_checks_bounds():
    assert env_int("N", environ={"N": " 42 "}) == 42
    assert env_int("N", 7, environ={}) == 7
    with pytest.raises(ImproperlyConfigured, match="N='4x' is not an integer"):
        env_int("N", environ={"N": "4x"})
    with pytest.raises(ImproperlyConfigured, match="below the minimum of 1"):
        env_int("N", minimum=1, environ={"N": "0"})
    with pytest.raises(ImproperlyConfigured, match="above the maximum of 10"):
        env_int("N", maximum=10, environ={"N": "11"})


def test_env_list_splits_on_commas_and_drops_blanks():
    assert env_list("HOSTS", environ={"HOSTS": " a.example, ,b.example,"}) == ["a.example", "b.example"]
    assert env_list("HOSTS", ["x"], environ={}) == ["x"]
    assert env_list("HOSTS", environ={"HOSTS": ""}) == []


def test_env_choice_refuses_unknown_values():
    assert env_choice("LEVEL", ["A", "B"], environ={"LEVEL": "B"}) == "B"
    with pytest.raises(ImproperlyConfigured, match="LEVEL='C' is not one of A, B"):
        env_choice("LEVEL", ["A", "B"], environ={"LEVEL": "C"})


def test_env_str_required():
    assert env_str("X", environ={"X": "v"}) == "v"
    with pytest.raises(ImproperlyConfigured, match="X is required"):
        env_str("X", environ={})


def test_env_secret_reads_a_file(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cr3t\n", encoding="utf-8")
    assert env_secret("KEY", environ={"KEY_FILE": str(secret)}) == "s3cr3t"
    assert env_secret("KEY", environ={"KEY": "direct"}) == "direct"


def test_env_secret_fails_loudly(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env_secret("KEY", environ={"KEY": "a", "KEY_FILE": "/x"})
    with pytest.raises(ImproperlyConfigured, match="cannot read it"):
        env_secret("KEY", environ={"KEY_FILE": str(tmp_path / "missing")})
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ImproperlyConfigured, match="is empty"):
        env_secret("KEY", environ={"KEY_FILE": str(empty)})


def test_database_url_postgis_with_options():
    db = parse_database_url("postgis://ft:p%40ss@db.internal:6432/fieldtrace?sslmode=require")
    assert db == {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "NAME": "fieldtrace",
        "USER": "ft",
        "PASSWORD": "p@ss",
        "HOST": "db.internal",
        "PORT": "6432",
        "OPTIONS": {"sslmode": "require"},
    }


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_database_url_plain_postgres_still_gets_the_spatial_backend(scheme):
    db = parse_database_url(f"{scheme}://localhost/ft")
    assert db["ENGINE"] == "django.contrib.gis.db.backends.postgis"


def test_database_url_spatialite():
    db = parse_database_url("spatialite:///srv/fieldtrace/db.sqlite3")
    assert db == {"ENGINE": "django.contrib.gis.db.backends.spatialite", "NAME": "/srv/fieldtrace/db.sqlite3"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://localhost/ft", "scheme 'mysql'"),
        ("postgis://localhost/", "names no database"),
        ("postgis://localhost:notaport/ft", "invalid port"),
        ("spatialite://", "names no database file"),
    ],
)
def test_database_url_refuses_what_it_cannot_use(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_database_url(url)
