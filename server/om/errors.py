from server.errors import ErrorCode

OM_CONTRACT_MISMATCH = ErrorCode(
    "om_contract_mismatch",
    400,
    "运维任务须绑定本机构的运维合同。",
    "An O&M task needs one of this agency's O&M contracts.",
)
OM_POINT_NOT_IN_CONTRACT = ErrorCode(
    "om_point_not_in_contract",
    400,
    "运维点位须属于合同的委托企业，且类型与任务一致。",
    "O&M points must belong to the contract's enterprise and match the task's kind.",
)
OM_INSTRUMENT_NOT_AT_POINT = ErrorCode(
    "om_instrument_not_at_point",
    400,
    "运维设备须安装在任务的运维点位上。",
    "O&M instruments must be installed at the task's points.",
)
OM_STAFF_NOT_ELIGIBLE = ErrorCode(
    "om_staff_not_eligible",
    400,
    "{name} 不是本机构在职的“{post}”人员。",
    "{name} is not active staff of this agency in the post {post}.",
)
OM_TASK_NUMBER_TAKEN = ErrorCode(
    "om_task_number_taken", 409, "任务编号 {number} 已存在。", "Task number {number} is already used."
)
OM_PLAN_OUTSIDE_TASK = ErrorCode(
    "om_plan_outside_task",
    400,
    "运维计划的执行时间须在任务期限之内。",
    "A plan's window must lie within the task's period.",
)
OM_TASK_NEEDS_POINTS = ErrorCode(
    "om_task_needs_points", 400, "运维任务至少需要一个运维点位。", "An O&M task needs at least one point."
)

# --- Daily records ([F6]) --------------------------------------------------------------------------
OM_TEMPLATE_UNKNOWN = ErrorCode(
    "om_template_unknown", 400, "未知的运维表单：{code}。", "Unknown O&M form: {code}."
)
OM_TEMPLATE_NOT_FOR_OUTLET = ErrorCode(
    "om_template_not_for_outlet",
    400,
    "“{name}”不适用于该排口类型。",
    "The form “{name}” does not apply to this kind of outlet.",
)
OM_OUTLET_NOT_ON_TASK = ErrorCode(
    "om_outlet_not_on_task",
    400,
    "该排口不是此运维任务的点位。",
    "This outlet is not one of the task's points.",
)
OM_NOT_TECHNICIAN = ErrorCode(
    "om_not_technician",
    403,
    "只有此任务的现场运维人员可以填报运维记录。",
    "Only the task's O&M technicians may fill its records.",
)
OM_NOT_FILLER = ErrorCode(
    "om_not_filler", 403, "只有填报人可以修改此运维记录。", "Only the record's filler may change it."
)
OM_CHECKIN_REQUIRED = ErrorCode(
    "om_checkin_required",
    409,
    "提交前须完成开始签到和结束签到。",
    "A record needs its start and end check-ins before it is submitted.",
)
OM_CHECKIN_MISMATCH = ErrorCode(
    "om_checkin_mismatch",
    400,
    "签到须是本人在此任务、此排口的{kind}。",
    "The check-in must be your own {kind} for this task at this outlet.",
)
OM_CHECKIN_OUTSIDE = ErrorCode(
    "om_checkin_outside",
    409,
    "签到位置距排口 {distance} 米，超出电子围栏；此任务要求在围栏内签到才能提交。",
    "The check-in was {distance} m from the outlet, outside its geofence; "
    "this task requires check-ins inside it.",
)
OM_WORK_PHOTO_REQUIRED = ErrorCode(
    "om_work_photo_required",
    409,
    "须上传本人工作照（面部清晰）。",
    "A work photo of yourself (clear face) is required.",
)
OM_WORK_PHOTO_INVALID = ErrorCode(
    "om_work_photo_invalid",
    400,
    "工作照须是本人拍摄的“工作照”类型照片。",
    "The work photo must be a photo of type work photo taken by you.",
)
OM_SIGNATURE_REQUIRED = ErrorCode(
    "om_signature_required", 409, "须手写签名。", "A handwritten signature is required."
)
OM_RECORD_CLOSED = ErrorCode(
    "om_record_closed",
    409,
    "运维记录已{status}，不能再修改。",
    "The record is {status} and can no longer be changed.",
)
OM_RECORD_TRANSITION_NOT_ALLOWED = ErrorCode(
    "om_record_transition_not_allowed",
    409,
    "运维记录不能从“{from_status}”变为“{to_status}”。",
    "The record cannot go from “{from_status}” to “{to_status}”.",
)
OM_RECORD_ACTOR_NOT_ALLOWED = ErrorCode(
    "om_record_actor_not_allowed", 403, "您不能对此运维记录执行该操作。", "You may not do this to the record."
)
OM_VOID_REASON_REQUIRED = ErrorCode(
    "om_void_reason_required", 400, "作废须填写原因。", "Voiding a record needs a reason."
)
OM_RECORD_NOT_CONFIRMED = ErrorCode(
    "om_record_not_confirmed",
    409,
    "运维记录须经排污单位确认后才能审核。",
    "A record can be reviewed only after the enterprise has confirmed it.",
)
OM_REVIEWER_IS_FILLER = ErrorCode(
    "om_reviewer_is_filler",
    403,
    "填报表单和审核表单不能为同一人。",
    "The reviewer of a record cannot be the person who filled it.",
)
OM_NOT_REVIEWER = ErrorCode(
    "om_not_reviewer",
    403,
    "只有此任务有审核权限的运维人员可以审核。",
    "Only the task's O&M reviewers may review its records.",
)
OM_NOT_ENTERPRISE_RECORD = ErrorCode(
    "om_not_enterprise_record",
    403,
    "只能确认本企业的运维记录。",
    "You can only confirm your own enterprise's records.",
)
OM_DAY_NOTHING_TO_CONFIRM = ErrorCode(
    "om_day_nothing_to_confirm",
    409,
    "{date} 没有待确认的运维记录。",
    "There are no records awaiting confirmation on {date}.",
)
OM_DAY_MISMATCH = ErrorCode(
    "om_day_mismatch",
    409,
    "确认列表与当日待确认记录不一致，请刷新后重新确认。",
    "The list confirmed differs from the day's records awaiting confirmation; refresh and confirm again.",
)
OM_ID_TAKEN = ErrorCode(
    "om_id_taken",
    409,
    "该编号已被他人的确认或审核使用，请重新生成编号。",
    "This id is already used by someone else's confirmation or review; generate a new one.",
)
OM_BATCH_EMPTY = ErrorCode("om_batch_empty", 400, "请至少选择一条记录。", "Choose at least one record.")

# --- Forms ([F6]: templates as data, computed judgements) -----------------------------------------
OM_ANSWERS_INVALID = ErrorCode(
    "om_answers_invalid",
    400,
    "表单填写有误（{count} 处），请按提示修改。",
    "The form has {count} invalid or missing answers; see details.",
)
OM_GROUP_UNKNOWN = ErrorCode(
    "om_group_unknown",
    400,
    "此表单没有这些检查频次：{groups}。",
    "This form has no such check groups: {groups}.",
)
OM_GROUPS_REQUIRED = ErrorCode(
    "om_groups_required",
    400,
    "请至少选择一个检查频次（日/周/月/季检查维护）。",
    "Choose at least one check group (daily, weekly, monthly, quarterly).",
)
OM_INSTRUMENT_NOT_APPLICABLE = ErrorCode(
    "om_instrument_not_applicable",
    400,
    "以下设备不适用于“{name}”：{instruments}。",
    "These instruments do not apply to the form “{name}”: {instruments}.",
)

# --- Plans and reports ([F6]: 运维管理, 上传报告) ---------------------------------------------------
OM_RANGE_TOO_LARGE = ErrorCode(
    "om_range_too_large",
    400,
    "所选时间范围内的运维计划超过 {limit} 条，请缩小开始时间和结束时间的范围。",
    "More than {limit} plan occurrences fall in this range; give a narrower start and end.",
)
OM_REPORT_NOT_ALLOWED = ErrorCode(
    "om_report_not_allowed",
    403,
    "只有本机构的主账号、管理子账号或此任务的运维人员可以上传报告。",
    "Only the agency's main or manager account or the task's O&M staff may upload its reports.",
)
OM_REPORT_RECORD_FOREIGN = ErrorCode(
    "om_report_record_foreign",
    400,
    "关联表单须是此运维任务的运维记录。",
    "Linked forms must be records of this O&M task.",
)
OM_REPORT_RECORD_NOT_SUBMITTED = ErrorCode(
    "om_report_record_not_submitted",
    409,
    "关联表单须已提交（草稿和已作废的记录不能关联）。",
    "Linked forms must have been submitted (not drafts, not voided).",
)
OM_REPORT_TOO_LARGE = ErrorCode(
    "om_report_too_large",
    413,
    "报告附件不能超过 {limit_mb} MB。",
    "A report file may be at most {limit_mb} MB.",
)
OM_REPORT_TYPE_NOT_ALLOWED = ErrorCode(
    "om_report_type_not_allowed",
    415,
    "报告附件须是 PDF、Word（doc/docx）、Excel（xls/xlsx）或 JPG/PNG 图片。",
    "A report file must be a PDF, Word (doc/docx), Excel (xls/xlsx), or JPG/PNG image.",
)
OM_REPORT_EMPTY = ErrorCode("om_report_empty", 400, "报告附件为空文件。", "The report file is empty.")
OM_REPORT_DUPLICATE = ErrorCode(
    "om_report_duplicate",
    409,
    "此任务已上传过同名的同一文件（报告 {report_id}），但报告名称、类别、描述或关联表单不同。",
    "This task already has this file under the same name (report {report_id}) with a different "
    "name, category, description or linked forms.",
)
OM_REPORT_UNAVAILABLE = ErrorCode(
    "om_report_unavailable",
    503,
    "报告文件暂时无法从存储中读取，请稍后再试；如持续出现请联系管理员。",
    "The report file cannot be read from storage right now; try again later, and tell an "
    "administrator if it persists.",
)

# --- Plans, task lifecycle and 信息变更申请 (issue F13) -------------------------------------------
OM_PLAN_NEEDS_TEMPLATE = ErrorCode(
    "om_plan_needs_template",
    400,
    "运维计划须至少选择一个运维内容（表单）。",
    "A plan needs at least one O&M form that fulfils it.",
)
OM_PLAN_HAS_RECORDS = ErrorCode(
    "om_plan_has_records",
    409,
    "此计划已有 {count} 条运维记录计入，不能删除；如不再执行，请把执行结束改为今天或更早。",
    "{count} records count towards this plan: it cannot be deleted. To stop it, set its end to today "
    "or earlier.",
)
OM_TASK_FINISHED = ErrorCode(
    "om_task_finished",
    409,
    "此运维任务已完结，不能再填报或修改。",
    "This O&M task is finished: it takes no new records or changes.",
)
OM_TASK_TRANSITION_NOT_ALLOWED = ErrorCode(
    "om_task_transition_not_allowed",
    409,
    "运维任务不能从“{from_status}”改为“{to_status}”。",
    "An O&M task cannot move from “{from_status}” to “{to_status}”.",
)
OM_TASK_ACTOR_NOT_ALLOWED = ErrorCode(
    "om_task_actor_not_allowed",
    403,
    "只有运维机构的主账号或管理员可以完结或重新开启运维任务。",
    "Only the agency's main or manager account may finish or reopen an O&M task.",
)
OM_TASK_REOPEN_REASON_REQUIRED = ErrorCode(
    "om_task_reopen_reason_required",
    400,
    "重新开启已完结的任务须说明原因。",
    "Reopening a finished task needs a reason.",
)
OM_TASK_PERIOD_EXCLUDES_PLANS = ErrorCode(
    "om_task_period_excludes_plans",
    400,
    "任务期限须包含其全部运维计划的执行时间（计划“{title}”）。",
    "The task's period must contain every plan's window (plan “{title}”).",
)
OM_CHANGE_NOTHING = ErrorCode("om_change_nothing", 400, "没有修改任何信息。", "Nothing was changed.")
OM_CHANGE_PENDING = ErrorCode(
    "om_change_pending",
    409,
    "已有一份待确认的信息变更申请；请等待确认，或先撤回它。",
    "A change request is already waiting: wait for the decision, or withdraw it first.",
)
OM_CHANGE_TRANSITION_NOT_ALLOWED = ErrorCode(
    "om_change_transition_not_allowed",
    409,
    "信息变更申请不能从“{from_status}”改为“{to_status}”。",
    "A change request cannot move from “{from_status}” to “{to_status}”.",
)
OM_CHANGE_ACTOR_NOT_ALLOWED = ErrorCode(
    "om_change_actor_not_allowed",
    403,
    "信息变更申请由委托企业或其所在地监管部门确认，由提出申请的机构撤回。",
    "The enterprise or a regulator of its region decides a change request; the agency that asked "
    "withdraws it.",
)
OM_CHANGE_REFUSAL_REASON_REQUIRED = ErrorCode(
    "om_change_refusal_reason_required",
    400,
    "拒绝信息变更申请须填写原因。",
    "Refusing a change request needs a reason.",
)
OM_EDIT_NOT_ALLOWED = ErrorCode(
    "om_edit_not_allowed",
    403,
    "只有本机构的主账号或管理员可以修改合同、运维任务或撤回其信息变更申请。",
    "Only the agency's main or manager account may edit its contracts and O&M tasks or withdraw "
    "their change requests.",
)
