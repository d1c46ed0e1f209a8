"""Error codes of the registry (enterprises, people, their identifiers).

Declared once here, registered with ``server.errors`` on import; other registry rules add their
codes to this module. Messages are filled from the raising site's parameters: identifier
validation passes ``reason_zh`` / ``reason_en`` so that each language gets a readable reason,
while ``details["reason"]`` carries the stable machine-readable reason.
"""

from __future__ import annotations

from server.errors import ErrorCode

INVALID_CREDIT_CODE = ErrorCode(
    "invalid_credit_code",
    400,
    "统一社会信用代码无效：{reason_zh}",
    "Invalid unified social credit code: {reason_en}",
)
INVALID_RESIDENT_ID = ErrorCode(
    "invalid_resident_id",
    400,
    "居民身份证号码无效：{reason_zh}",
    "Invalid resident identity card number: {reason_en}",
)

# --- Regions and filings --------------------------------------------------------------------------
INVALID_REGION_CODE = ErrorCode(
    "invalid_region_code",
    400,
    "行政区划代码无效：{code}（应为 6 位数字，如 310104）。",
    "Invalid administrative division code: {code} (six digits, e.g. 310104).",
)
AGENCY_ALREADY_REGISTERED = ErrorCode(
    "agency_already_registered",
    409,
    "该统一社会信用代码的机构已注册。",
    "An agency with this credit code is already registered.",
)
FILING_TRANSITION_NOT_ALLOWED = ErrorCode(
    "filing_transition_not_allowed",
    409,
    "备案状态不能从“{from_status}”变为“{to_status}”。",
    "The filing cannot go from {from_status} to {to_status}.",
)
FILING_ACTOR_NOT_ALLOWED = ErrorCode(
    "filing_actor_not_allowed", 403, "您的角色不能执行此备案操作。", "Your role may not do this to a filing."
)
FILING_OUTSIDE_REGION = ErrorCode(
    "filing_outside_region",
    403,
    "该机构不在您的辖区，不能审查其备案。",
    "This agency is outside your region; you cannot review its filing.",
)
REASON_REQUIRED = ErrorCode("reason_required", 400, "退回须填写原因。", "Returning needs a reason.")
AGENCY_LOCKED = ErrorCode(
    "agency_locked",
    409,
    "备案处于“{state}”状态，暂不能修改。",
    "The filing is {state} and cannot be changed now.",
)
AGENCY_NOT_APPROVED = ErrorCode(
    "agency_not_approved",
    409,
    "机构备案尚未审查通过（当前：{state}），暂不能登记业务。",
    "The agency's filing is not approved yet ({state}); business cannot be registered.",
)

# --- People, staff and certificates ---------------------------------------------------------------
PERSON_NAME_MISMATCH = ErrorCode(
    "person_name_mismatch",
    409,
    "该身份证号已登记为另一姓名，请核对。",
    "This ID number is registered under another name; check it.",
)
PERSON_ALREADY_ON_STAFF = ErrorCode(
    "person_already_on_staff",
    409,
    "该人员已是本机构在职人员。",
    "This person is already on the agency's staff.",
)
# Says no more than "registered elsewhere" (issue F9 item 6): no agency, no name, no record id.
PERSON_ACTIVE_ELSEWHERE = ErrorCode(
    "person_active_elsewhere",
    409,
    "该人员已在其他机构备案在职（一人一机构）。如其已离职，请提交重复人员报备（附离职证明），"
    "经原单位或监管部门确认后即转入本机构。",
    "This person is registered as active at another agency (one person, one agency). If they have "
    "left, file a transfer report (重复人员报备) with the departure proof; once the other agency or "
    "the regulator confirms it, the person joins this agency.",
)
EMPLOYMENT_NOT_ACTIVE = ErrorCode(
    "employment_not_active", 409, "该人员已不在职。", "This staff record is no longer active."
)
NO_TRANSFER_NEEDED = ErrorCode(
    "no_transfer_needed",
    409,
    "该人员当前不在其他机构在职，无需报备。",
    "This person is not active at another agency; no transfer report is needed.",
)
TRANSFER_ALREADY_PENDING = ErrorCode(
    "transfer_already_pending",
    409,
    "本机构已为该人员提交重复人员报备，正在等待确认。",
    "This agency has already filed a transfer report for this person; it awaits confirmation.",
)
TRANSFER_TRANSITION_NOT_ALLOWED = ErrorCode(
    "transfer_transition_not_allowed",
    409,
    "重复人员报备不能从“{from_status}”变为“{to_status}”。",
    "The transfer report cannot go from {from_status} to {to_status}.",
)
TRANSFER_ACTOR_NOT_ALLOWED = ErrorCode(
    "transfer_actor_not_allowed",
    403,
    "重复人员报备须由原单位主账号或原单位所在辖区的监管部门确认或拒绝。",
    "Only the former agency's main account or a regulator of its region may confirm or refuse the "
    "transfer report.",
)
TRANSFER_REASON_REQUIRED = ErrorCode(
    "transfer_reason_required",
    400,
    "拒绝重复人员报备须填写原因。",
    "Refusing a transfer report needs a reason.",
)
TRANSFER_STALE = ErrorCode(
    "transfer_stale",
    409,
    "该人员在原单位的在职记录已变更，此报备不能再确认，请拒绝。",
    "The person's record at the former agency has changed; this report can no longer be confirmed.",
)
ID_NUMBER_IN_QUERY = ErrorCode(
    "id_number_in_query",
    400,
    "身份证号不能放在网址中（网址会被记录在日志里），"
    "请改用 POST /api/v1/staff/search，在请求正文中提交 id_number。",
    "An ID number may not be sent in the URL (URLs are logged); use POST /api/v1/staff/search with "
    "id_number in the request body.",
)
UNKNOWN_POST = ErrorCode("unknown_post", 400, "未知岗位：{posts}。", "Unknown posts: {posts}.")
CERTIFICATE_REQUIRED = ErrorCode(
    "certificate_required",
    409,
    "“{post}”岗位须持有效能力证书，该人员尚无此证书。",
    "The post {post} needs a valid competency certificate; this person has none.",
)
CERTIFICATE_NOT_VALID = ErrorCode(
    "certificate_not_valid",
    409,
    "“{post}”岗位能力证书不在有效期内（有效期至 {valid_until}）。",
    "The competency certificate for {post} is not valid now (valid until {valid_until}).",
)
CERTIFICATE_NUMBER_TAKEN = ErrorCode(
    "certificate_number_taken",
    409,
    "证书编号 {number} 已登记在另一人名下。",
    "Certificate number {number} is registered to someone else.",
)

# --- Enterprises, outlets, instruments, contracts -------------------------------------------------
ENTERPRISE_ALREADY_REGISTERED = ErrorCode(
    "enterprise_already_registered",
    409,
    "该企业已登记，请直接选用。",
    "This enterprise is already registered; use the existing record.",
)
OUTLET_NAME_TAKEN = ErrorCode(
    "outlet_name_taken",
    409,
    "该企业已有名为“{name}”的排口。",
    "The enterprise already has an outlet named {name}.",
)
UNKNOWN_ANALYTE = ErrorCode(
    "unknown_analyte", 400, "未知监测因子：{analytes}。", "Unknown analytes: {analytes}."
)
ANALYTE_NOT_FOR_OUTLET = ErrorCode(
    "analyte_not_for_outlet",
    400,
    "监测因子 {analytes} 不适用于{kind}排口。",
    "The analytes {analytes} do not apply to a {kind} outlet.",
)
INSTRUMENT_ALREADY_REGISTERED = ErrorCode(
    "instrument_already_registered",
    409,
    "{maker} 出厂编号 {serial} 的设备已登记。",
    "The instrument {maker} serial {serial} is already registered.",
)
CONTRACT_NATURE_NOT_FOR_AGENCY = ErrorCode(
    "contract_nature_not_for_agency",
    400,
    "本机构的备案类别不含“{nature}”业务。",
    "The agency is not registered for {nature} work.",
)
CONTRACT_NUMBER_TAKEN = ErrorCode(
    "contract_number_taken", 409, "合同编号 {number} 已存在。", "Contract number {number} is already used."
)
# A contract grants rights only once the enterprise side has accepted it (issue F9.2).
CONTRACT_TRANSITION_NOT_ALLOWED = ErrorCode(
    "contract_transition_not_allowed",
    409,
    "合同确认状态不能从“{from_status}”变为“{to_status}”。",
    "The contract cannot go from {from_status} to {to_status}.",
)
CONTRACT_ACTOR_NOT_ALLOWED = ErrorCode(
    "contract_actor_not_allowed",
    403,
    "合同须由委托企业或其所在辖区的监管方确认或拒绝。",
    "Only the client enterprise or a regulator of its region may accept or refuse the contract.",
)
CONTRACT_REFUSAL_REASON_REQUIRED = ErrorCode(
    "contract_refusal_reason_required", 400, "拒绝合同须填写原因。", "Refusing a contract needs a reason."
)
CONTRACT_NOT_ACCEPTED = ErrorCode(
    "contract_not_accepted",
    409,
    "合同尚未经委托企业确认（当前：{state}），暂不能登记业务。",
    "The client enterprise has not accepted the contract yet ({state}); no work can be registered under it.",
)

# --- Jurisdiction (issue F9.5) ----------------------------------------------------------------------
REGION_CHANGE_NOT_PENDING = ErrorCode(
    "region_change_not_pending",
    409,
    "该企业没有待审核的行政区划变更。",
    "The enterprise has no region change awaiting review.",
)
REGION_CHANGE_REASON_REQUIRED = ErrorCode(
    "region_change_reason_required",
    400,
    "不批准行政区划变更须填写原因。",
    "Refusing a region change needs a reason.",
)
REGION_CHANGE_ACTOR_NOT_ALLOWED = ErrorCode(
    "region_change_actor_not_allowed",
    403,
    "企业行政区划变更须由其所在辖区的监管方审核。",
    "Only a regulator of the enterprise's region may review its region change.",
)

# --- The filing dossier and staff documents -------------------------------------------------------
FILING_INCOMPLETE = ErrorCode(
    "filing_incomplete",
    409,
    "备案材料不全，不能提交：缺少{missing}。",
    "The filing is incomplete and cannot be submitted: missing {missing_en}.",
)
DOSSIER_LOCKED = ErrorCode(
    "dossier_locked",
    409,
    "备案处于“{state}”状态，材料暂不能修改。",
    "The filing is {state}; its documents cannot be changed now.",
)
DOCUMENT_STILL_REQUIRED = ErrorCode(
    "document_still_required",
    409,
    "“{kind}”是已备案机构的必备材料：请先上传新的，再删除这一份。",
    "{kind} is required of a filed agency: upload the new one before deleting this one.",
)
FILE_REQUIRED = ErrorCode("file_required", 400, "请选择要上传的文件。", "Choose a file to upload.")
FILE_TOO_LARGE = ErrorCode(
    "file_too_large",
    413,
    "文件过大：最大 {limit_mb} MB。",
    "The file is too large: at most {limit_mb} MB.",
)
FILE_TYPE_NOT_ALLOWED = ErrorCode(
    "file_type_not_allowed",
    400,
    "只能上传 PDF、JPG 或 PNG 文件。",
    "Only PDF, JPG or PNG files can be uploaded.",
)
UNKNOWN_CATEGORY = ErrorCode(
    "unknown_category",
    400,
    "没有这个类别：{categories}。",
    "No such category: {categories}.",
)
QUALIFICATION_NUMBER_TAKEN = ErrorCode(
    "qualification_number_taken",
    409,
    "本机构已登记编号为 {number} 的同类证书。",
    "The agency already has a certificate of this kind numbered {number}.",
)
CMA_SCAN_REQUIRED = ErrorCode(
    "cma_scan_required",
    400,
    "请上传资质认定证书（CMA）扫描件：备案须附此证书。",
    "Upload the CMA certificate's scan: the filing requires it.",
)
DOCUMENT_UNAVAILABLE = ErrorCode(
    "document_unavailable",
    503,
    "文件暂时无法从存储中读取，请稍后再试；如持续出现请联系管理员。",
    "The file cannot be read from storage right now; try again later, and tell an administrator "
    "if it persists.",
)
