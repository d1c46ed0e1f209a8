"""The API's JSON renderer."""

from __future__ import annotations

import datetime as dt

from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from server.fields import instant


class Encoder(JSONEncoder):
    """DRF's encoder, with moments written as serializer fields write them (F10 item 7): a datetime
    put straight into an answer (read back from the database, in UTC) was written ``...Z`` beside
    the serializers' ``+08:00``."""

    def default(self, obj):
        if isinstance(obj, dt.datetime) and obj.tzinfo is not None:
            return instant(obj)
        return super().default(obj)


class JSONRenderer(DRFJSONRenderer):
    encoder_class = Encoder
