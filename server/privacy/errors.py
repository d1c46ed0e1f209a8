"""Error codes of personal-information protection (server/privacy)."""

from __future__ import annotations

from server.errors import ErrorCode

PII_UNREADABLE = ErrorCode(
    "pii_unreadable",
    503,
    "个人信息无法解密：所需密钥未配置或数据已损坏，请联系管理员。",
    "Personal data cannot be decrypted: its key is not configured or the data is damaged; "
    "contact the administrator.",
)
