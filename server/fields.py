"""Serializer fields shared by the API (mobile_api) and the sync operations' payloads."""

from __future__ import annotations

from rest_framework import serializers

MAX_ID = 2**63 - 1  # the largest id a database key holds


class IdField(serializers.IntegerField):
    """The id of a stored row, as a phone or a page sends it: 1 to MAX_ID. A larger number could name
    nothing, and SQLite cannot even compare one (OverflowError, a 500): it is a 400."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
