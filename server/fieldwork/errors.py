from server.errors import ErrorCode

PROJECT_TRANSITION_NOT_ALLOWED = ErrorCode(
    "project_transition_not_allowed",
    409,
    "项目当前状态不允许此操作。",
    "The project's status does not allow this.",
)
PROJECT_ACTOR_NOT_ALLOWED = ErrorCode(
    "project_actor_not_allowed",
    403,
    "您的角色不能执行此项目操作。",
    "Your role may not do this to a project.",
)
PROJECT_REASON_REQUIRED = ErrorCode(
    "project_reason_required", 400, "退回项目须填写退回原因。", "Returning a project needs a reason."
)
CONTRACT_ATTACHMENT_REQUIRED = ErrorCode(
    "contract_attachment_required",
    409,
    "请先上传合同附件，再提交项目。",
    "Upload the contract before submitting.",
)
PROJECT_CONTRACT_MISMATCH = ErrorCode(
    "project_contract_mismatch",
    400,
    "所选合同须为本机构与该委托企业的监测合同。",
    "The contract must be this agency's monitoring contract with the client enterprise.",
)
PROJECT_CONTRACT_NOT_ACTIVE = ErrorCode(
    "project_contract_not_active", 409, "所选合同已不在履行中。", "The contract is no longer active."
)
PROJECT_REGION_NOT_ENTERPRISE = ErrorCode(
    "project_region_not_enterprise",
    400,
    "项目区域 {region_code} 与委托企业所在行政区划 {expected} 不符：项目区域即企业所在地，可不填写。",
    "Region {region_code} is not the client enterprise's ({expected}): a project's region is its "
    "enterprise's; leave it out.",
)
PROJECT_NUMBER_TAKEN = ErrorCode(
    "project_number_taken", 409, "项目编号 {number} 已存在。", "Project number {number} is already used."
)
PROJECT_LOCKED = ErrorCode(
    "project_locked",
    409,
    "项目处于“{state}”状态，不能修改。",
    "The project is {state} and cannot be changed.",
)
ASSIGNEE_NOT_ON_STAFF = ErrorCode(
    "assignee_not_on_staff",
    400,
    "该人员不是本机构的在职人员。",
    "This person is not active staff of the agency.",
)
ASSIGNEE_LACKS_POST = ErrorCode(
    "assignee_lacks_post", 400, "该人员未登记“{post}”岗位。", "This person does not hold the post {post}."
)
TASK_CREATOR_NOT_SAMPLER = ErrorCode(
    "task_creator_not_sampler",
    403,
    "监测任务由项目的采样人员创建。",
    "A monitoring task is created by one of the project's samplers.",
)
NOT_ON_PROJECT = ErrorCode(
    "not_on_project", 403, "您不是该项目的人员，不能操作其任务。", "You are not on this project's staff."
)
PROJECT_NOT_OPEN = ErrorCode(
    "project_not_open",
    409,
    "项目已提交或已完成，不能再添加或修改任务。",
    "The project is submitted or done; its tasks cannot change.",
)
TASK_EXISTS = ErrorCode("task_exists", 409, "该任务编号已存在。", "A task with this id already exists.")
TASK_DELETED = ErrorCode("task_deleted", 409, "该任务已删除。", "This task has been deleted.")
TASK_NOT_DELETABLE = ErrorCode(
    "task_not_deletable",
    409,
    "只有创建人可以删除尚未结束的任务。",
    "Only its creator can delete a task, and only before it ends.",
)
TASK_TRANSITION_NOT_ALLOWED = ErrorCode(
    "task_transition_not_allowed",
    409,
    "任务当前为「{from_status}」，不能变为「{to_status}」。",
    "The task is {from_status}; it cannot become {to_status}.",
)
TASK_ACTOR_NOT_ALLOWED = ErrorCode(
    "task_actor_not_allowed",
    403,
    "您在该项目中的岗位不能执行此操作：采样和送样人员只能暂存任务，结束任务须由实验室分析人员操作。",
    "Your post on this project does not allow this: samplers and couriers can only save a task; "
    "only a lab analyst ends it.",
)
TASK_REASON_REQUIRED = ErrorCode("task_reason_required", 400, "请填写原因。", "Give a reason.")
TASK_STAGES_INCOMPLETE = ErrorCode(
    "task_stages_incomplete",
    409,
    "以下必传照片尚未上传，任务不能结束：{missing}。",
    "These required photos are missing, so the task cannot end: {missing}.",
)
PHOTO_TYPE_NOT_FOR_TASK = ErrorCode(
    "photo_type_not_for_task",
    422,
    "照片类型“{photo_type}”不适用于{monitoring_type}监测任务。",
    "The photo type {photo_type} is not taken on {monitoring_type} monitoring tasks.",
)
PHOTO_STAGE_NOT_OPEN = ErrorCode(
    "photo_stage_not_open",
    409,
    "{stage}阶段尚未开始：请先上传{missing}。",
    "The {stage} stage is not open yet: first upload {missing}.",
)
REPORT_NUMBER_TAKEN = ErrorCode(
    "report_number_taken",
    409,
    "本机构已有报告编号为 {number} 的监测报告。",
    "The agency already has a monitoring report numbered {number}.",
)
REPORT_NUMBER_NOT_A_REPORT = ErrorCode(
    "report_number_not_a_report",
    400,
    "只有监测报告附件可填写报告编号和签发日期。",
    "Only a monitoring report attachment takes a report number and issue date.",
)
PROJECT_ATTACHMENTS_MISSING = ErrorCode(
    "project_attachments_missing",
    409,
    "提交前须上传以下附件：{missing}。",
    "Upload these attachments before submitting: {missing}.",
)
PROJECT_NO_TASK_DONE = ErrorCode(
    "project_no_task_done",
    409,
    "项目还没有已结束的监测任务，不能提交：请先在手机上完成至少一个监测任务。",
    "The project has no ended monitoring task; end at least one on a phone before submitting.",
)
PROJECT_HAS_WORK = ErrorCode(
    "project_has_work",
    409,
    "项目已有 {count} 个监测任务留有现场记录（已开始、已结束，或已有照片、轨迹、签到），"
    "现场记录须留存，不能删除。",
    "{count} of the project's monitoring tasks hold field records (started, ended, or with photos, "
    "track points or check-ins); they are kept, so the project cannot be deleted.",
)
PROJECT_TYPE_HAS_TASKS = ErrorCode(
    "project_type_has_tasks",
    409,
    "项目已有监测任务，不能再修改监测类型（任务的照片类型随监测类型确定）。",
    "The project has monitoring tasks; its monitoring type (which fixes their photo types) can no "
    "longer change.",
)
SUBCONTRACTOR_REQUIRED = ErrorCode(
    "subcontractor_required",
    400,
    "选择分包时须填写分包单位的名称和统一社会信用代码。",
    "A subcontracted project names its subcontractor and the subcontractor's credit code.",
)
CLIENT_PHONE_INVALID = ErrorCode(
    "client_phone_invalid",
    400,
    "联系电话格式不正确：请填写 11 位手机号或带区号的固定电话，如 028-86123456。",
    "The phone number is not valid: an 11-digit mobile number or a landline with its area code.",
)
ATTACHMENT_DELETED = ErrorCode(
    "attachment_deleted", 409, "该附件已删除。", "This attachment has been deleted."
)
