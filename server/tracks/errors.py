from server.errors import ErrorCode

TRACK_POINT_INVALID = ErrorCode(
    "track_point_invalid",
    400,
    "第 {index} 个航迹点无效（{field}：{reason}），整批未保存。",
    "Track point {index} is invalid ({field}: {reason}); nothing in the batch was stored.",
)
TRACK_BATCH_TOO_LARGE = ErrorCode(
    "track_batch_too_large",
    400,
    "一批最多 {limit} 个航迹点。",
    "A batch holds at most {limit} track points.",
)
TRACK_DEVICE_UNKNOWN = ErrorCode(
    "track_device_unknown",
    400,
    "该设备不是您登录过的设备。",
    "This device is not one you signed in on.",
)
TRACK_BBOX_INVALID = ErrorCode(
    "track_bbox_invalid",
    400,
    "bbox 须为 minlon,minlat,maxlon,maxlat 四个数。",
    "bbox must be four numbers: minlon,minlat,maxlon,maxlat.",
)
CHECKIN_SUBJECT_REQUIRED = ErrorCode(
    "checkin_subject_required",
    400,
    "签到须属于一个监测任务，或一个运维任务及其点位（排口）。",
    "A check-in belongs to a monitoring task, or to an O&M task and one of its points (outlets).",
)
CHECKIN_OUTLET_NOT_OF_TASK = ErrorCode(
    "checkin_outlet_not_of_task",
    400,
    "该点位不属于此运维任务的委托企业。",
    "This outlet does not belong to the O&M task's enterprise.",
)
CHECKIN_NOT_ON_TASK = ErrorCode(
    "checkin_not_on_task",
    403,
    "您不是该运维任务的人员，不能签到。",
    "You are not on this O&M task's staff, so you cannot check in for it.",
)
CHECKIN_CONFLICT = ErrorCode(
    "checkin_conflict",
    409,
    "该签到编号已用于另一次签到，已保存的签到不变。",
    "This check-in id is already used by another check-in; the stored one is kept.",
)
