"""The person in a work photo (seed 003: "work photos with a clear face"; see ``media_rules/rules.py`` for
``Thresholds``): a face is present and the picture is not blurred.

``PhotoContext.face_count`` and ``sharpness`` are measured in the background by ``media_rules/faces.py``
(None until then: nothing is said yet). Both findings are warnings, never failures: the detector misses
faces turned away or small, and a reviewer looks at the photo anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from media_rules.evidence import Finding, PhotoContext, Severity

if TYPE_CHECKING:
    from media_rules.rules import Thresholds


def rule_work_photo(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    if not th.face_required or ctx.face_count is None:
        return []
    findings: list[Finding] = []
    if ctx.face_count == 0:
        findings.append(
            Finding(
                "face_missing",
                Severity.WARN,
                "工作照中未检测到清晰的正脸",
                "No clear frontal face was found in the work photo",
                {"face_count": 0},
            )
        )
    else:
        findings.append(
            Finding(
                "face_found",
                Severity.PASS,
                f"工作照中检测到 {ctx.face_count} 张人脸",
                f"{ctx.face_count} face(s) found in the work photo",
                {"face_count": ctx.face_count},
            )
        )
    if ctx.sharpness is not None and ctx.sharpness < th.blur_warn_sharpness:
        findings.append(
            Finding(
                "image_blurred",
                Severity.WARN,
                f"工作照模糊：清晰度 {ctx.sharpness:.1f}，低于 {th.blur_warn_sharpness:g}",
                f"The work photo is blurred: sharpness {ctx.sharpness:.1f}, below {th.blur_warn_sharpness:g}",
                {"sharpness": round(ctx.sharpness, 1), "limit": th.blur_warn_sharpness},
            )
        )
    return findings
