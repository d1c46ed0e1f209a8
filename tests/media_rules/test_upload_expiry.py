"""Abandoned resumable uploads are removed with their chunks; live ones stay."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from media_rules.intake import expire_uploads, upload_chunk, upload_start
from media_rules.models import Upload

pytestmark = pytest.mark.django_db


def test_expired_uploads_and_their_chunks_are_removed(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = b"\xff\xd8" + b"x" * 5000
    sha = hashlib.sha256(data).hexdigest()
    user = world.shanghai.field_user
    stale = upload_start(user=user, sha256=sha, size=len(data))
    upload_chunk(upload=stale, offset=0, stream=io.BytesIO(data[:1000]))
    assert default_storage.exists(f"uploads/{stale.pk}/000000")
    live = upload_start(user=world.jiangsu.field_user, sha256=sha, size=len(data))
    Upload.objects.filter(pk=stale.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert expire_uploads() == 1
    assert not Upload.objects.filter(pk=stale.pk).exists()
    assert not default_storage.exists(f"uploads/{stale.pk}/000000")
    assert Upload.objects.filter(pk=live.pk).exists()
    assert expire_uploads() == 0
