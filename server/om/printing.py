"""An O&M record printed as the signed form (打印, seed 003 表单详情): what an agency files and a
regulator holds up against a report — the template's sections with each answer, the computed
judgements (value, limit, 合格/不合格, 待核实, the clause), the check-ins (time, distance to the point),
the technician's signature and work photo, the enterprise's confirmations and the agency's reviews,
each with its signer, time, signature and photo.

The layout is ``server.om.forms.present``'s, the one description of a filled record that the record
page and the API also show. PDFs are drawn with ReportLab; Chinese needs a TrueType CJK font embedded
in the file (``settings.PRINT_CJK_FONT``, by default Debian's fonts-wqy-microhei, installed by
scripts/system-deps.sh). ReportLab embeds TrueType outlines only, not the CFF outlines of the Noto /
Source Han OpenType fonts, so the system check (``om.E001``) refuses those and a missing file at start,
rather than a printed form of empty boxes.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.checks import Error, register
from django.db.models import Prefetch
from django.utils import timezone
from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from media_rules.private_files import read_bytes
from server import access
from server.accounts.models import User
from server.om import forms
from server.om.models import ConfirmedVersion, OmRecord, Review, ReviewedVersion

logger = logging.getLogger(__name__)

FONT = "FieldtraceCJK"
# The first bytes of a font file ReportLab can embed: a TrueType font or a collection of them.
TRUETYPE_MAGIC = (b"\x00\x01\x00\x00", b"true", b"ttcf")
PHOTO_PX = 900  # a work photo is shown about 45 mm wide: 900 px is print quality and keeps files small
DECISIONS = {Review.Decision.APPROVE: "审核通过", Review.Decision.VOID: "作废"}


# --- The font -------------------------------------------------------------------------------------
def font_problem(path: str) -> str | None:
    """Why ``path`` cannot be the printed forms' Chinese font (None when it can)."""
    file = Path(path)
    if not file.is_file():
        return f"PRINT_CJK_FONT={path!r}: no such file."
    with file.open("rb") as f:
        magic = f.read(4)
    if magic == b"OTTO":
        return f"PRINT_CJK_FONT={path!r} is an OpenType/CFF font, which ReportLab cannot embed."
    if magic not in TRUETYPE_MAGIC:
        return f"PRINT_CJK_FONT={path!r} is not a TrueType font (.ttf or .ttc)."
    return None


@register()
def check_print_font(app_configs=None, **kwargs) -> list[Error]:
    problem = font_problem(settings.PRINT_CJK_FONT)
    if problem is None:
        return []
    return [
        Error(
            problem,
            hint="Printed O&M records (PDF) need a TrueType Chinese font: sudo apt-get install "
            "fonts-wqy-microhei (scripts/system-deps.sh does it), or set PRINT_CJK_FONT to a .ttf/.ttc.",
            id="om.E001",
        )
    ]


@functools.cache
def _font(path: str) -> str:
    # subfontIndex 0: the collection's proportional face (wqy-microhei.ttc holds it and a monospace one).
    pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=0))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _font(settings.PRINT_CJK_FONT)
    # wordWrap CJK: Chinese text has no spaces and breaks between any two characters.
    base = ParagraphStyle("body", fontName=font, fontSize=9, leading=12.5, wordWrap="CJK")
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10, textColor=colors.grey),
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22, alignment=1, spaceAfter=4),
        # keepWithNext: a heading never ends a page without what it heads.
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=11.5, leading=16, spaceBefore=8, spaceAfter=3, keepWithNext=1
        ),
        "h3": ParagraphStyle(
            "h3", parent=base, fontSize=10, leading=14, spaceBefore=5, spaceAfter=2, keepWithNext=1
        ),
        "fail": ParagraphStyle("fail", parent=base, textColor=colors.HexColor("#b42318")),
    }


# --- What is printed --------------------------------------------------------------------------------
@dataclass
class Printable:
    record: OmRecord
    sections: list[dict]
    confirmations: list[ConfirmedVersion]
    reviews: list[ReviewedVersion]


def printable(user: User, pk) -> Printable:
    """A record the user sees (404 outside the scope, as its page and ``GET /om/records/{id}``) with
    everything the printed form shows, in a fixed number of queries."""
    signed = ("actor__person", "work_photo__blob", "signature")
    record: OmRecord = access.get_visible(
        access.om_records_for(user)
        .select_related(
            "task",
            "outlet",
            "template",
            "agency",
            "enterprise",
            "filled_by__person",
            "start_checkin",
            "end_checkin",
            "work_photo__blob",
            "signature",
        )
        .prefetch_related(
            "instruments",
            Prefetch(
                "confirmations",
                queryset=ConfirmedVersion.objects.select_related(
                    *(f"confirmation__{s}" for s in signed)
                ).order_by("confirmation__at", "id"),
            ),
            Prefetch(
                "reviews",
                queryset=ReviewedVersion.objects.select_related(*(f"review__{s}" for s in signed)).order_by(
                    "review__at", "id"
                ),
            ),
        ),
        pk,
    )
    instruments = list(record.instruments.all())
    return Printable(
        record=record,
        sections=forms.present(record.template, record.answers, record.judgements, instruments),
        confirmations=list(record.confirmations.all()),
        reviews=list(record.reviews.all()),
    )


def filename(record: OmRecord) -> str:
    return f"运维记录-{record.om_date:%Y%m%d}-{record.template.name}-{str(record.pk)[:8]}.pdf"


# --- Drawing ----------------------------------------------------------------------------------------
def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text if text not in (None, "") else "—")).replace("\n", "<br/>"), style)


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def _person(user) -> str:
    if user is None:
        return "—"
    return user.person.name if user.person_id else (user.get_full_name() or user.username)


def _image_bytes(blob) -> bytes | None:
    """A stored image's bytes; None (and a line in the log) when storage cannot give them."""
    try:
        return read_bytes(blob)
    except Exception as exc:  # purged (410), unreadable key, storage down: the form is printed anyway
        logger.warning("print: image %s not read: %r", blob.pk, exc)
        return None


def _image(blob, *, width_mm: float, max_height_mm: float, styles, signature: bool = False):
    """A flowable of the image fitted in the box, or a line saying why there is none."""
    if blob is None:
        return _p("（无）", styles["small"])
    data = _image_bytes(blob)
    if data is None:
        return _p("（文件不可读：已按保存期限删除或暂不可用）", styles["small"])
    try:
        picture = PILImage.open(io.BytesIO(data))
        picture.load()
    except Exception:  # a file that is not an image Pillow reads (it was stored, so it is shown as such)
        return _p("（图像无法显示）", styles["small"])
    if signature or picture.mode in ("RGBA", "LA", "P"):
        # A signature is drawn on a transparent canvas: put it on paper white.
        rgba = picture.convert("RGBA")
        picture = PILImage.new("RGB", rgba.size, "white")
        picture.paste(rgba, mask=rgba.split()[-1])
    picture = picture.convert("RGB")
    picture.thumbnail((PHOTO_PX, PHOTO_PX))
    out = io.BytesIO()
    picture.save(out, "PNG" if signature else "JPEG", quality=85)
    out.seek(0)
    w, h = picture.size
    scale = min(width_mm * mm / w, max_height_mm * mm / h)
    return Image(out, width=w * scale, height=h * scale)


def _table(rows, widths, *, header: bool = True, style_extra=()) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa4b2")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")))
    table.setStyle(TableStyle([*commands, *style_extra]))
    return table


def _answer(item: dict) -> str:
    if item.get("kind") == "table" and item.get("rows"):
        columns = [c["label"] + (f"（{c['unit']}）" if c.get("unit") else "") for c in item["columns"]]
        return "\n".join(
            f"第{n}行：" + "，".join(f"{c} {v}" for c, v in zip(columns, row, strict=False) if v != "")
            for n, row in enumerate(item["rows"], start=1)
        )
    return item["text"]


def _reading(value) -> str:
    return "—" if value is None else f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _section(section: dict, styles, width: float) -> list:
    title = section["title"]
    if section.get("instrument"):
        i = section["instrument"]
        title += f"（{i['name']} {i['model']}，编号 {i['serial_number']}）"
    if section.get("group_label"):
        title = f"{section['group_label']} · {title}"
    flow = [_p(title, styles["h3"])]
    if section["items"]:
        rows = [[_p("检查项目", styles["body"]), _p("填报内容", styles["body"])]]
        rows += [[_p(i["label"], styles["body"]), _p(_answer(i), styles["body"])] for i in section["items"]]
        flow.append(_table(rows, [width * 0.42, width * 0.58]))
    if section["judgements"]:
        flow.append(Spacer(1, 2 * mm))
        rows = [[_p(h, styles["body"]) for h in ("计算项", "计算值", "限值", "判定", "依据条款")]]
        for j in section["judgements"]:
            why = f"（{j['reason_text']}）" if j["passed"] is None and j.get("reason_text") else ""
            result = j["result"] + why + ("（待核实）" if j["provisional"] else "")
            # A real-water-sample comparison (HJ 355-2019) shows each pair under its count.
            value = "\n".join(
                [
                    j["value_text"],
                    *(
                        f"第{p['row']}对：{_reading(p['instrument'])} / {_reading(p['lab'])} {p['result']}"
                        for p in j.get("pairs") or []
                    ),
                ]
            )
            rows.append(
                [
                    _p(j["label"], styles["body"]),
                    _p(value, styles["body"]),
                    _p(j["limit_text"], styles["body"]),
                    _p(result, styles["fail"] if j["passed"] is False else styles["body"]),
                    _p(j.get("source", ""), styles["small"]),
                ]
            )
        flow.append(_table(rows, [width * f for f in (0.26, 0.12, 0.13, 0.15, 0.34)]))
    return flow


def _checkins(record: OmRecord, styles, width: float) -> list:
    rows = [[_p(h, styles["body"]) for h in ("签到", "时间", "距点位", "电子围栏", "定位精度", "判定")]]
    for label, checkin in (
        ("开始签到（填报前）", record.start_checkin),
        ("结束签到（提交前）", record.end_checkin),
    ):
        if checkin is None:
            rows.append([_p(label, styles["body"]), _p("未签到", styles["body"]), "", "", "", ""])
            continue
        rows.append(
            [
                _p(label, styles["body"]),
                _p(_when(checkin.at), styles["body"]),
                _p(f"{checkin.distance_m:.0f} 米" if checkin.distance_m is not None else "—", styles["body"]),
                _p(f"{checkin.geofence_m:.0f} 米" if checkin.geofence_m is not None else "—", styles["body"]),
                _p(f"{checkin.accuracy_m:.0f} 米" if checkin.accuracy_m is not None else "—", styles["body"]),
                _p(checkin.get_verdict_display(), styles["body"]),
            ]
        )
    table = _table(rows, [width * f for f in (0.2, 0.24, 0.12, 0.12, 0.12, 0.2)])
    return [KeepTogether([_p("签到", styles["h2"]), table])]


def _signed_block(title: str, lines: list[str], signature, photo, styles, width: float) -> KeepTogether:
    """One signed act: who, when and what, the handwritten signature and the work photo."""
    text = [_p(line, styles["body"]) for line in lines]
    rows = [
        [_p("签字人与时间", styles["body"]), _p("手写签名", styles["body"]), _p("工作照", styles["body"])],
        [
            text,
            _image(signature, width_mm=50, max_height_mm=25, styles=styles, signature=True),
            _image(photo.blob if photo is not None else None, width_mm=45, max_height_mm=45, styles=styles),
        ],
    ]
    return KeepTogether([_p(title, styles["h2"]), _table(rows, [width * 0.38, width * 0.32, width * 0.30])])


def record_pdf(doc: Printable) -> bytes:
    """The record as a PDF (A4), page numbers and the record's id on every page."""
    styles = _styles()
    record = doc.record
    buffer = io.BytesIO()
    page = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"{record.template.name} {record.om_date:%Y-%m-%d}",
        author=record.agency.name,
        subject="运维记录",
    )
    width = page.width
    status = record.get_status_display()
    head = [
        ("运维机构", record.agency.name),
        ("排污企业", record.enterprise.name),
        ("运维任务", f"{record.task.number} {record.task.name}"),
        ("排口/点位", record.outlet.name),
        ("运维日期", f"{record.om_date:%Y-%m-%d}"),
        ("检查维护频次", "、".join(forms.GROUP_LABELS.get(g, g) for g in record.groups or []) or "—"),
        ("记录状态", f"{status}（第 {record.version} 版）"),
        ("记录编号", str(record.pk)),
    ]
    rows = [
        [_p(head[n][0], styles["body"]), _p(head[n][1], styles["body"])]
        + (
            [_p(head[n + 1][0], styles["body"]), _p(head[n + 1][1], styles["body"])]
            if n + 1 < len(head)
            else []
        )
        for n in range(0, len(head), 2)
    ]
    story: list = [
        _p(record.template.name, styles["title"]),
        _table(rows, [width * f for f in (0.14, 0.36, 0.14, 0.36)], header=False),
    ]
    if record.status == OmRecord.Status.VOIDED and record.void_reason:
        story.append(_p(f"本记录已作废：{record.void_reason}", styles["fail"]))
    failed = sum(1 for s in doc.sections for j in s["judgements"] if j["passed"] is False)
    judged = sum(len(s["judgements"]) for s in doc.sections)
    if judged:
        summary = (
            f"计算判定 {judged} 项，其中不合格 {failed} 项。" if failed else f"计算判定 {judged} 项，均合格。"
        )
        story.append(_p(summary, styles["fail"] if failed else styles["body"]))
    story.append(_p("填报内容", styles["h2"]))
    for section in doc.sections:
        story += _section(section, styles, width)
    story += _checkins(record, styles, width)
    story.append(
        _signed_block(
            "技术人员签字",
            [f"填报人：{_person(record.filled_by)}", f"提交时间：{_when(record.submitted_at)}"],
            record.signature,
            record.work_photo,
            styles,
            width,
        )
    )
    if not doc.confirmations:
        story += [_p("企业确认", styles["h2"]), _p("企业尚未确认。", styles["body"])]
    for item in doc.confirmations:
        act = item.confirmation
        lines = [
            f"确认人：{_person(act.actor)}",
            f"确认时间：{_when(act.at)}",
            f"确认的版本：第 {item.version} 版",
        ]
        if item.invalidated_at:
            lines.append(
                f"已失效：记录于 {_when(item.invalidated_at)} 修改为第 {item.invalidated_by_version} 版"
            )
        story.append(_signed_block("企业确认", lines, act.signature, act.work_photo, styles, width))
    for item in doc.reviews:
        act = item.review
        lines = [
            f"审核结果：{DECISIONS.get(act.decision, act.decision)}",
            f"审核人：{_person(act.actor)}",
            f"审核时间：{_when(act.at)}",
            f"审核的版本：第 {item.version} 版",
        ]
        if act.reason:
            lines.append(f"作废原因：{act.reason}")
        story.append(_signed_block("机构审核", lines, act.signature, act.work_photo, styles, width))
    printed = _when(timezone.now())

    def footer(canvas, template) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(15 * mm, 10 * mm, f"运维记录 {record.pk} · 打印于 {printed}")
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, f"第 {template.page} 页")
        canvas.restoreState()

    page.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
