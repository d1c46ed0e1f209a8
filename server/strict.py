"""Input serializers read strictly (F10 items 5 and 6), for both doors of a write: the REST API
(``mobile_api.common.parse``) and the sync operations' payloads (``sync.engine``).

- A key no field reads is refused, never silently dropped: phones send what they think the API takes,
  and a check-in sent with ``mock_location`` was once stored ``inside`` because the check-in read
  ``mock``. ``validation_errors`` names each unknown key, in nested serializers and lists of them too,
  in DRF's error shape (``{"points": {3: {"mock": [...]}}}``). A serializer may say what an old name
  became (``renamed_fields``): the message then names the new one.
- A value outside a ChoiceField's choices is refused with the values allowed (``install``: DRF's
  message said only ``"x" is not a valid choice.``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from django.utils import translation
from rest_framework import serializers

from server.errors import VALIDATION_FAILED, DomainError

# Choices listed in an invalid-choice message; past this many the list ends with "…".
MAX_CHOICES_LISTED = 40
# The key a Django form posts with its CSRF token: not a field, not a mistake.
CSRF_KEY = "csrfmiddlewaretoken"


def _english() -> bool:
    return (translation.get_language() or "").lower().startswith("en")


def unknown_message(name: str, renamed: str | None = None) -> str:
    if renamed:
        if _english():
            return f"Unknown field “{name}”: it is now “{renamed}”."
        return f"未知字段「{name}」：请改用「{renamed}」。"
    if _english():
        return f"Unknown field “{name}”: this request does not take it."
    return f"未知字段「{name}」：本接口不接受此字段。"


def _form_key(key: str) -> str:
    # A form's nested keys (DRF's html input): ``points[0]time`` is points', ``given.lon`` is given's.
    return re.split(r"[\[.]", key, maxsplit=1)[0]


def unknown_fields(field: serializers.Field, data: Any) -> dict:
    """The keys of ``data`` that ``field`` (a serializer, a list of them, or any field) does not
    read, in DRF's error shape; {} when there are none. Values of the wrong type are left to the
    field's own validation."""
    if isinstance(field, (serializers.ListSerializer, serializers.ListField)):
        if not isinstance(data, list):
            return {}
        found = {i: unknown_fields(field.child, item) for i, item in enumerate(data)}
        return {i: errors for i, errors in found.items() if errors}
    if not isinstance(field, serializers.Serializer) or not isinstance(data, Mapping):
        return {}
    fields = field.fields
    renamed = getattr(field, "renamed_fields", {})
    form = isinstance(data, QueryDict)
    errors: dict = {}
    for key in data:
        name = _form_key(key) if form else key
        if name not in fields and not (form and key == CSRF_KEY):
            errors[key] = [unknown_message(key, renamed.get(key))]
    if not form:
        for name, child in fields.items():
            if name in data and not child.read_only and (nested := unknown_fields(child, data[name])):
                errors[name] = nested
    return errors


def _merged(errors: Any, more: dict) -> Any:
    if not isinstance(errors, Mapping):
        return errors or more
    merged = dict(errors)
    for key, value in more.items():
        both = isinstance(merged.get(key), Mapping) and isinstance(value, Mapping)
        merged[key] = _merged(merged[key], value) if both else merged.get(key) or value
    return merged


def validation_errors(serializer: serializers.BaseSerializer) -> Any:
    """Validate ``serializer`` (built with ``data=``) and refuse the keys no field reads. Returns
    its errors, the unknown keys among them; empty when the data is valid."""
    unknown = unknown_fields(serializer, serializer.initial_data)
    valid = serializer.is_valid()
    if valid and not unknown:
        return {}
    return _merged({} if valid else serializer.errors, unknown)


# --- References ----------------------------------------------------------------------------------
def missing_reference(field: str, value: Any) -> DomainError:
    """A body names (in ``field``) an object that is not there for this user: whether it does not
    exist or belongs to another tenant, the same 400 (F10 item 6)."""
    value = str(value)[:100]
    if _english():
        message = f"“{value}” does not exist or you may not use it."
    else:
        message = f"「{value}」不存在或无权访问。"
    return DomainError(VALIDATION_FAILED, details={field: [message]})


# --- Choices -------------------------------------------------------------------------------------
def invalid_choice_message(value: Any, allowed: list[str]) -> str:
    value = str(value)[:100]
    listed = allowed[:MAX_CHOICES_LISTED] + (["…"] if len(allowed) > MAX_CHOICES_LISTED else [])
    if _english():
        return f"“{value}” is not a valid choice; allowed: {', '.join(listed)}."
    return f"「{value}」不是有效的选项；可选值：{'、'.join(listed)}。"


def _allowed(field: serializers.ChoiceField) -> list[str]:
    return [str(key) for key in field.choice_strings_to_values if key != ""]


def install() -> None:
    """Every ChoiceField (MultipleChoiceField and ModelSerializer's too) names the values allowed
    when it refuses one (F10 item 6). Patched once here, from ServerConfig.ready, rather than a
    subclass every serializer would have to remember."""
    original = serializers.ChoiceField.to_internal_value
    if getattr(original, "lists_choices", False):
        return

    def to_internal_value(self, data):
        try:
            return original(self, data)
        except serializers.ValidationError as exc:
            if exc.get_codes() != ["invalid_choice"]:
                raise
            message = invalid_choice_message(data, _allowed(self))
            raise serializers.ValidationError(message, code="invalid_choice") from None

    to_internal_value.lists_choices = True
    serializers.ChoiceField.to_internal_value = to_internal_value
