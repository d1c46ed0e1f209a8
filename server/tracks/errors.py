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
