"""A phone against a real server, over HTTP only (``requests``): password sign-in, a queue of offline
operations pushed in batches, photos sent with their manifest as ``wx.uploadFile`` does.

The world it plays in is made by ``WORLD`` (``manage(env, code=WORLD)``): the tests' ``build_world``
with the sampler's password set, so the phone signs in as a real one does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field

import requests

from tests.factories import PASSWORD

# build_world hashes its many passwords with MD5 (fast); the server knows only the real hashers, so
# the sampler's password is set again with PBKDF2, the production default.
WORLD = """
import django, json
django.setup()
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from tests.factories import PASSWORD, build_world
world = build_world()
side = world.shanghai
user = side.field_user
hasher = PBKDF2PasswordHasher()
user.password = hasher.encode(PASSWORD, hasher.salt())
user.save(update_fields=["password"])
outlet = side.wastewater
print(json.dumps({"username": user.username, "project": side.project.pk, "outlet": outlet.pk,
                  "outlet_lon": outlet.location.x, "outlet_lat": outlet.location.y}))
"""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class HttpPhone:
    base_url: str
    device_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    token: str = ""
    next_seq: int = 1
    session: requests.Session = field(default_factory=requests.Session)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def sign_in(self, username: str, password: str = PASSWORD) -> dict:
        response = self.session.post(
            f"{self.base_url}/api/v1/auth/login",
            json={
                "username": username,
                "password": password,
                "device": {"id": self.device_id, "platform": "android", "app_version": "2.3.0"},
            },
            timeout=60,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        self.token = body["token"]
        return body

    def op(
        self,
        type: str,
        entity_id,
        payload: dict,
        *,
        at: dt.datetime,
        base_version: int | None = None,
    ) -> dict:
        """An operation made offline at ``at`` (the phone's clock), for a later push."""
        made = {
            "op_id": str(uuid.uuid4()),
            "seq": self.next_seq,
            "type": type,
            "entity_id": str(entity_id),
            "base_version": base_version,
            "device_time": at.isoformat(),
            "payload": payload,
        }
        self.next_seq += 1
        return made

    def push(self, ops: list[dict], timeout: float = 60) -> requests.Response:
        body = {"device_id": self.device_id, "device_time": dt.datetime.now(dt.UTC).isoformat(), "ops": ops}
        return self.session.post(
            f"{self.base_url}/api/v1/sync/push", json=body, headers=self.headers(), timeout=timeout
        )

    def pull(self, cursor: int = 0) -> requests.Response:
        return self.session.get(
            f"{self.base_url}/api/v1/sync/pull",
            params={"cursor": cursor},
            headers=self.headers(),
            timeout=60,
        )

    def upload(self, photo_id: str, data: bytes, manifest: dict, timeout: float = 60) -> requests.Response:
        """``POST /photos``: the file and its manifest as form fields (all strings, as WeChat sends)."""
        fields = {"id": photo_id, "sha256": sha256(data), **{k: str(v) for k, v in manifest.items()}}
        return self.session.post(
            f"{self.base_url}/api/v1/photos",
            data=fields,
            files={"file": ("wx-tmp.jpg", data, "application/octet-stream")},
            headers=self.headers(),
            timeout=timeout,
        )

    def get(self, path: str, timeout: float = 60, **params) -> requests.Response:
        return self.session.get(
            f"{self.base_url}{path}", params=params, headers=self.headers(), timeout=timeout
        )


def world_of(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def photo_manifest(world: dict, task_id: str, photo_type: str, at: dt.datetime) -> dict:
    """Taken at the outlet (the phone's own WGS-84 fix) at ``at``."""
    return {
        "photo_type": photo_type,
        "task": task_id,
        "outlet": world["outlet"],
        "longitude": world["outlet_lon"],
        "latitude": world["outlet_lat"],
        "coordinate_system": "wgs84",
        "accuracy_m": 6.0,
        "device_time": at.isoformat(),
    }
