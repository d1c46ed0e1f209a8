// 运维 on the phone: what the O&M screens show and send, computed from what the phone holds. Pure:
// no DOM, tested with node --test (tests/js/field_app/om_model.test.mjs).
//
// A technician's visit to a point is one record (server/om/records.py): 开始签到 (a check-in of kind
// "start" at the point), the form, 签字, 工作照, 结束签到 ("end"), then 提交. Each step is written to
// the phone first; the record goes as `om_record.save` operations (server/om/operations.py), held on
// the server until the check-ins and the work photo it names have arrived. The enterprise confirms a
// day's submitted records with `om_day.confirm`, at the versions its confirmer saw.

export const RECORD = "app:omrec:"; // + record id: the technician's record as filled on this phone
export const CONFIRM = "app:omconfirm:"; // + date: the enterprise's confirmation as made on this phone

export const RECORD_STATUS = {
  draft: "草稿",
  submitted: "待企业确认",
  confirmed: "企业已确认",
  approved: "审核通过",
  voided: "已作废",
};

/** A new record at a point: its id, its start check-in (already queued) and the date it is for. */
export function newRecord({ id, task, outlet, startCheckin, now = new Date() }) {
  return {
    id,
    task: Number(task),
    outlet: Number(outlet),
    template: "",
    instruments: [],
    groups: [],
    answers: {},
    start_checkin: startCheckin,
    end_checkin: null,
    work_photo: null,
    signature: "",
    submitted: false,
    saves: 0,
    started_at: now.toISOString(),
  };
}

/** The form templates for a point (its kind: wastewater or waste_gas), as the server lists them. */
export function templatesFor(templates, outlet) {
  return (templates ?? []).filter((t) => !outlet || t.outlet_kind === outlet.kind);
}

/** The instruments registered at a point. */
export function instrumentsAt(instruments, outletId) {
  return (instruments ?? []).filter((i) => Number(i.outlet) === Number(outletId));
}

/**
 * Where a record stands, step by step: each {key, label, done, text}. `missing`: the form's required
 * items not answered yet (omform.missingRequired). What 提交 still needs is `blockers`.
 */
export function recordSteps(record, { missing = [] } = {}) {
  const steps = [
    { key: "start", label: "开始签到", done: Boolean(record.start_checkin) },
    { key: "form", label: "填写表单", done: Boolean(record.template) && missing.length === 0 },
    { key: "signature", label: "签字", done: Boolean(record.signature) },
    { key: "work_photo", label: "工作照", done: Boolean(record.work_photo) },
    { key: "end", label: "结束签到", done: Boolean(record.end_checkin) },
  ];
  const blockers = [];
  if (!record.template) blockers.push("选择表单");
  else if (missing.length) blockers.push(`填写必填项（还差 ${missing.length} 项：${missing.slice(0, 3).map((m) => m.label).join("、")}${missing.length > 3 ? "…" : ""}）`);
  if (!record.signature) blockers.push("签字");
  if (!record.work_photo) blockers.push("拍工作照");
  if (!record.end_checkin) blockers.push("结束签到");
  return { steps, blockers, canSubmit: blockers.length === 0 };
}

/** The `om_record.save` payload (RecordSavePayload) of a record as the phone holds it. */
export function recordPayload(record, { submit = false } = {}) {
  const payload = {
    task: Number(record.task),
    outlet: Number(record.outlet),
    template: record.template,
    instruments: record.instruments.map(Number),
    groups: [...record.groups],
    answers: record.answers,
    start_checkin: record.start_checkin,
    submit,
  };
  if (record.template_version) payload.template_version = record.template_version;
  if (record.end_checkin) payload.end_checkin = record.end_checkin;
  if (record.work_photo) payload.work_photo = record.work_photo;
  if (record.signature) payload.signature = record.signature;
  if (record.note) payload.note = record.note;
  return payload;
}

/** The check-in payload of a start or end check-in at an O&M point (CheckInPayload). */
export function omCheckinPayload({ kind, task, outlet, fix }) {
  const payload = {
    kind,
    om_task: Number(task),
    outlet: Number(outlet),
    longitude: fix.longitude,
    latitude: fix.latitude,
    coordinate_system: fix.coordinate_system,
    device_time: fix.device_time,
  };
  if (fix.accuracy_m != null) payload.accuracy_m = fix.accuracy_m;
  if (fix.mock_location) payload.mock_location = true;
  return payload;
}

/**
 * A record's state in words: the phone's own (draft, 待同步, 等待中, 被拒绝 with the server's
 * message) over the pulled one (已提交, 企业已确认…). `ops`: the queue's records for this record.
 */
export function recordState(record, pulled, ops = []) {
  const mine = ops.filter((r) => r.op.type === "om_record.save" && r.op.entity_id === record.id);
  const rejected = mine.find((r) => ["rejected", "expired", "too_large"].includes(r.state));
  if (rejected) return { key: "rejected", label: "被拒绝", why: rejected.answer?.message || rejected.answer?.code || "" };
  const held = mine.find((r) => r.state === "held");
  if (held) return { key: "held", label: record.submitted ? "已提交 · 等待中" : "等待中", why: "" };
  if (mine.some((r) => r.state === "pending")) return { key: "queued", label: record.submitted ? "已提交 · 待同步" : "待同步", why: "" };
  const status = pulled?.data?.status;
  if (status) return { key: status, label: RECORD_STATUS[status] ?? status, why: "" };
  if (record.submitted) return { key: "submitted", label: "已提交", why: "" };
  return { key: "draft", label: record.saves ? "草稿（已暂存）" : "填写中", why: "" };
}

/** The enterprise's days to confirm, from the pulled records: submitted ones, by day. */
export function pendingDays(pulled) {
  const days = new Map();
  for (const r of pulled ?? []) {
    if (r.deleted || r.data?.status !== "submitted") continue;
    const day = r.data.om_date;
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(r.data);
  }
  return [...days.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([date, records]) => ({ date, records }));
}

/** The `om_day.confirm` payload (DayConfirmPayload): the records at the versions the confirmer saw. */
export function confirmPayload({ enterprise, date, records, workPhoto, signature }) {
  return {
    enterprise: Number(enterprise),
    date,
    records: records.map((r) => ({ id: String(r.id), version: Number(r.version) })),
    work_photo: workPhoto,
    signature,
  };
}

/** Which roles the phone serves its user in: field work (监测任务), O&M (运维), or confirming (企业确认). */
export function rolesOf(user, omTasks = []) {
  if (user?.role === "enterprise") return { field: false, om: false, confirm: true };
  const posts = new Set(user?.posts ?? []);
  const field = ["sampler", "courier", "lab_analyst"].some((p) => posts.has(p)) || !posts.size;
  const om = omTasks.length > 0 || posts.has("om_technician") || posts.has("om_reviewer");
  return { field, om, confirm: false };
}
