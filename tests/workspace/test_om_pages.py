"""O&M records in the workspace with the test client: a record's page shows the form as the technician
filled it (answers, computed values with their limits, the one out of limit marked), its check-ins,
signature, work photo, versions, confirmations and reviews; the enterprise confirms a day with a
drawn signature and a work photo (through the same intake and service as the API), and sees its
history; the agency's reviewer confirms or voids, in batches from the queue or one from the record's
page. What the services refuse is said in the form and changes nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from media_rules.models import Photo
from server.om import records as om_records
from server.om.models import DayConfirmation, OmRecord, Review
from tests.om.helpers import signature_b64
from tests.workspace.conftest import om_record, signed_in
from tests.workspace.helpers import machine_words, visible_text
from tests.workspace.om_scene import confirmed_by_enterprise, face_file, om_day, upload

pytestmark = pytest.mark.django_db

# Names in the forms' own data (standards, analytes) a person reads as they are.
STANDARD_WORDS = {"COD", "HJ", "CODCr", "TOC", "NMHC", "CEMS"}


def person_words(text: str) -> list[str]:
    return [w for w in machine_words(text) if w not in STANDARD_WORDS]


def signing_fields(response, **extra) -> dict:
    """What the page's signing form sends: its hidden fields as rendered, a drawn signature, a photo."""
    form = response.context["form"] if "form" in response.context else response.context["review_form"]
    fields = {name: form[name].value() for name in ("act", "photo_id") if form[name].value()}
    if "seen" in form.fields:
        fields["seen"] = form["seen"].value()
    return {**fields, "signature": signature_b64(3), "work_photo": face_file(), **extra}


# --- A record's page ------------------------------------------------------------------------------
def test_a_record_reads_as_the_form_was_filled(world):
    side = world.shanghai
    day = om_day(side)
    record = day.calibration
    response = signed_in(side.enterprise_user).get(f"/om/records/{record.pk}/")
    assert response.status_code == 200
    text = visible_text(response)
    assert "标样核查及校准" in text
    assert "待企业确认" in text
    assert "标准样品测定值 12 mg/L" in text  # an item and its answer, with the unit
    # The computed value, the limit it was judged against and the clause, out of limit and marked.
    assert "标样核查相对误差 20% ±10% 超出限值" in text
    assert "HJ 355-2019" in text
    html = response.content.decode()
    marked = html.split('class="out-of-limit"')
    assert len(marked) == 2
    assert "标样核查相对误差" in marked[1].split("</tr>")[0]
    assert "零点漂移 0% ±5%F.S. 合格" in text
    assert "3 项， 1 项超出限值" in text
    # The check-ins (time, distance, verdict), the filler's signature and work photo.
    assert (
        "开始签到（填报前） " + timezone.localtime(record.start_checkin.at).strftime("%Y-%m-%d %H:%M") in text
    )
    assert "20 米（围栏 150 米）" in text
    assert "在电子围栏内" in text
    assert f'src="/api/v1/om/records/{record.pk}/signature"' in html
    assert f'href="/photos/{record.work_photo_id}/"' in html
    assert "第 1 版（当前）" in text
    assert "草稿 → 待企业确认" in text
    assert person_words(text) == []
    # The day to confirm is one click away for the enterprise.
    assert f'href="/enterprise/days/{day.day.isoformat()}/"' in html


def test_an_abnormal_item_is_marked_with_its_note(world):
    side = world.shanghai
    day = om_day(side)
    response = signed_in(side.reviewer).get(f"/om/records/{day.inspection.pk}/")
    assert '<span class="badge fail">不正常（站房漏雨）</span>' in response.content.decode()
    assert "日检查维护" in visible_text(response)


def test_the_signature_image_is_served_to_whoever_sees_the_record(world):
    side, other = world.shanghai, world.jiangsu
    day = om_day(side)
    url = f"/api/v1/om/records/{day.calibration.pk}/signature"
    answer = signed_in(side.enterprise_user).get(url)
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert signed_in(other.enterprise_user).get(url).status_code == 404


def test_an_earlier_version_is_shown_as_it_was(world):
    side = world.shanghai
    day = om_day(side)
    record = day.calibration
    template = record.template
    answers = dict(record.answers)
    block = dict(answers["check_cod"][str(side.instrument.pk)])
    block["std_measured"] = 10.5
    answers["check_cod"] = {str(side.instrument.pk): block}
    om_records.record_save(
        actor=side.technician_user,
        record_id=record.pk,
        task=side.om_task,
        outlet=side.wastewater,
        template=template,
        instruments=[side.instrument],
        groups=record.groups,
        answers=answers,
        start_checkin=None,
        note="标样重测",
    )
    client = signed_in(side.reviewer)
    now = visible_text(client.get(f"/om/records/{record.pk}/"))
    assert "标样核查相对误差 5% ±10% 合格" in now
    assert "第 2 版（当前）" in now
    assert "标样重测" in now
    before = visible_text(client.get(f"/om/records/{record.pk}/", {"version": 1}))
    assert "您正在查看修改前的版本：第 1 版" in before
    assert "标样核查相对误差 20% ±10% 超出限值" in before
    assert client.get(f"/om/records/{record.pk}/", {"version": 7}).status_code == 404
    assert client.get(f"/om/records/{record.pk}/", {"version": "x"}).status_code == 404


@pytest.mark.parametrize("role", ["agency_main", "agency_reviewer", "enterprise", "regulator"])
def test_another_sides_record_is_not_found(world, role):
    own, other = world.shanghai, world.jiangsu
    theirs = om_day(other).calibration
    mine = om_day(own, seed=2).calibration
    client = signed_in(own.users[role])
    assert client.get(f"/om/records/{mine.pk}/").status_code == 200
    response = client.get(f"/om/records/{theirs.pk}/")
    assert response.status_code == 404
    assert "未找到" in visible_text(response)
    assert client.get(f"/om/records/{uuid.uuid4()}/").status_code == 404


def test_a_draft_is_the_agencys_not_the_enterprises(world):
    side = world.shanghai
    draft = om_record(side, OmRecord.Status.DRAFT, timezone.localdate())
    assert signed_in(side.enterprise_user).get(f"/om/records/{draft.pk}/").status_code == 404
    assert signed_in(side.main).get(f"/om/records/{draft.pk}/").status_code == 200


# --- The enterprise confirms a day ----------------------------------------------------------------
def test_the_enterprise_confirms_a_day_with_a_drawn_signature_and_a_work_photo(world):
    side = world.shanghai
    day = om_day(side)
    client = signed_in(side.enterprise_user)
    home = client.get("/enterprise/")
    assert f'name="date" value="{day.day.isoformat()}"' in home.content.decode()  # as the input reads it
    assert f'href="/enterprise/days/{day.day.isoformat()}/"' in home.content.decode()
    assert f'href="/om/records/{day.calibration.pk}/"' in home.content.decode()
    page = client.get(f"/enterprise/days/{day.day.isoformat()}/")
    assert page.status_code == 200
    html = page.content.decode()
    for record in day.records:
        assert f'href="/om/records/{record.pk}/"' in html
    assert 'capture="user"' in html
    assert "<canvas" in html
    assert "1 项超出限值" in visible_text(page)

    answer = client.post(f"/enterprise/days/{day.day.isoformat()}/", signing_fields(page), follow=True)
    assert answer.redirect_chain == [(f"/enterprise/days/{day.day.isoformat()}/", 302)]
    assert f"已确认 {day.day} 的 2 条运维记录。" in visible_text(answer)
    for record in day.records:
        record.refresh_from_db()
        assert record.status == OmRecord.Status.CONFIRMED
    confirmation = DayConfirmation.objects.get(enterprise=side.enterprise, om_date=day.day)
    assert confirmation.actor == side.enterprise_user
    assert sorted(str(i.record_id) for i in confirmation.items.all()) == sorted(
        str(r.pk) for r in day.records
    )
    photo = confirmation.work_photo
    # The same intake and record as POST /photos: the file stored by its hash, judged, at the outlet.
    assert (photo.photo_type_id, photo.taken_by, photo.outlet) == (
        "work_photo",
        side.enterprise_user,
        side.wastewater,
    )
    assert photo.blob is not None
    assert photo.verdict in ("pass", "warn", "fail")
    assert photo.agency_id == side.agency.pk
    assert confirmation.signature.format == "png"

    # The day now says it was confirmed; the history lists the confirmation with its signature.
    assert "这一天没有待确认的记录" in visible_text(answer)
    history = client.get("/enterprise/confirmations/")
    text = visible_text(history)
    assert f"{day.day} 2 条记录" in text
    signature_url = f"/om/confirmations/{confirmation.pk}/signature"
    assert signature_url in history.content.decode()
    image = client.get(signature_url)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    # Each record's page shows who confirmed it, with the signature and the work photo.
    record_page = client.get(f"/om/records/{day.calibration.pk}/")
    assert signature_url in record_page.content.decode()
    assert f'href="/photos/{photo.pk}/"' in record_page.content.decode()
    assert "确认了第 1 版" in visible_text(record_page)


def test_a_confirmation_sent_twice_confirms_once(world):
    side = world.shanghai
    day = om_day(side)
    client = signed_in(side.enterprise_user)
    url = f"/enterprise/days/{day.day.isoformat()}/"
    fields = signing_fields(client.get(url))
    assert client.post(url, fields).status_code == 302
    fields["work_photo"] = face_file()  # the browser sends the file again
    again = client.post(url, fields, follow=True)
    assert "这次确认已提交过" in visible_text(again)
    assert DayConfirmation.objects.filter(enterprise=side.enterprise).count() == 1
    assert Photo.objects.filter(taken_by=side.enterprise_user).count() == 1


def test_a_blank_signature_is_refused_and_nothing_is_kept(world):
    side = world.shanghai
    day = om_day(side)
    client = signed_in(side.enterprise_user)
    url = f"/enterprise/days/{day.day.isoformat()}/"
    answer = client.post(url, signing_fields(client.get(url), signature=signature_b64(blank=True)))
    assert answer.status_code == 400
    assert "签名" in visible_text(answer)
    assert "空白" in visible_text(answer)
    assert 'class="field pad invalid"' in answer.content.decode()  # said beside the pad
    assert not DayConfirmation.objects.exists()
    assert not Photo.objects.filter(taken_by=side.enterprise_user).exists()  # the photo went back too
    assert {r.status for r in OmRecord.objects.filter(pk__in=[r.pk for r in day.records])} == {"submitted"}


def test_a_missing_signature_or_photo_is_said_beside_it(world):
    side = world.shanghai
    day = om_day(side)
    client = signed_in(side.enterprise_user)
    url = f"/enterprise/days/{day.day.isoformat()}/"
    fields = signing_fields(client.get(url))
    del fields["signature"], fields["work_photo"]
    answer = client.post(url, fields)
    assert answer.status_code == 200
    text = visible_text(answer)
    assert "请在签名框内签名。" in text
    assert "请拍摄或选择工作照。" in text
    assert not DayConfirmation.objects.exists()


def test_a_file_that_is_not_a_photo_is_refused_beside_the_photo(world):
    side = world.shanghai
    day = om_day(side)
    client = signed_in(side.enterprise_user)
    url = f"/enterprise/days/{day.day.isoformat()}/"
    fields = signing_fields(client.get(url), work_photo=upload(b"%PDF-1.4 not a photo", "a.pdf"))
    answer = client.post(url, fields)
    assert answer.status_code == 415
    assert "invalid" in answer.content.decode().split('name="work_photo"')[0].rsplit("<div", 1)[1]
    assert not DayConfirmation.objects.exists()


def test_a_record_edited_after_the_page_was_shown_stays_to_confirm(world):
    side = world.shanghai
    day = om_day(side)
    client = signed_in(side.enterprise_user)
    url = f"/enterprise/days/{day.day.isoformat()}/"
    fields = signing_fields(client.get(url))
    edited = day.inspection
    om_records.record_save(  # the technician edits it meanwhile: version 2
        actor=side.technician_user,
        record_id=edited.pk,
        task=side.om_task,
        outlet=side.wastewater,
        template=edited.template,
        instruments=[side.instrument],
        groups=edited.groups,
        answers={**edited.answers, "closing": {"remark": "补充说明"}},
        start_checkin=None,
        note="补充备注",
    )
    answer = client.post(url, fields, follow=True)
    text = visible_text(answer)
    assert f"已确认 {day.day} 的 1 条运维记录。" in text
    assert "1 条记录在您查看后被修改，未确认" in text
    day.calibration.refresh_from_db()
    edited.refresh_from_db()
    assert (day.calibration.status, edited.status, edited.version) == ("confirmed", "submitted", 2)
    assert "已修改，第 2 版" in text  # still listed, to confirm again


@pytest.mark.parametrize("value", ["2026-13-45", "0000-01-01"])
def test_a_day_that_is_not_a_day_is_not_found(world, value):
    client = signed_in(world.shanghai.enterprise_user)
    assert client.get(f"/enterprise/days/{value}/").status_code == 404


def test_only_the_enterprise_confirms_days_and_sees_its_history(world):
    side = world.shanghai
    for role in ("agency_main", "agency_reviewer", "regulator"):
        client = signed_in(side.users[role])
        assert client.get("/enterprise/days/2026-05-04/").status_code == 404
        assert client.get("/enterprise/confirmations/").status_code == 404


def test_another_enterprises_confirmation_signature_is_not_found(world):
    side, other = world.shanghai, world.jiangsu
    day = om_day(side)
    confirmed_by_enterprise(side, day)
    confirmation = DayConfirmation.objects.get(enterprise=side.enterprise)
    url = f"/om/confirmations/{confirmation.pk}/signature"
    assert signed_in(side.reviewer).get(url).status_code == 200  # sees the records it confirmed
    assert signed_in(other.enterprise_user).get(url).status_code == 404
    assert signed_in(other.reviewer).get(url).status_code == 404


# --- The agency reviews ---------------------------------------------------------------------------
def confirmed_day(side, **kw):
    day = om_day(side, **kw)
    confirmed_by_enterprise(side, day, seed=kw.get("seed", 1) + 10)
    return day


def test_the_reviewer_confirms_a_batch_from_the_queue(world):
    side = world.shanghai
    day = confirmed_day(side)
    client = signed_in(side.reviewer)
    queue = client.get("/agency/reviews/")
    assert queue.status_code == 200
    html = queue.content.decode()
    for record in day.records:
        assert f'name="records" value="{record.pk}"' in html
    assert "1 项超出限值" in visible_text(queue)
    fields = {**signing_fields(queue), "records": [str(r.pk) for r in day.records], "decision": "approve"}
    answer = client.post("/agency/reviews/", fields, follow=True)
    assert answer.redirect_chain == [("/agency/reviews/", 302)]
    assert "已审核通过 2 条运维记录。" in visible_text(answer)
    assert "没有待审核的运维记录" in visible_text(answer)
    review = Review.objects.get()
    assert (review.decision, review.actor, review.work_photo.taken_by) == (
        "approve",
        side.reviewer,
        side.reviewer,
    )
    assert review.work_photo.photo_type_id == "work_photo"
    for record in day.records:
        record.refresh_from_db()
        assert record.status == OmRecord.Status.APPROVED
    page = visible_text(client.get(f"/om/records/{day.calibration.pk}/"))
    assert "审核通过" in page
    assert "机构审核 1" in page


def test_voiding_needs_a_reason_said_beside_it(world):
    side = world.shanghai
    day = confirmed_day(side)
    client = signed_in(side.reviewer)
    queue = client.get("/agency/reviews/")
    fields = {**signing_fields(queue), "records": [str(day.calibration.pk)], "decision": "void"}
    answer = client.post("/agency/reviews/", fields)
    assert answer.status_code == 400
    assert "作废须填写原因。" in visible_text(answer)
    reason_field = answer.content.decode().split('name="reason"')[0].rsplit('<div class="field', 1)[1]
    assert reason_field.startswith(" invalid")
    assert f'value="{day.calibration.pk}" aria-label' in answer.content.decode()
    assert "checked" in answer.content.decode().split(f'value="{day.calibration.pk}"')[1].split(">")[0]
    assert not Review.objects.exists()
    assert not Photo.objects.filter(taken_by=side.reviewer).exists()
    fields.update(reason="标样核查超出限值，须重新核查", work_photo=face_file())
    answer = client.post("/agency/reviews/", fields, follow=True)
    assert "已作废 1 条运维记录。" in visible_text(answer)
    day.calibration.refresh_from_db()
    assert (day.calibration.status, day.calibration.void_reason) == ("voided", "标样核查超出限值，须重新核查")


def test_the_reviewer_is_never_the_filler(world):
    side = world.shanghai
    mine = om_record(side, OmRecord.Status.CONFIRMED, timezone.localdate() - dt.timedelta(days=2))
    OmRecord.objects.filter(pk=mine.pk).update(filled_by=side.reviewer)
    client = signed_in(side.reviewer)
    queue = client.get("/agency/reviews/")
    fields = {**signing_fields(queue), "records": [str(mine.pk)], "decision": "approve"}
    answer = client.post("/agency/reviews/", fields)
    assert answer.status_code == 403
    assert "填报表单和审核表单不能为同一人。" in visible_text(answer)
    mine.refresh_from_db()
    assert mine.status == OmRecord.Status.CONFIRMED
    assert not Review.objects.exists()


def test_a_main_account_with_no_place_on_the_task_is_told_so(world):
    side = world.shanghai
    day = confirmed_day(side)
    client = signed_in(side.main)
    queue = client.get("/agency/reviews/")
    assert queue.status_code == 200  # the queue is the agency's to see
    fields = {**signing_fields(queue), "records": [str(day.calibration.pk)], "decision": "approve"}
    answer = client.post("/agency/reviews/", fields)
    assert answer.status_code == 403
    assert "只有此任务有审核权限的运维人员可以审核。" in visible_text(answer)


def test_one_record_is_voided_from_its_page(world):
    side = world.shanghai
    day = confirmed_day(side)
    client = signed_in(side.reviewer)
    page = client.get(f"/om/records/{day.inspection.pk}/")
    assert "审核这条记录" in visible_text(page)
    fields = {**signing_fields(page), "decision": "void", "reason": "站房漏雨未处理"}
    answer = client.post(f"/om/records/{day.inspection.pk}/review", fields, follow=True)
    assert answer.redirect_chain == [(f"/om/records/{day.inspection.pk}/", 302)]
    text = visible_text(answer)
    assert "已作废 1 条运维记录。" in text
    assert "作废原因 站房漏雨未处理" in text
    assert "作废 " in text
    assert "审核这条记录" not in text
    review = Review.objects.get()
    assert f"/om/reviews/{review.pk}/signature" in answer.content.decode()
    assert client.get(f"/om/reviews/{review.pk}/signature").status_code == 200
    day.calibration.refresh_from_db()
    assert day.calibration.status == "confirmed"  # only the one


def test_a_void_from_the_page_without_a_reason_is_said_there(world):
    side = world.shanghai
    day = confirmed_day(side)
    client = signed_in(side.reviewer)
    page = client.get(f"/om/records/{day.inspection.pk}/")
    answer = client.post(
        f"/om/records/{day.inspection.pk}/review", {**signing_fields(page), "decision": "void"}
    )
    assert answer.status_code == 400
    assert "作废须填写原因。" in visible_text(answer)


def test_another_sides_records_cannot_be_reviewed(world):
    side, other = world.shanghai, world.jiangsu
    theirs = confirmed_day(other)
    client = signed_in(side.reviewer)
    queue = client.get("/agency/reviews/")
    fields = {**signing_fields(queue), "records": [str(theirs.calibration.pk)], "decision": "approve"}
    answer = client.post("/agency/reviews/", fields)
    assert answer.status_code == 400
    assert "不存在或无权访问" in visible_text(answer)
    assert client.post(f"/om/records/{theirs.calibration.pk}/review", fields).status_code == 404
    theirs.calibration.refresh_from_db()
    assert theirs.calibration.status == "confirmed"


def test_nothing_ticked_is_said(world):
    side = world.shanghai
    confirmed_day(side)
    client = signed_in(side.reviewer)
    queue = client.get("/agency/reviews/")
    answer = client.post("/agency/reviews/", {**signing_fields(queue), "decision": "approve"})
    assert "请至少选择一条记录。" in visible_text(answer)


@pytest.mark.parametrize("role", ["agency_field", "enterprise", "regulator"])
def test_the_queue_is_the_reviewers(world, role):
    assert signed_in(world.shanghai.users[role]).get("/agency/reviews/").status_code == 404


def test_the_queue_filters_and_pages_in_a_bounded_number_of_queries(world):
    side = world.shanghai
    today = timezone.localdate()
    made = [
        om_record(side, OmRecord.Status.CONFIRMED, today - dt.timedelta(days=1 + n % 5)) for n in range(23)
    ]
    client = signed_in(side.reviewer)
    first = client.get("/agency/reviews/")
    assert first.context["rows"].paginator.count == 23
    assert len(first.context["rows"].object_list) == 20
    assert "第 1 / 2 页" in visible_text(first)
    second = client.get("/agency/reviews/", {"page": 2})
    assert len(second.context["rows"].object_list) == 3
    shown = [r.pk for r in first.context["rows"]] + [r.pk for r in second.context["rows"]]
    assert sorted(map(str, shown)) == sorted(str(r.pk) for r in made)  # every row once
    one_day = client.get(
        "/agency/reviews/",
        {"since": str(today - dt.timedelta(days=2)), "until": str(today - dt.timedelta(days=2))},
    )
    assert {r.om_date for r in one_day.context["rows"]} == {today - dt.timedelta(days=2)}
    assert one_day.context["rows"].paginator.count == 5
    assert "page=" not in one_day.content.decode()  # one page: no pager
    by_outlet = client.get(
        "/agency/reviews/", {"outlet": side.wastewater.pk, "template": "ww_daily_inspection"}
    )
    assert by_outlet.context["rows"].paginator.count == 23
    assert client.get("/agency/reviews/", {"template": "ww_consumables"}).context["rows"].paginator.count == 0
    bad = client.get("/agency/reviews/", {"since": "2026-13-01", "outlet": "99999"})
    assert bad.status_code == 200
    assert "请输入日期" in visible_text(bad)

    def queries(n: int) -> int:
        OmRecord.objects.filter(pk__in=[r.pk for r in made[n:]]).update(status=OmRecord.Status.APPROVED)
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/agency/reviews/").status_code == 200
        return len(captured)

    assert queries(23) == queries(3)


def test_english_when_chosen(world):
    side = world.shanghai
    day = om_day(side)
    client = signed_in(side.reviewer)
    client.post("/i18n/setlang/", {"language": "en", "next": "/agency/"})
    text = visible_text(client.get(f"/om/records/{day.calibration.pk}/"))
    assert "out of limit" in text
    assert "within limit" in text
    assert "Awaiting the enterprise" in text
    assert "Inside the geofence" in text
    assert "Abnormal" in visible_text(client.get(f"/om/records/{day.inspection.pk}/"))


def test_navigation_names_the_new_pages(world):
    side = world.shanghai
    assert "运维记录审核" in visible_text(signed_in(side.reviewer).get("/agency/"))
    assert "确认记录" in visible_text(signed_in(side.enterprise_user).get("/enterprise/"))
    assert "运维记录审核" not in visible_text(signed_in(side.field_user).get("/agency/"))
