"""违规待整改 and 历史整改记录 through the API: a regulator opens a violation, the agency rectifies,
the regulator rejects with a reason, the agency rectifies again, the regulator accepts (销号)."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from server.violations.models import Rectification, Violation, ViolationEvent
from tests.support.storage import stored_files
from tests.violations.helpers import API, in_days, opened, rectify, review

pytestmark = pytest.mark.django_db


def stored_state(violation_id: int) -> tuple:
    violation = Violation.objects.get(pk=violation_id)
    return (
        violation.status,
        list(violation.rectifications.order_by("id").values_list("outcome", "rejection_reason")),
        list(violation.events.order_by("id").values_list("from_status", "to_status")),
    )


def test_open_rectify_reject_rectify_accept(side, client_for):
    regulator, main, manager = (client_for(u) for u in (side.regulator, side.main, side.manager))

    # The regulator opens a violation on a project in its region.
    body = opened(regulator, side.project, days=10, description=" 采样记录缺少采样人签字 ")
    vid = body["id"]
    violation = Violation.objects.get(pk=vid)
    assert (violation.status, violation.project_id, violation.opened_by_id) == (
        "open",
        side.project.pk,
        side.regulator.pk,
    )
    assert violation.description == "采样记录缺少采样人签字"
    assert violation.deadline == in_days(10)
    assert body["status"] == "open"
    assert body["status_label"] == "待整改"
    assert body["overdue"] is False
    assert body["project_name"] == side.project.name
    assert body["agency"] == side.agency.pk
    assert (body["rectifications"], body["history"]) == ([], [])

    # The agency's main account rectifies, with an attachment (multipart).
    content = b"%PDF-1.4 rectification report"
    upload = SimpleUploadedFile("整改报告.pdf", content, content_type="application/pdf")
    response = main.post(
        f"{API}/violations/{vid}/rectify", {"text": "已补签", "file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "rectified"
    first = Rectification.objects.get(violation_id=vid)
    assert (first.text, first.outcome, first.submitted_by_id) == ("已补签", "pending", side.main.pk)
    assert (first.file_name, first.size) == ("整改报告.pdf", len(content))
    assert first.sha256 == hashlib.sha256(content).hexdigest()
    with first.file.open("rb") as stored:
        assert stored.read() == content

    # Rejecting needs a reason; without one nothing changes.
    before = stored_state(vid)
    for body in (None, "", "   "):
        response = review(regulator, vid, "reject", body)
        assert response.status_code == 400
        assert response.json()["code"] == "rectification_reject_reason_required"
    assert stored_state(vid) == before

    response = review(regulator, vid, "reject", "签字页照片模糊，请重新上传")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "open"
    first.refresh_from_db()
    assert (first.outcome, first.rejection_reason) == ("rejected", "签字页照片模糊，请重新上传")
    assert first.reviewed_by_id == side.regulator.pk
    assert first.reviewed_at is not None

    # The manager account rectifies again, as JSON this time.
    response = rectify(manager, vid, "已重新拍摄签字页")
    assert response.status_code == 201, response.json()

    response = review(regulator, vid, "accept")
    assert response.status_code == 200, response.json()
    detail = response.json()
    assert (detail["status"], detail["status_label"], detail["overdue"]) == ("closed", "已销号", False)

    # Both rectifications are kept, in the order they were submitted, with how each was judged.
    assert [
        (r["text"], r["outcome"], r["rejection_reason"], r["has_file"]) for r in detail["rectifications"]
    ] == [
        ("已补签", "rejected", "签字页照片模糊，请重新上传", True),
        ("已重新拍摄签字页", "accepted", "", False),
    ]
    assert [r["submitted_by"] for r in detail["rectifications"]] == [side.main.pk, side.manager.pk]
    assert [(h["from_status"], h["to_status"], h["actor"], h["reason"]) for h in detail["history"]] == [
        ("open", "rectified", side.main.pk, ""),
        ("rectified", "open", side.regulator.pk, "签字页照片模糊，请重新上传"),
        ("open", "rectified", side.manager.pk, ""),
        ("rectified", "closed", side.regulator.pk, ""),
    ]
    assert stored_state(vid) == (
        "closed",
        [("rejected", "签字页照片模糊，请重新上传"), ("accepted", "")],
        [("open", "rectified"), ("rectified", "open"), ("open", "rectified"), ("rectified", "closed")],
    )
    assert main.get(f"{API}/violations/{vid}").json() == detail

    # 历史整改记录: both rows, newest first, each with its violation.
    history = main.get(f"{API}/rectifications").json()
    assert history["count"] == 2
    assert [r["text"] for r in history["results"]] == ["已重新拍摄签字页", "已补签"]
    summary = history["results"][0]["violation"]
    assert summary == {
        "id": vid,
        "project": side.project.pk,
        "project_number": side.project.number,
        "project_name": side.project.name,
        "description": "采样记录缺少采样人签字",
        "deadline": in_days(10).isoformat(),
        "status": "closed",
        "status_label": "已销号",
        "overdue": False,
    }
    # The rejected attachment can still be read back.
    download = regulator.get(f"{API}/rectifications/{first.pk}/file")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert regulator.get(f"{API}/rectifications/{history['results'][0]['id']}/file").status_code == 404


def test_a_closed_violation_cannot_be_rectified_or_reviewed_again(side, client_for, settings):
    regulator, main = client_for(side.regulator), client_for(side.main)
    vid = opened(regulator, side.project)["id"]
    assert rectify(main, vid).status_code == 201
    assert review(regulator, vid, "accept").status_code == 200
    before = stored_state(vid)
    upload = SimpleUploadedFile("again.pdf", b"again", content_type="application/pdf")
    response = main.post(
        f"{API}/violations/{vid}/rectify", {"text": "再次整改", "file": upload}, format="multipart"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "violation_closed"
    for verdict, reason in (("accept", None), ("reject", "不合格")):
        response = review(regulator, vid, verdict, reason)
        assert response.status_code == 409
        assert response.json()["code"] == "violation_closed"
    assert stored_state(vid) == before
    assert stored_files(settings.MEDIA_ROOT) == []  # the refused upload left no file behind


def test_one_rectification_waits_for_review_at_a_time(side, client_for):
    regulator, main = client_for(side.regulator), client_for(side.main)
    vid = opened(regulator, side.project)["id"]
    response = review(regulator, vid, "accept")
    assert response.status_code == 409
    assert response.json()["code"] == "rectification_not_submitted"
    assert rectify(main, vid).status_code == 201
    again = rectify(client_for(side.manager), vid, "补充说明")
    assert again.status_code == 409
    assert again.json()["code"] == "rectification_pending"
    assert stored_state(vid) == ("rectified", [("pending", "")], [("open", "rectified")])


def test_who_may_do_what(side, client_for):
    regulator, main = client_for(side.regulator), client_for(side.main)
    vid = opened(regulator, side.project)["id"]
    # Field staff and reviewers of the agency see the violation but do not rectify; regulators do not rectify.
    for user in (side.field_user, side.reviewer, side.regulator):
        response = rectify(client_for(user), vid)
        assert response.status_code == 403, user.role
        assert response.json()["code"] == "violation_actor_not_allowed"
    assert rectify(main, vid).status_code == 201
    # The agency does not judge its own rectification.
    for user in (side.main, side.manager):
        for verdict, reason in (("accept", None), ("reject", "自己退回")):
            response = review(client_for(user), vid, verdict, reason)
            assert response.status_code == 403
            assert response.json()["code"] == "violation_actor_not_allowed"
    # Only regulators open violations, even on a project the user can see.
    for user in (side.main, side.enterprise_user, side.field_user):
        response = client_for(user).post(
            f"{API}/violations",
            {"project": side.project.pk, "description": "x", "deadline": in_days(3).isoformat()},
            format="json",
        )
        assert response.status_code == 403, user.role
        assert response.json()["code"] == "violation_actor_not_allowed"
    assert Violation.objects.count() == 1
    assert stored_state(vid) == ("rectified", [("pending", "")], [("open", "rectified")])


def test_a_platform_administrator_opens_and_judges_anywhere(world, client_for):
    platform = client_for(world.platform)
    for side in (world.shanghai, world.jiangsu):
        vid = opened(platform, side.project)["id"]
        assert rectify(client_for(side.main), vid).status_code == 201
        assert review(platform, vid, "reject", "材料不全").status_code == 200
    assert Violation.objects.filter(status="open").count() == 2
    assert Rectification.objects.filter(outcome="rejected").count() == 2


def test_messages_in_english_when_asked(side, client_for):
    regulator = client_for(side.regulator, "en")
    response = regulator.post(
        f"{API}/violations",
        {"project": side.project.pk, "description": "x", "deadline": in_days(-1).isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "violation_deadline_past"
    assert response.json()["message"].startswith("The deadline")


def test_lists_run_a_fixed_number_of_queries(side, client_for):
    regulator, main = client_for(side.regulator), client_for(side.main)

    def counts() -> tuple[int, int]:
        result = []
        for path in ("violations", "rectifications"):
            with CaptureQueriesContext(connection) as ctx:
                response = regulator.get(f"{API}/{path}")
            assert response.status_code == 200
            result.append(len(ctx.captured_queries))
        return tuple(result)

    vid = opened(regulator, side.project)["id"]
    rectify(main, vid)
    few = counts()
    for _ in range(4):
        vid = opened(regulator, side.project)["id"]
        rectify(main, vid)
    assert counts() == few
    assert ViolationEvent.objects.count() == 5
