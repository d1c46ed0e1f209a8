from server.errors import ErrorCode

UNKNOWN_OP_TYPE = ErrorCode(
    "unknown_op_type", 400, "未知的操作类型：{op_type}。", "Unknown operation type: {op_type}."
)
OP_ID_REUSED = ErrorCode(
    "op_id_reused",
    409,
    "该操作编号已用于内容不同的另一操作，未应用。",
    "This operation id was already used for an operation with different content; nothing was applied.",
)
SEQ_REUSED = ErrorCode(
    "seq_reused",
    409,
    "队列序号 {seq} 已被本设备的另一操作使用。",
    "Queue position {seq} was already used by another operation of this device.",
)
BATCH_TOO_LARGE = ErrorCode(
    "batch_too_large",
    413,
    "一次最多推送 {max_ops} 个操作、{max_bytes} 字节，请分批推送。",
    "A push holds at most {max_ops} operations and {max_bytes} bytes; split it.",
)
DEVICE_MISMATCH = ErrorCode(
    "device_mismatch",
    403,
    "推送的设备与登录令牌的设备不一致。",
    "The pushed device is not the device this token was issued to.",
)
DUPLICATE_IN_BATCH = ErrorCode(
    "duplicate_in_batch",
    400,
    "同一批次中操作编号或队列序号重复。",
    "An operation id or queue position appears twice in the batch.",
)
VERSION_FROM_FUTURE = ErrorCode(
    "version_from_future",
    400,
    "基础版本 {base_version} 高于服务器上的版本 {version}。",
    "Base version {base_version} is ahead of the server's version {version}.",
)
BASE_VERSION_REQUIRED = ErrorCode(
    "base_version_required",
    400,
    "更新操作须提供基础版本。",
    "An update needs the base version it was made on.",
)
HOLD_EXPIRED = ErrorCode(
    "hold_expired",
    409,
    "该操作等待前置数据超过 {hours} 小时，已转人工复核。",
    "This operation waited for its prerequisite more than {hours} hours; it is flagged for review.",
)
IDEMPOTENCY_KEY_REUSED = ErrorCode(
    "idempotency_key_reused",
    422,
    "该 Idempotency-Key 已用于内容不同的请求。",
    "This Idempotency-Key was already used for a different request.",
)
IDEMPOTENCY_IN_PROGRESS = ErrorCode(
    "idempotency_in_progress",
    409,
    "相同 Idempotency-Key 的请求正在处理中，请稍后重试。",
    "A request with this Idempotency-Key is still being processed; retry shortly.",
)
