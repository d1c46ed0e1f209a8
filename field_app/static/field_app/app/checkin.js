// 打卡签到: a check-in at a task (and at one of its enterprise's outlets, whose geofence the server
// judges it by), with the fix taken at that moment, sent as the `checkin.record` operation
// (server/tracks/operations.py; the same as POST /api/v1/checkins) so that it works offline. The
// check-in's id is its entity id: the server records it once. Check-ins are not pulled, so the
// verdict is read back with GET /api/v1/checkins/{id} once the operation is applied. No DOM here.

export const KEY = "app:checkin:"; // + check-in id: {id, task, outlet, at, fix, result}

export const VERDICTS = {
  inside: "在电子围栏内",
  outside: "超出电子围栏",
  coordinate_mixup: "坐标系错误",
  no_site: "无点位可比",
};

/** The `checkin.record` payload (CheckInPayload): the capture fix as captureFix gives it, without a
 * fix time (a check-in is timed by the phone's clock, device_time), and what it is for. */
export function checkinPayload({ task, outlet = null, fix }) {
  const payload = {
    task: String(task),
    longitude: fix.longitude,
    latitude: fix.latitude,
    coordinate_system: fix.coordinate_system,
    device_time: fix.device_time,
  };
  if (outlet != null && outlet !== "") payload.outlet = Number(outlet);
  if (fix.accuracy_m != null) payload.accuracy_m = fix.accuracy_m;
  if (fix.mock_location) payload.mock_location = true;
  return payload;
}

/** The server's verdict in words (CheckInOut): inside or outside the geofence, how far. */
export function verdictText(result) {
  const label = VERDICTS[result.verdict] ?? result.verdict;
  if (result.distance_m == null) return result.verdict === "no_site" ? `${label}（未选排口）` : label;
  const fence = result.geofence_m != null ? `（围栏 ${Math.round(result.geofence_m)} 米）` : "";
  return `${label} · 距排口 ${Math.round(result.distance_m)} 米${fence}`;
}

/** Where a check-in stands: its operation (a queue record, or none once answered and forgotten)
 * and the verdict read back. */
export function checkinState(checkin, record) {
  if (checkin.result) {
    const findings = (checkin.result.findings ?? []).map((f) => f.message?.["zh-hans"] ?? f.code);
    return { key: checkin.result.verdict, label: verdictText(checkin.result), findings };
  }
  const state = record?.state ?? "applied";
  if (state === "pending") return { key: "queued", label: "待同步", findings: [] };
  if (state === "held") return { key: "held", label: "等待中", findings: [] };
  if (state === "applied" || state === "conflict") return { key: "sent", label: "已送达，正在取回结果", findings: [] };
  return { key: "rejected", label: "被拒绝", findings: [record?.answer?.message ?? ""].filter(Boolean) };
}

/** Is the verdict there to be read (the operation applied, the result not kept yet). */
export function needsResult(checkin, record) {
  return !checkin.result && (!record || record.state === "applied" || record.state === "conflict");
}

/** The outlets of the task's project's enterprise, by name. */
export function outletsOf(outlets, project) {
  return (outlets ?? [])
    .filter((o) => project && o.enterprise === project.enterprise)
    .sort((a, b) => String(a.name).localeCompare(String(b.name), "zh"));
}

/** This task's check-ins on the phone, newest first. */
export function checkinsOf(list, taskId) {
  return list.filter((c) => c?.task === String(taskId)).sort((a, b) => String(b.at).localeCompare(String(a.at)));
}
