"""Content and device rules (see ``media_rules/rules.py`` for the list of codes and ``Thresholds``):
editing software, the same file or a near-duplicate used elsewhere, the device signature.

``PhotoContext.same_file_uses`` and ``near_duplicates`` are expected to hold uses on other tasks or
sites only (the caller knows the photo's own task); every entry given is judged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from media_rules.evidence import DuplicateUse, Finding, PhotoContext, Severity

if TYPE_CHECKING:
    from media_rules.rules import Thresholds

_HASH_BITS = 64


def _match(text: str, patterns: tuple[str, ...]) -> str | None:
    folded = text.casefold()
    return next((p for p in patterns if p.casefold() in folded), None)


def rule_file_decodes(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    """Intake checks a JPEG's structure only (``imaging.jpeg_complete``); the background decodes every
    pixel for the thumbnail. A file that is whole but does not decode is damaged, or not what the
    phone's camera wrote: it cannot be looked at, so it cannot be evidence."""
    if ctx.file_error != "image_unreadable":
        return []
    return [
        Finding(
            "image_unreadable",
            Severity.FAIL,
            "照片文件已损坏，无法完整解码，不能作为现场证据",
            "The photo file is damaged and does not decode in full; it cannot serve as evidence",
            {"process_error": ctx.file_error},
        )
    ]


# What a camera writes, as ExifData holds it: a file with none of these carries no EXIF worth the name
# (a header of pixel size and orientation alone is what Pillow or a re-encoder writes).
_CAMERA_EXIF = {
    "capture_time": ("capture_time",),
    "gps": ("gps_lon", "gps_lat", "gps_time"),
    "device": ("make", "model"),
    "software": ("software",),
    "modify_time": ("modify_time",),
}


def rule_exif_missing(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    """A file with no EXIF at all (F10 item 8) is not a failure (WeChat mini-program uploads strip
    it), but its capture time, device and GPS cannot be cross-checked: said, a warning by default,
    a PASS finding where EXIF is not expected (``exif_expected`` False for a type or site)."""
    exif = ctx.exif
    fields = (f for group in _CAMERA_EXIF.values() for f in group)
    if "no_exif" not in exif.problems and any(getattr(exif, f) is not None for f in fields):
        return []
    if th.exif_expected:
        severity, zh, en = Severity.WARN, "，可信度降低", "; confidence is lower"
    else:
        severity, zh, en = Severity.PASS, "（此类照片通常不含 EXIF）", " (not expected for this photo)"
    return [
        Finding(
            "exif_missing",
            severity,
            f"照片中没有可读的 EXIF 信息：拍摄时间、设备和 GPS 均无法核对{zh}",
            f"No EXIF could be read from the photo: its capture time, device and GPS cannot be "
            f"cross-checked{en}",
            {
                "absent": list(_CAMERA_EXIF),
                "problems": list(exif.problems),
                "exif_expected": th.exif_expected,
            },
        )
    ]


def rule_editing_software(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    software = (ctx.exif.software or "").strip()
    if not software:
        return []
    evidence = {"software": software}
    editor = _match(software, th.editor_patterns)
    if editor is not None:
        return [
            Finding(
                "editing_software",
                Severity.FAIL,
                f"EXIF 显示照片经编辑软件处理：{software}",
                f"EXIF shows the photo went through editing software: {software}",
                {**evidence, "pattern": editor},
            )
        ]
    tool = _match(software, th.transfer_tool_patterns)
    if tool is not None:
        # A download tool rewrites the Software tag but not the pixels (see TRANSFER_TOOL_PATTERNS).
        return [
            Finding(
                "transfer_software",
                Severity.PASS,
                f"照片经传输工具 {software} 从相机导出，不是编辑软件",
                f"The photo was copied off the camera with {software}, a download tool, not an editor",
                {**evidence, "pattern": tool},
            )
        ]
    return []


def _use(use: DuplicateUse) -> dict:
    return {
        "photo_id": use.photo_id,
        "task_id": use.task_id,
        "site_name": use.site_name,
        "distance": use.distance,
        "mirrored": use.mirrored,
    }


def _ids(uses: list[DuplicateUse]) -> str:
    return ", ".join(u.photo_id + (f" (task {u.task_id})" if u.task_id else "") for u in uses)


def _ids_zh(uses: list[DuplicateUse]) -> str:
    return "、".join(u.photo_id + (f"（任务 {u.task_id}）" if u.task_id else "") for u in uses)


def rule_same_file(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    """The same file used before, on another task or site. Another agency's use is said, never named
    (F9 item 4): its photo, task and site are not the viewer's to see."""
    uses = list(ctx.same_file_uses)
    if not uses and not ctx.same_file_other_agency:
        return []
    zh, en = [], []
    if uses:
        zh.append(f"同一文件已用于其他任务：照片 {_ids_zh(uses)}")
        en.append(f"The same file is already used on another task: photo {_ids(uses)}")
    if ctx.same_file_other_agency:
        zh.append("同一文件已被其他机构使用")
        en.append("The same file was already used by another agency")
    return [
        Finding(
            "same_file_reused",
            Severity.FAIL,
            "；".join(zh),
            "; ".join(en),
            {
                "photo_ids": [u.photo_id for u in uses],
                "uses": [_use(u) for u in uses],
                "other_agency": ctx.same_file_other_agency,
            },
        )
    ]


def rule_near_duplicate(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    already = {u.photo_id for u in ctx.same_file_uses}  # reported by rule_same_file
    matches = sorted(
        (
            u
            for u in ctx.near_duplicates
            if u.distance <= th.near_duplicate_warn_distance and u.photo_id not in already
        ),
        key=lambda u: (u.distance, u.photo_id),
    )
    if not matches:
        return []
    closest = matches[0]
    severity = Severity.FAIL if closest.distance <= th.near_duplicate_fail_distance else Severity.WARN
    mirrored_zh = "（镜像翻转）" if closest.mirrored else ""
    mirrored_en = " (mirrored)" if closest.mirrored else ""
    return [
        Finding(
            "near_duplicate",
            severity,
            f"与其他任务或点位的照片近似重复：照片 {_ids_zh(matches)}；最接近的汉明距离 "
            f"{closest.distance}/{_HASH_BITS}{mirrored_zh}",
            f"A near-duplicate of photos on other tasks or sites: photo {_ids(matches)}; closest at Hamming "
            f"distance {closest.distance}/{_HASH_BITS}{mirrored_en}",
            {
                "photo_ids": [u.photo_id for u in matches],
                "matches": [_use(u) for u in matches],
                "warn_distance": th.near_duplicate_warn_distance,
                "fail_distance": th.near_duplicate_fail_distance,
                "hash_bits": _HASH_BITS,
            },
        )
    ]


def rule_signature(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    if ctx.signature_valid is False:
        return [
            Finding(
                "signature_invalid",
                Severity.FAIL,
                "设备签名无效：照片或其采集记录在离开手机后被改动，或并非来自登记的设备",
                "The device signature is invalid: the photo or its capture record was altered after leaving "
                "the phone, or did not come from the registered device",
                {"signature_valid": False},
            )
        ]
    if ctx.signature_valid is None and th.signature_required:
        return [
            Finding(
                "signature_missing",
                Severity.WARN,
                "未附设备签名",
                "No device signature was sent",
                {"signature_valid": None},
            )
        ]
    return []
