"""Error codes of photo intake, photo records and device keys, which a client has to act on.

Declared once here and rendered through ``server.errors``; clients branch on ``code``. The photo
intake codes (``unsupported_image``, ...) live next to the code that raises them in ``imaging``.
"""

from __future__ import annotations

from server.errors import ErrorCode

# --- Device signing keys (media_rules/signing.py), checked when a phone enrols ---------------------
DEVICE_KEY_INVALID = ErrorCode(
    "device_key_invalid",
    400,
    "设备公钥无效：请提交 PEM 格式的公钥（-----BEGIN PUBLIC KEY-----）。",
    "The device public key is unreadable; send a PEM public key (-----BEGIN PUBLIC KEY-----).",
)
DEVICE_KEY_UNSUPPORTED = ErrorCode(
    "device_key_unsupported",
    400,
    "不支持的设备公钥：{key_type}。请使用 ECDSA P-256、Ed25519 或不少于 2048 位的 RSA 密钥。",
    "Unsupported device public key: {key_type}; use ECDSA P-256, Ed25519 or RSA of at least 2048 bits.",
)


# --- Photo intake and photo records (media_rules/intake.py, services.py) -------------------------
MEDIA_TOO_LARGE = ErrorCode(
    "media_too_large",
    413,
    "照片文件过大（上限 {max_bytes} 字节），请压缩或用标准分辨率重新拍摄。",
    "The photo file is too large (the limit is {max_bytes} bytes).",
)
MEDIA_FILE_MISSING = ErrorCode(
    "media_file_missing", 400, "请在 file 字段中上传照片文件。", "Send the photo in the file field."
)
MEDIA_HASH_MISMATCH = ErrorCode(
    "media_hash_mismatch",
    422,
    "收到的文件与声明的 SHA-256 不符（收到 {received}），文件可能在传输中损坏，请重新上传。",
    "The file received does not match the SHA-256 declared (received {received}); "
    "it may have been damaged in transit: upload it again.",
)
MEDIA_SIZE_MISMATCH = ErrorCode(
    "media_size_mismatch",
    422,
    "收到的文件大小与声明的不符（声明 {declared} 字节，收到 {received} 字节）。",
    "The file size differs from the size declared ({declared} bytes declared, {received} received).",
)
MEDIA_NOT_RECEIVED = ErrorCode(
    "media_not_received",
    409,
    "服务器尚未收到该文件，请先上传。",
    "The server has not received this file yet; upload it first.",
)
UPLOAD_OFFSET_MISMATCH = ErrorCode(
    "upload_offset_mismatch",
    409,
    "续传位置不符：服务器已收到 {received} 字节，请从该位置继续。",
    "Wrong resume offset: the server holds {received} bytes; continue from there.",
)
UPLOAD_CHUNK_TOO_LARGE = ErrorCode(
    "upload_chunk_too_large",
    413,
    "分片过大（上限 {max_bytes} 字节）。",
    "The chunk is too large (the limit is {max_bytes} bytes).",
)
UPLOAD_EXPIRED = ErrorCode(
    "upload_expired",
    410,
    "续传已过期，请重新开始上传。",
    "This resumable upload has expired; start the upload again.",
)
PRESIGN_UNAVAILABLE = ErrorCode(
    "presign_unavailable",
    409,
    "当前存储不支持直传，请改用分片上传或表单上传。",
    "Direct upload to storage is not available here; use the resumable or form upload.",
)
PHOTO_CONFLICT = ErrorCode(
    "photo_conflict",
    409,
    "该照片已登记为另一个文件（SHA-256 {stored}），已保存的文件不会被替换。",
    "This photo is already recorded with another file (SHA-256 {stored}); the stored file is kept.",
)
PHOTO_TYPE_UNKNOWN = ErrorCode(
    "photo_type_unknown", 400, "未知的照片类型：{photo_type}。", "Unknown photo type: {photo_type}."
)
PHOTO_SUBJECT_REQUIRED = ErrorCode(
    "photo_subject_required",
    400,
    "照片须属于一个监测任务或一个点位（排口）。",
    "A photo must belong to a monitoring task or a site (outlet).",
)
PHOTO_NO_AGENCY = ErrorCode(
    "photo_no_agency",
    403,
    "只有监测或运维机构的人员可以登记照片。",
    "Only staff of a monitoring or O&M agency can record photos.",
)
MEDIA_UNAVAILABLE = ErrorCode(
    "media_unavailable",
    503,
    "照片文件暂时无法从存储中读取，请稍后再试；如持续出现请联系管理员。",
    "The photo file cannot be read from storage right now; try again later, and tell an "
    "administrator if it persists.",
)
MEDIA_PURGED = ErrorCode(
    "media_purged",
    410,
    "该照片文件已于 {purged_on} 按个人信息保存期限删除；照片记录、SHA-256 与判定结果仍保留。",
    "This photo file was deleted on {purged_on} at the end of its retention period (personal "
    "information); the photo record, its SHA-256 and its verdict are kept.",
)
THUMBNAIL_NOT_READY = ErrorCode(
    "thumbnail_not_ready",
    409,
    "缩略图尚未生成，请稍后再试。",
    "The thumbnail is not ready yet; try again shortly.",
)

# --- Signatures (media_rules/signatures.py) ---
SIGNATURE_BLANK = ErrorCode(
    "signature_blank", 400, "签名为空白，请手写签名。", "The signature is blank; please sign by hand."
)
SIGNATURE_IMAGE_INVALID = ErrorCode(
    "signature_image_invalid",
    400,
    "签名须是 PNG 或 JPEG 图片（不超过 {max_kb} KB）。",
    "A signature must be a PNG or JPEG image of at most {max_kb} KB.",
)
