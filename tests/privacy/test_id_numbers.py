"""Resident ID numbers at rest (server/privacy): ciphertext in the column, found by the blind index,
one person per number, keys rotated, a wrong key refused cleanly."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from server.privacy import crypto
from server.registry import services
from server.registry.models import Employment, Person
from tests.conftest import TEST_PII_INDEX_KEY, TEST_PII_KEY_1, TEST_PII_KEY_2, TEST_PII_KEYS
from tests.factories import resident_id

pytestmark = pytest.mark.django_db

PURPOSE = "registry.Person.id_number"


def raw_row(person: Person) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_index FROM registry_person WHERE id = %s", [person.pk])
        return cursor.fetchone()


def key_of(token: str) -> str:
    return crypto.key_id_of(base64.urlsafe_b64decode(token))


def test_the_column_holds_ciphertext_and_the_model_reads_the_number():
    number = resident_id("110105", "19491231")
    person = services.person_for(id_number=number.lower(), name="张三")
    stored, index = raw_row(person)
    assert number not in stored
    assert number.lower() not in stored
    assert number[:6] not in stored
    assert number[-4:] not in stored
    assert index == hmac_index(number)
    assert Person.objects.get(pk=person.pk).id_number == number
    # The same number encrypts differently each time (random nonce): equal ciphertexts reveal nothing.
    again = Person.objects.get(pk=person.pk)
    again.save()
    assert raw_row(again)[0] != stored
    assert raw_row(again)[1] == index


def hmac_index(number: str) -> str:
    import hmac

    key = base64.b64decode(TEST_PII_INDEX_KEY)
    return hmac.new(key, PURPOSE.encode() + b"\x00" + number.encode(), hashlib.sha256).hexdigest()


def test_lookups_go_through_the_blind_index(world):
    person = world.shanghai.field_user.person
    number = person.id_number
    assert Person.objects.get(id_number=number) == person
    assert Person.objects.get(id_number=f" {number.lower()} ") == person  # normalised like the index
    assert Employment.objects.filter(person__id_number=number).exists()
    assert not Person.objects.filter(id_number=resident_id("440305")).exists()
    assert Person.objects.exclude(id_number=number).count() == Person.objects.count() - 1
    assert person in Person.objects.filter(id_number__isnull=False)
    assert list(Person.objects.filter(pk=person.pk).values_list("id_number", flat=True)) == [number]


def test_substring_and_range_lookups_are_refused():
    with pytest.raises(FieldError):
        list(Person.objects.filter(id_number__startswith="3101"))
    with pytest.raises(FieldError):
        list(Person.objects.filter(id_number__icontains="1990"))


def test_one_person_per_id_number():
    number = resident_id("310104", "19850505")
    first = services.person_for(id_number=number, name="李四")
    assert services.person_for(id_number=number.lower(), name="李四") == first
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(id_number=number, name="冒名", gender="male", birth_date=first.birth_date)
    assert Person.objects.filter(id_number=number).count() == 1


def test_key_rotation_reads_old_values_and_rekeys_them(settings):
    number = resident_id("320102", "19920202")
    person = services.person_for(id_number=number, name="王五")
    assert key_of(raw_row(person)[0]) == "test1"

    # A new key goes first; the old one stays listed until everything is re-encrypted.
    settings.PII_KEYS = f"test2:{TEST_PII_KEY_2},{TEST_PII_KEYS}"
    assert Person.objects.get(pk=person.pk).id_number == number
    newcomer = services.person_for(id_number=resident_id("320102", "19930303"), name="赵六")
    assert key_of(raw_row(newcomer)[0]) == "test2"

    out = io.StringIO()
    call_command("privacy_rekey", stdout=out)
    assert "re-encrypted" in out.getvalue()
    assert key_of(raw_row(person)[0]) == "test2"
    assert raw_row(person)[1] == hmac_index(number)  # the index does not change

    settings.PII_KEYS = f"test2:{TEST_PII_KEY_2}"  # the old key removed
    assert Person.objects.get(id_number=number).id_number == number


def test_a_wrong_or_missing_key_fails_cleanly(settings, world, client_for):
    person = world.shanghai.field_user.person
    settings.PII_KEYS = f"test1:{TEST_PII_KEY_2}"  # the right id, another key
    with pytest.raises(crypto.UnreadableError):
        Person.objects.get(pk=person.pk)
    settings.PII_KEYS = f"other:{TEST_PII_KEY_1}"  # the key under another id: not listed
    with pytest.raises(crypto.UnreadableError):
        Person.objects.get(pk=person.pk)
    # Through the API: a 503 with its code, not a 500 and not garbage.
    response = client_for(world.shanghai.main).get(f"/api/v1/staff/{person.employments.first().pk}")
    assert response.status_code == 503
    assert response.json()["code"] == "pii_unreadable"
    settings.PII_KEYS = ""
    with pytest.raises(ImproperlyConfigured, match="PII_KEYS and PII_INDEX_KEY"):
        Person.objects.get(pk=person.pk)


def test_a_ciphertext_moved_elsewhere_does_not_open():
    token = crypto.encrypt_text("310104199001011234", purpose=PURPOSE)
    assert crypto.decrypt_text(token, purpose=PURPOSE) == "310104199001011234"
    with pytest.raises(crypto.UnreadableError):
        crypto.decrypt_text(token, purpose="registry.Person.phone")
    tampered = bytearray(base64.urlsafe_b64decode(token))
    tampered[-1] ^= 1
    with pytest.raises(crypto.UnreadableError):
        crypto.decrypt_text(base64.urlsafe_b64encode(bytes(tampered)).decode(), purpose=PURPOSE)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "lists no key"),
        ("nokey", "id:base64key"),
        ("a:not base64!", "not base64"),
        ("a:" + base64.b64encode(b"short").decode(), "AES-256 needs 32"),
        (f"a:{TEST_PII_KEY_1},a:{TEST_PII_KEY_2}", "listed twice"),
    ],
)
def test_bad_key_lists_are_refused(value, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.parse_keys(value)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_data_migration_encrypts_existing_rows_and_back():
    """Numbers stored in plain text before 0005 come out encrypted and indexed, and back again."""
    executor = MigrationExecutor(connection)
    executor.migrate([("registry", "0004_person_id_index")])
    old = MigrationExecutor(connection).loader.project_state(("registry", "0004_person_id_index")).apps
    number = resident_id("510104", "19800808")
    old_person_model = old.get_model("registry", "Person")
    legacy = old_person_model.objects.create(
        id_number=number, name="老数据", gender="male", birth_date="1980-08-08"
    )
    try:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
        person = Person.objects.get(id_number=number)
        assert person.pk == legacy.pk
        assert number not in raw_row(person)[0]
        assert raw_row(person)[1] == hmac_index(number)

        executor = MigrationExecutor(connection)
        executor.migrate([("registry", "0004_person_id_index")])
        with connection.cursor() as cursor:
            cursor.execute("SELECT id_number, id_index FROM registry_person WHERE id = %s", [legacy.pk])
            assert cursor.fetchone() == (number, None)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
