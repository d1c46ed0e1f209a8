"""Model fields for personal information at rest (``server.privacy.crypto``): an encrypted text column
that reads as plain text, and its blind index.

    id_number = EncryptedCharField("身份证号", purpose="registry.Person.id_number", index_field="id_index",
                                   plain_max_length=18)
    id_index = BlindIndexField(source="id_number", unique=True)

Code reads and writes ``person.id_number`` as before. The database holds only ciphertext (a new random
nonce on every save) and the HMAC in ``id_index``, which ``pre_save`` keeps in step with the number.
An equality lookup on the encrypted field (``filter(id_number=n)``, ``person__id_number=n``,
``get_or_create(id_number=n)``) is compiled into an equality on the blind index, so no caller can
forget it; any other lookup (``contains``, ``startswith``, ordering by value) is refused, since
ciphertext has no order and no substrings. ``QuerySet.update(id_number=...)`` bypasses ``pre_save``
and would leave the index stale: change the number through ``save()``.
"""

from __future__ import annotations

from django.core.exceptions import FieldError
from django.db import models
from django.db.models.expressions import Col
from django.db.models.lookups import Lookup

from server.privacy import crypto

_ALLOWED_LOOKUPS = {"exact", "isnull"}


class EncryptedCharField(models.CharField):
    description = "Text encrypted at rest (AES-256-GCM), looked up by its blind index"

    def __init__(
        self,
        *args,
        purpose: str = "",
        index_field: str = "",
        plain_max_length: int | None = None,
        **kwargs,
    ) -> None:
        self.purpose = purpose
        self.index_field = index_field
        self.plain_max_length = plain_max_length
        kwargs.setdefault("max_length", 200)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(
            purpose=self.purpose, index_field=self.index_field, plain_max_length=self.plain_max_length
        )
        if kwargs.get("max_length") == 200:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return crypto.decrypt_text(value, purpose=self.purpose)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return crypto.encrypt_text(value, purpose=self.purpose)

    def get_lookup(self, lookup_name):
        if lookup_name not in _ALLOWED_LOOKUPS:
            return None  # Django reports "Unsupported lookup"
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name):
        return None

    def formfield(self, **kwargs):
        return super().formfield(**{"max_length": self.plain_max_length, **kwargs})


@EncryptedCharField.register_lookup
class BlindIndexExact(Lookup):
    """``encrypted = value`` as ``index = HMAC(value)``, on the same table alias."""

    lookup_name = "exact"
    prepare_rhs = False

    def __init__(self, lhs, rhs) -> None:
        if rhs is None:  # Django turns "= None" into IS NULL on the column itself
            super().__init__(lhs, rhs)
            return
        field = lhs.output_field
        if not isinstance(lhs, Col) or not field.index_field:
            raise FieldError(f"{field.name}: only the column itself can be compared with a value.")
        index = field.model._meta.get_field(field.index_field)
        super().__init__(Col(lhs.alias, index), crypto.blind_index(rhs, purpose=field.purpose))

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs_sql} = {rhs_sql}", (*lhs_params, *rhs_params)


class BlindIndexField(models.CharField):
    """HMAC-SHA256 (hex) of another field's normalised value, computed whenever the row is saved."""

    description = "Blind index (HMAC-SHA256) of an encrypted field"

    def __init__(self, *args, source: str = "", **kwargs) -> None:
        self.source = source
        kwargs["max_length"] = 64
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        del kwargs["max_length"], kwargs["editable"]
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.source)
        purpose = model_instance._meta.get_field(self.source).purpose
        index = crypto.blind_index(value, purpose=purpose) if value else None
        setattr(model_instance, self.attname, index)
        return index
