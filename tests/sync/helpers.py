"""A phone, as the sync tests play it: an enrolled device with a token, a queue of operations."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.utils import timezone

from server.accounts.services import DeviceInfo, token_issue
from tests.conftest import CheckedAPIClient


@dataclass
class Phone:
    user: object
    device_id: str
    token: str
    clock_skew: dt.timedelta = dt.timedelta(0)  # how wrong the phone's clock is
    next_seq: int = 1
    queue: list[dict] = field(default_factory=list)

    @classmethod
    def enrol(cls, user, clock_skew: dt.timedelta = dt.timedelta(0)) -> Phone:
        device_id = str(uuid.uuid4())
        issued = token_issue(user=user, info=DeviceInfo(id=device_id, platform="wechat", app_version="2.0.0"))
        return cls(user=user, device_id=device_id, token=issued.token, clock_skew=clock_skew)

    def now(self) -> dt.datetime:
        return timezone.now() + self.clock_skew

    def op(
        self, type: str, entity_id, payload: dict | None = None, base_version: int | None = None, **kw
    ) -> dict:
        op = {
            "op_id": str(uuid.uuid4()),
            "seq": self.next_seq,
            "type": type,
            "entity_id": str(entity_id),
            "base_version": base_version,
            "device_time": kw.get("device_time", self.now()).isoformat(),
            "payload": payload or {},
        }
        self.next_seq += 1
        self.queue.append(op)
        return op

    def client(self) -> CheckedAPIClient:
        client = CheckedAPIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.token}")
        return client

    def push(self, ops: list[dict] | None = None, client=None):
        ops = self.queue if ops is None else ops
        body = {"device_id": self.device_id, "device_time": self.now().isoformat(), "ops": ops}
        return (client or self.client()).post("/api/v1/sync/push", body, format="json")

    def pull(self, cursor: int = 0, **params):
        return self.client().get("/api/v1/sync/pull", {"cursor": cursor, **params})
