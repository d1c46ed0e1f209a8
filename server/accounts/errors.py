"""Error codes raised by the accounts app (sign-in, WeChat login, ...).

Declared once here and rendered through ``server.errors``; clients branch on ``code``.
"""

from __future__ import annotations

from server.errors import ErrorCode

# --- WeChat mini-program login (code2session) -----------------------------------------------------
WECHAT_CODE_INVALID = ErrorCode(
    "wechat_code_invalid",
    400,
    "微信登录凭证无效或已使用，请重新进入小程序。",
    "The WeChat login code is invalid or has already been used; reopen the mini-program.",
)
WECHAT_RATE_LIMITED = ErrorCode(
    "wechat_rate_limited",
    429,
    "微信登录请求过于频繁，请稍等一分钟后再试。",
    "Too many WeChat logins right now; wait a minute and try again.",
)
WECHAT_BUSY = ErrorCode(
    "wechat_busy",
    503,
    "微信服务繁忙，请稍后重试。",
    "WeChat is busy; try again shortly.",
)
WECHAT_MISCONFIGURED = ErrorCode(
    "wechat_misconfigured",
    502,
    "微信登录配置有误，请联系管理员。",
    "The WeChat login is misconfigured (app ID or secret rejected); contact the administrator.",
)
WECHAT_NOT_CONFIGURED = ErrorCode(
    "wechat_not_configured",
    503,
    "微信登录暂未开通，请使用其他方式登录或联系管理员。",
    "WeChat login is not set up on this server; use another sign-in method or contact the administrator.",
)
WECHAT_UNREACHABLE = ErrorCode(
    "wechat_unreachable",
    503,
    "暂时无法连接微信服务，请检查网络后重试。",
    "WeChat could not be reached; check the network and try again.",
)
WECHAT_ERROR = ErrorCode(
    "wechat_error",
    502,
    "微信登录失败，请稍后重试。",
    "WeChat login failed; try again later.",
)

# --- Accounts, password login, devices and tokens -------------------------------------------------
LOGIN_FAILED = ErrorCode(
    "login_failed",
    401,
    "用户名或密码错误，或账号已停用。",
    "Wrong username or password, or the account is disabled.",
)
USERNAME_TAKEN = ErrorCode(
    "username_taken", 409, "用户名 {username} 已被使用。", "The username {username} is taken."
)
PERSON_HAS_ACCOUNT = ErrorCode(
    "person_has_account",
    409,
    "该人员已分配账号（{username}），账号分配不能重复；如需更换，请先停用原账号。",
    "This person already has an account ({username}); close it before assigning another.",
)
WEAK_PASSWORD = ErrorCode("weak_password", 400, "密码不符合要求。", "The password is not acceptable.")
ROLE_NOT_ALLOWED = ErrorCode(
    "role_not_allowed",
    400,
    "不能创建此角色的账号：{role}。",
    "Accounts of this role cannot be created here: {role}.",
)
STAFF_ACCOUNT_NEEDS_PERSON = ErrorCode(
    "staff_account_needs_person",
    400,
    "现场人员和审核人员的账号须关联本机构的在职技术人员。",
    "Field and reviewer accounts must belong to active staff of the agency.",
)
MAIN_ACCOUNT_CANNOT_BE_CLOSED = ErrorCode(
    "main_account_cannot_be_closed", 409, "主账号不能注销。", "The main account cannot be closed."
)
DEVICE_OF_ANOTHER_USER = ErrorCode(
    "device_of_another_user",
    409,
    "此设备标识不能用于该账号，请在应用中重新生成设备标识后再登录。",
    "This device id cannot be used for this account; generate a new device id in the app and sign in again.",
)
WECHAT_NOT_BOUND = ErrorCode(
    "wechat_not_bound",
    403,
    "该微信尚未绑定账号，请输入用户名和密码完成一次绑定。",
    "This WeChat user is not bound to an account yet; sign in once with username and password to bind it.",
)
WECHAT_BIND_TICKET_INVALID = ErrorCode(
    "wechat_bind_ticket_invalid",
    400,
    "绑定凭证无效或已过期，请重新进入小程序。",
    "The binding ticket is invalid or has expired; reopen the mini-program.",
)
WECHAT_ALREADY_BOUND = ErrorCode(
    "wechat_already_bound",
    409,
    "该微信或该账号已绑定，请先解除原绑定。",
    "This WeChat user or this account is already bound; unbind it first.",
)

# --- The account's own settings (seed 001 §3.7.1 主账号管理: password and the bound phone) -------------
WRONG_PASSWORD = ErrorCode(
    "wrong_password",
    400,
    "当前密码不正确。",
    "The current password is not correct.",
)
PHONE_INVALID = ErrorCode(
    "phone_invalid",
    400,
    "手机号格式不正确：请填写 11 位中国大陆手机号，如 13912345678。",
    "The phone number is not valid: give an 11-digit mainland China mobile number, e.g. 13912345678.",
)
PHONE_TAKEN = ErrorCode(
    "phone_taken",
    409,
    "该手机号已绑定其他账号，请换一个手机号，或先在原账号中更换。",
    "This phone number is bound to another account; use another number or change it there first.",
)
PHONE_UNCHANGED = ErrorCode(
    "phone_unchanged",
    400,
    "新手机号与当前绑定的手机号相同。",
    "The new phone number is the one already bound.",
)
PASSWORD_UNCHANGED = ErrorCode(
    "password_unchanged",
    400,
    "新密码不能与当前密码相同。",
    "The new password must differ from the current one.",
)
