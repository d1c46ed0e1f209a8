"""A real-water-sample comparison that fails HJ 355-2019's pair rule (2 of 4 pairs within ±15 %, 3
needed) reaches the regulator's queue, the export and the printed form with its pair counts and each
pair's readings, not as a bare 不合格."""

from __future__ import annotations

import copy
import csv
import io
import uuid

import pytest
from django.utils import timezone
from pypdf import PdfReader

from media_rules.signatures import store_signature
from server.om import records
from server.tracks.models import CheckIn
from tests.om.fill import groups_of, valid_answers
from tests.om.helpers import signature_b64
from tests.regulator.helpers import API
from tests.workspace.om_scene import _checkin, _template, work_photo

pytestmark = pytest.mark.django_db

IN, OUT = (115, 100), (150, 100)  # ±15 % at ≥ 100 mg/L: 15 % passes, 50 % does not


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def comparison(world):
    side = world.shanghai
    user = side.technician_user
    template = _template("ww_real_sample_comparison")
    instruments = [side.instrument]
    groups = groups_of(template)
    answers = copy.deepcopy(valid_answers(template, instruments, groups))
    time = answers["basic"]["om_time"]
    answers["compare_cod"][str(side.instrument.pk)]["pairs"] = [
        {"sample_time": time, "instrument_value": a, "lab_value": b} for a, b in (IN, OUT, IN, OUT)
    ]
    start = timezone.now() - timezone.timedelta(hours=2)
    return records.record_save(
        actor=user,
        record_id=uuid.uuid4(),
        task=side.om_task,
        outlet=side.wastewater,
        template=template,
        instruments=instruments,
        groups=groups,
        answers=answers,
        start_checkin=_checkin(user, side, CheckIn.Kind.START, start),
        end_checkin=_checkin(user, side, CheckIn.Kind.END, start + timezone.timedelta(minutes=40)),
        work_photo=work_photo(user, side.wastewater, 3),
        signature=store_signature(signature_b64(3)),
        submit=True,
    ).record


def test_the_failing_comparison_is_evidence_with_its_pair_counts(world, client_for, comparison):
    (j,) = [j for j in comparison.judgements if j["passed"] is False]
    assert (j["kind"], j["pairs_passed"], j["pairs_total"], j["pairs_required"]) == (
        "comparison_pairs",
        2,
        4,
        3,
    )

    response = client_for(world.shanghai.regulator).get(f"{API}/evidence", {"kind": "judgement"})
    (item,) = response.json()["results"]
    (failed,) = item["evidence"]["failed"]
    assert failed["value_text"] == "2/4 对合格"
    assert failed["limit_text"] == "4 对中至少 3 对在限值内"
    assert failed["source"] == j["source"]
    assert "2/4 对合格，限值 4 对中至少 3 对在限值内" in failed["text"]


def test_the_export_and_the_printed_form_show_each_pair(world, client_for, comparison):
    client = client_for(world.shanghai.main)
    response = client.get(f"{API}/om/records/export", {"format": "csv"})
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    (row,) = list(csv.DictReader(io.StringIO(content)))
    assert "2/4 对合格，限值 4 对中至少 3 对在限值内，不合格" in row["计算判定"]
    assert "第2对 仪器 150 / 实验室 100 不合格" in row["计算判定"]
    assert "第1对 仪器 115 / 实验室 100 合格" in row["计算判定"]

    pdf = client.get(f"{API}/om/records/{comparison.pk}/pdf")
    assert pdf.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).replace("\n", "")
    assert "2/4 对合格" in text
    assert "第2对：150 / 100 不合格" in text
    assert "第3对：115 / 100 合格" in text
