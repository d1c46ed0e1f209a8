"""A record printed as the signed form (打印 PDF, issue 23, seed 003 表单详情): its sections' answers and
judgements, check-ins, the technician's signature and work photo, the enterprise's confirmation and
the agency's review, each with its signer; read back from the PDF itself (text and embedded images).
Whoever sees the record may print it; another side gets 404."""

from __future__ import annotations

import io
import uuid

import pytest
from pypdf import PdfReader

from media_rules.signatures import store_signature
from server.om import printing, records
from server.om.models import Review
from tests.om.helpers import signature_b64
from tests.regulator.helpers import API
from tests.workspace.conftest import signed_in
from tests.workspace.om_scene import confirmed_by_enterprise, om_day, work_photo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def reviewed(world):
    """A Shanghai O&M day, confirmed by the enterprise; the calibration approved by the reviewer."""
    side = world.shanghai
    day = om_day(side)
    confirmed_by_enterprise(side, day)
    records.records_review(
        actor=side.reviewer,
        review_id=uuid.uuid4(),
        records=[day.calibration],
        decision=Review.Decision.APPROVE,
        work_photo=work_photo(side.reviewer, side.wastewater, 9),
        signature=store_signature(signature_b64(9)),
    )
    day.calibration.refresh_from_db()
    return day


def read_pdf(response) -> PdfReader:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline; filename*=UTF-8''")
    assert response.content.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(response.content))


def text_of(pdf: PdfReader) -> str:
    # Lines wrap anywhere in Chinese: compare without the line breaks.
    return "".join(page.extract_text() for page in pdf.pages).replace("\n", "")


def images_of(pdf: PdfReader) -> int:
    return sum(len(page.images) for page in pdf.pages)


def name(user) -> str:
    return user.person.name if user.person_id else user.username


def test_the_printed_form_holds_answers_judgements_checkins_and_every_signature(world, client_for, reviewed):
    side = world.shanghai
    record = reviewed.calibration
    failing = next(j for j in record.judgements if j["passed"] is False)
    pdf = read_pdf(client_for(side.main).get(f"{API}/om/records/{record.pk}/pdf"))
    text = text_of(pdf)

    assert record.template.name in text
    assert side.agency.name in text
    assert side.enterprise.name in text
    assert side.wastewater.name in text
    assert str(record.pk) in text
    # The section, an item by its label with the answer, the failing judgement with its limit.
    assert "标样核查及校准" in text
    assert "标准样品测定值" in text
    assert "12 mg/L" in text
    assert failing["label"] in text
    assert "20%" in text
    assert f"±{failing['limit'] * 100:g}%" in text
    assert "不合格" in text
    assert ("待核实" in text) is any(j["provisional"] for j in record.judgements)
    assert failing["source"][:12] in text
    assert "其中不合格 1 项" in text
    # Check-ins with their distance to the point.
    assert "开始签到（填报前）" in text
    assert "结束签到（提交前）" in text
    assert f"{record.start_checkin.distance_m:.0f} 米" in text
    # The signed acts: the technician, the enterprise's confirmer, the agency's reviewer.
    assert f"填报人：{name(side.technician_user)}" in text
    assert f"确认人：{name(side.enterprise_user)}" in text
    assert f"审核人：{name(side.reviewer)}" in text
    assert "审核结果：审核通过" in text
    # Each act's signature and work photo are in the file: three acts, two images each.
    assert images_of(pdf) == 6


def test_a_record_not_yet_confirmed_says_so_and_prints_its_own_images(world, client_for):
    side = world.shanghai
    day = om_day(side)
    pdf = read_pdf(client_for(side.enterprise_user).get(f"{API}/om/records/{day.inspection.pk}/pdf"))
    text = text_of(pdf)
    assert "企业尚未确认" in text
    assert "站房漏雨" in text
    assert "检查站房温湿度、供电、照明及安全设施" in text
    assert images_of(pdf) == 2  # the technician's signature and work photo


def test_the_record_page_links_to_its_pdf_and_each_side_prints_only_its_own(world, client_for, reviewed):
    record = reviewed.calibration
    own = world.shanghai
    page = signed_in(own.regulator).get(f"/om/records/{record.pk}/").content.decode()
    pdf_url = f"/om/records/{record.pk}/pdf"
    assert f'href="{pdf_url}"' in page
    assert "打印 PDF" in page
    assert record.template.name in text_of(read_pdf(signed_in(own.regulator).get(pdf_url)))
    assert read_pdf(client_for(own.regulator).get(f"{API}/om/records/{record.pk}/pdf"))

    other = world.jiangsu
    for user in (other.main, other.reviewer, other.enterprise_user, other.regulator):
        api = client_for(user).get(f"{API}/om/records/{record.pk}/pdf")
        assert api.status_code == 404, user.role
        assert api.json()["code"] == "not_found"
        assert signed_in(user).get(pdf_url).status_code == 404, user.role


def test_a_draft_is_printed_by_its_agency_only(world, client_for):
    from tests.regulator.test_evidence_judgements import _draft_failing

    side = world.shanghai
    draft = _draft_failing(side)
    assert read_pdf(client_for(side.main).get(f"{API}/om/records/{draft.pk}/pdf"))
    for user in (side.enterprise_user, side.regulator):
        assert client_for(user).get(f"{API}/om/records/{draft.pk}/pdf").status_code == 404


def test_the_font_check_refuses_a_missing_file_and_a_cff_font(tmp_path, settings):
    assert printing.font_problem(settings.PRINT_CJK_FONT) is None
    assert printing.check_print_font() == []
    assert "no such file" in printing.font_problem(str(tmp_path / "none.ttc"))
    cff = tmp_path / "NotoSansCJK.otf"
    cff.write_bytes(b"OTTO" + bytes(100))
    assert "cannot embed" in printing.font_problem(str(cff))
    settings.PRINT_CJK_FONT = str(cff)
    (error,) = printing.check_print_font()
    assert error.id == "om.E001"
    assert "fonts-wqy-microhei" in error.hint
