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
