"""Photo authenticity rules: pure functions over ``PhotoContext`` (``media_rules/evidence.py``).

Every rule is ``rule_x(ctx, th) -> list[Finding]``: an empty list when it has nothing to say, a PASS
finding only where its evidence is worth showing (the measured distance inside the geofence), WARN
or FAIL otherwise. Rules never raise on missing values: EXIF may be absent (WeChat strips it, and then
the phone's capture fix is the location evidence), and so may the fix, the device time or the site.
``evaluate`` runs them all; the verdict is the worst severity plus every finding. A photo is never
thrown away for its verdict (DESIGN.md, "Photo authenticity").

Thresholds are configurable per photo type and per site: ``thresholds_for(base, type_overrides,
site_overrides)``. The rules themselves live in ``rules_location``, ``rules_time`` and ``rules_media``
and are re-exported here; import them from this module.

Finding codes (stable, snake_case) and their severities:

- location: ``location_missing`` (FAIL, WARN where the photo type needs no location),
  ``within_geofence`` (PASS), ``outside_geofence`` (FAIL), ``coordinate_system_mixup`` (WARN: a client
  bug, reported instead of ``outside_geofence`` / ``exif_gps_far_from_fix``), ``exif_gps_agrees``
  (PASS), ``exif_gps_far_from_fix`` (WARN), ``poor_accuracy`` (WARN), ``zero_accuracy`` (WARN),
  ``mock_location`` (FAIL);
- time: ``clock_disagreement`` (WARN / FAIL), ``capture_after_receive`` (FAIL),
  ``received_long_after_capture`` (WARN), ``outside_task_window`` (FAIL), ``stage_order_violated``
  (FAIL), ``modified_after_capture`` (WARN);
- content: ``image_unreadable`` (FAIL: the file did not decode in the background), ``exif_missing``
  (WARN: no EXIF at all, so capture time, device and GPS cannot be cross-checked; PASS where
  ``exif_expected`` is False),
  ``editing_software`` (FAIL), ``transfer_software`` (PASS), ``same_file_reused`` (FAIL),
  ``near_duplicate`` (WARN / FAIL), ``signature_invalid`` (FAIL), ``signature_missing`` (WARN);
- the person (work photos, where ``face_required``): ``face_found`` (PASS), ``face_missing`` (WARN),
  ``image_blurred`` (WARN);
- ``rule_error`` (WARN): a rule crashed; the others still ran.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from media_rules.evidence import Finding, PhotoContext, Severity, Verdict
from media_rules.rules_location import (
    rule_accuracy,
    rule_exif_gps_vs_fix,
    rule_geofence,
    rule_location_missing,
    rule_mock_location,
)
from media_rules.rules_media import (
    rule_editing_software,
    rule_exif_missing,
    rule_file_decodes,
    rule_near_duplicate,
    rule_same_file,
    rule_signature,
)
from media_rules.rules_person import rule_work_photo
from media_rules.rules_time import (
    capture_time,
    rule_clocks,
    rule_modify_time,
    rule_receive_time,
    rule_stage_order,
    rule_task_window,
)

__all__ = [
    "EDITOR_PATTERNS",
    "RULES",
    "TRANSFER_TOOL_PATTERNS",
    "Thresholds",
    "capture_time",
    "evaluate",
    "rule_accuracy",
    "rule_clocks",
    "rule_editing_software",
    "rule_exif_gps_vs_fix",
    "rule_exif_missing",
    "rule_file_decodes",
    "rule_geofence",
    "rule_location_missing",
    "rule_mock_location",
    "rule_modify_time",
    "rule_near_duplicate",
    "rule_receive_time",
    "rule_same_file",
    "rule_signature",
    "rule_stage_order",
    "rule_task_window",
    "rule_work_photo",
    "thresholds_for",
]

logger = logging.getLogger(__name__)

# Substrings of EXIF Software (matched case-insensitively) naming programs that edit pixels.
EDITOR_PATTERNS: tuple[str, ...] = (
    "photoshop",
    "lightroom",
    "gimp",
    "snapseed",
    "美图",  # 美图秀秀
    "meitu",
    "醒图",
    "hypic",  # 醒图's international name
    "picsart",
    "vsco",
    "pixelmator",
    "affinity",
    "facetune",
    "polarr",
    "泼辣修图",  # Polarr
    "光影魔术手",
    "neoimaging",  # 光影魔术手's English name
    "fotor",
    "acdsee",
    "paint.net",
    "capture one",
    "darktable",
    "rawtherapee",
    "luminar",
    "picasa",
)

# Download tools that rewrite Software while copying files off a camera without touching pixels.
# Decision: not editing, so not a warning; reported as a PASS finding because it tells a reviewer
# the file went through a computer rather than straight from the camera. Camera firmware strings
# ("Ver.1.00", "NIKON D90 Ver.1.00") and phone OS versions ("17.1", "MIUI") match nothing.
TRANSFER_TOOL_PATTERNS: tuple[str, ...] = ("nikon transfer", "eos utility", "image capture", "snapbridge")


@dataclass(frozen=True)
class Thresholds:
    """What the rules tolerate. Distances in metres, durations in seconds."""

    # --- Location ---
    # The geofence radius; None uses the site's own (Site.geofence_m). Override per site or type.
    geofence_m: float | None = None
    # A fix is outside only if distance - accuracy > geofence: the phone may be anywhere in its
    # accuracy circle. At most this much accuracy is credited, so a fix claiming ±5 km cannot
    # excuse being 5 km away.
    max_accuracy_credit_m: float = 500.0
    # No location at all fails; False turns it into a warning (photo types taken indoors).
    location_required: bool = True
    # A fix less precise than this is a warning (0 or negative is its own warning: fake-looking).
    accuracy_warn_m: float = 100.0
    # EXIF GPS and the capture fix disagree beyond both accuracies plus this slack. None: the site's
    # geofence (200 m without a site).
    exif_fix_slack_m: float | None = None
    # --- Time ---
    # Two clocks (EXIF capture, EXIF GPS, capture fix, device) apart by more than these.
    clock_warn_s: float = 5 * 60
    clock_fail_s: float = 60 * 60
    # The receive time may be hours later (offline work), never earlier: a capture time after it by
    # more than this slack fails.
    receive_slack_s: float = 5 * 60
    # Received this long after capture: an old photo? A warning only (phones stay offline for days).
    receive_delay_warn_s: float = 3 * 24 * 3600
    # Capture time outside the task's window by more than this fails.
    task_window_slack_s: float = 30 * 60
    # Capture times contradicting the stage order (sampling < delivery < lab) by more than this fail:
    # the slack absorbs what is left of the clock differences between the phones involved.
    stage_order_slack_s: float = 5 * 60
    # EXIF modify time later than capture by more than this: saved again after capture.
    modify_warn_s: float = 60
    # --- Content ---
    # Perceptual-hash Hamming distance (of 64 bits) at or below which another photo is a near-duplicate
    # (warning), and at or below which it is the same picture re-encoded, resized or mirrored (failure).
    near_duplicate_warn_distance: int = 10
    near_duplicate_fail_distance: int = 4
    # A file without EXIF warns (exif_missing); False keeps the finding but as PASS, for a type or a
    # site whose uploads strip it (WeChat mini-program uploads): still said, not held against it.
    exif_expected: bool = True
    editor_patterns: tuple[str, ...] = EDITOR_PATTERNS
    transfer_tool_patterns: tuple[str, ...] = TRANSFER_TOOL_PATTERNS
    # No device signature at all: a warning where signatures are required (an invalid one always fails).
    signature_required: bool = False
    # --- The person (work photos) ---
    # A clear face is expected (work photos of the filler, confirmer or reviewer): none found warns.
    face_required: bool = False
    # Sharpness (variance of the Laplacian on the reduced grey image) below this warns as blurred.
    # Only judged where face_required is set.
    blur_warn_sharpness: float = 60.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type == "tuple[str, ...]" and isinstance(value, (list, tuple)):
                value = tuple(value)
                object.__setattr__(self, f.name, value)  # a list from JSON becomes a tuple
            if not _valid_value(str(f.type), value):
                raise ValueError(f"Threshold {f.name}: invalid value {value!r} for type {f.type}.")
        if self.clock_warn_s > self.clock_fail_s:
            raise ValueError("Threshold clock_warn_s must not exceed clock_fail_s.")
        if self.near_duplicate_fail_distance > self.near_duplicate_warn_distance:
            raise ValueError(
                "Threshold near_duplicate_fail_distance must not exceed near_duplicate_warn_distance."
            )


def _valid_value(type_name: str, value: object) -> bool:
    if type_name == "bool":
        return isinstance(value, bool)
    if type_name == "tuple[str, ...]":
        return isinstance(value, tuple) and all(isinstance(item, str) and item for item in value)
    if value is None:
        return type_name.endswith("| None")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if type_name == "int" and not isinstance(value, int):
        return False
    return math.isfinite(value) and value >= 0


def thresholds_for(base: Thresholds, *overrides: dict[str, Any] | None) -> Thresholds:
    """``base`` with each override applied in order, later ones winning: pass the photo type's, then
    the site's. Unknown keys and invalid values raise ValueError; None or {} changes nothing."""
    known = {f.name for f in dataclasses.fields(Thresholds)}
    result = base
    for override in overrides:
        if not override:
            continue
        unknown = sorted(set(override) - known)
        if unknown:
            raise ValueError(
                f"Unknown threshold(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}."
            )
        result = dataclasses.replace(result, **override)
    return result


Rule = Callable[[PhotoContext, Thresholds], list[Finding]]

RULES: list[Rule] = [
    rule_location_missing,
    rule_geofence,
    rule_exif_gps_vs_fix,
    rule_accuracy,
    rule_mock_location,
    rule_clocks,
    rule_receive_time,
    rule_task_window,
    rule_stage_order,
    rule_modify_time,
    rule_file_decodes,
    rule_exif_missing,
    rule_editing_software,
    rule_same_file,
    rule_near_duplicate,
    rule_signature,
    rule_work_photo,
]


def evaluate(ctx: PhotoContext, th: Thresholds | None = None) -> Verdict:
    """Every rule's findings and the worst severity. A rule that crashes (a bug, not a verdict on the
    photo) is logged and reported as a ``rule_error`` warning; the other rules still run."""
    th = th if th is not None else Thresholds()
    findings: list[Finding] = []
    for rule in RULES:
        try:
            findings.extend(rule(ctx, th))
        except Exception:
            logger.exception("photo rule %s failed", rule.__name__)
            findings.append(
                Finding(
                    "rule_error",
                    Severity.WARN,
                    f"规则 {rule.__name__} 执行出错，结果不完整，请人工复核",
                    f"Rule {rule.__name__} failed; the verdict is incomplete, review by hand",
                    {"rule": rule.__name__},
                )
            )
    return Verdict.of(findings)
