"""Stable error codes of violations and rectifications (违规待整改 / 历史整改记录)."""

from server.errors import ErrorCode

VIOLATION_TRANSITION_NOT_ALLOWED = ErrorCode(
    "violation_transition_not_allowed",
    409,
    "违规当前为「{from_status}」，不能变为「{to_status}」。",
    "The violation is {from_status}; it cannot become {to_status}.",
)
VIOLATION_ACTOR_NOT_ALLOWED = ErrorCode(
    "violation_actor_not_allowed",
    403,
    "您的角色不能执行此操作：违规由监管部门开具和审核，整改由机构主账号或管理子账号提交。",
    "Your role may not do this: regulators open and review violations; "
    "the agency's main or manager account submits rectifications.",
)
REJECTION_REASON_REQUIRED = ErrorCode(
    "rectification_reject_reason_required",
    400,
    "退回整改须填写退回原因。",
    "Rejecting a rectification needs a reason.",
)
VIOLATION_DEADLINE_PAST = ErrorCode(
    "violation_deadline_past",
    400,
    "整改期限 {deadline} 已过，请填写今天（{today}）或以后的日期。",
    "The deadline {deadline} has passed; give today ({today}) or a later date.",
)
VIOLATION_EVIDENCE_FOREIGN = ErrorCode(
    "violation_evidence_foreign",
    400,
    "作为证据的照片或签到记录须来自该项目的监测任务；整改单的证据须是该运维任务的签到或已提交的运维记录。",
    "Evidence (a photo or a check-in) must come from this project's monitoring tasks; an O&M "
    "order's evidence must be a check-in or a submitted record of that O&M task.",
)
VIOLATION_CLOSED = ErrorCode(
    "violation_closed", 409, "该违规已销号，不能再整改或审核。", "The violation is closed."
)
RECTIFICATION_PENDING = ErrorCode(
    "rectification_pending",
    409,
    "已提交的整改正在等待监管部门审核，审核前不能再次提交。",
    "A rectification is waiting for the regulator's review; it cannot be submitted again until then.",
)
NOTHING_TO_REVIEW = ErrorCode(
    "rectification_not_submitted",
    409,
    "该违规尚无待审核的整改。",
    "The violation has no rectification waiting for review.",
)
RECTIFICATION_FILE_TOO_LARGE = ErrorCode(
    "rectification_file_too_large",
    413,
    "整改附件不能超过 {limit_mb} MB。",
    "A rectification attachment may be at most {limit_mb} MB.",
)
VIOLATION_SUBJECT_REQUIRED = ErrorCode(
    "violation_subject_required",
    400,
    "请指定监测项目或运维任务（二者选一）。",
    "Name either a monitoring project or an O&M task (exactly one).",
)
