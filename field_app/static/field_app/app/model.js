// What the screens show, computed from what the phone holds: the pulled store, the sync client's
// queue and state, the cached projects and photo types. Pure: no DOM, tested with node --test.

export const STATUS_LABELS = {
  created: "已创建",
  running: "进行中",
  paused: "已暂停",
  saved: "已暂存",
  ended: "已结束",
};

// server/fieldwork/services.py TASK_TRANSITIONS: any of the task's field staff starts, pauses,
// continues and saves it; only a lab analyst ends it (and only once every required photo is in).
const FIELD_POSTS = ["sampler", "courier", "lab_analyst"];
export const TRANSITIONS = [
  { from: "created", to: "running", label: "开始", posts: FIELD_POSTS },
  { from: "running", to: "paused", label: "暂停", posts: FIELD_POSTS },
  { from: "paused", to: "running", label: "继续", posts: FIELD_POSTS },
  { from: "saved", to: "running", label: "继续", posts: FIELD_POSTS },
  { from: "running", to: "saved", label: "暂存", posts: FIELD_POSTS },
  { from: "paused", to: "saved", label: "暂存", posts: FIELD_POSTS },
  { from: "running", to: "ended", label: "结束", posts: ["lab_analyst"] },
  { from: "paused", to: "ended", label: "结束", posts: ["lab_analyst"] },
  { from: "saved", to: "ended", label: "结束", posts: ["lab_analyst"] },
];

export const POST_LABELS = { sampler: "采样人员", courier: "送样人员", lab_analyst: "实验室分析人员" };

/** The moves from `status`, each allowed for these posts or not, with the rule said in words. */
export function transitionsFor(status, posts) {
  const mine = new Set(posts ?? []);
  return TRANSITIONS.filter((t) => t.from === status).map((t) => {
    const allowed = t.posts.some((p) => mine.has(p));
    let rule = "";
    if (!allowed) {
      rule =
        t.to === "ended"
          ? "结束任务须由实验室分析人员操作，且须各环节必传照片齐全。"
          : "只有该项目的采样、送样或实验室分析人员可以操作。";
    } else if (t.to === "ended") {
      rule = "各环节必传照片齐全后才能结束；照片未同步完时，结束会等待照片到达服务器。";
    }
    return { to: t.to, label: t.label, allowed, rule };
  });
}

/** The user's posts on a project: their assignments (by name, as the project lists its staff),
 * else the posts of their account. */
export function postsOn(project, user) {
  const name = user?.person?.name;
  const assigned = (project?.assignments ?? []).filter((a) => name && a.name === name).map((a) => a.post);
  return assigned.length ? [...new Set(assigned)] : [...(user?.posts ?? [])];
}

/**
 * The tasks as the phone sees them: the pulled ones, with the phone's own operations the server
 * has not answered yet laid over them in seq order (a task created offline, its moves), and a
 * created task the pull has not brought back yet. `pulled`: records {id, data, deleted};
 * `ops`: the queue's records {op, state}.
 */
export function localTasks(pulled, ops) {
  const tasks = new Map();
  // Deleted: pulled as a tombstone, or deleted on this phone (answered or not). Never shown again,
  // whatever the phone still remembers of creating it.
  const gone = new Set(pulled.filter((r) => r.deleted).map((r) => String(r.id)));
  for (const { op, state } of ops) {
    if (op.type === "task.delete" && ["pending", "held", "applied"].includes(state)) gone.add(String(op.entity_id));
  }
  for (const record of pulled) {
    if (record.deleted || !record.data) continue;
    tasks.set(String(record.id), { ...record.data, id: String(record.id), local: false, pending: 0 });
  }
  const ordered = [...ops].sort((a, b) => a.op.seq - b.op.seq);
  for (const record of ordered) {
    const { op, state } = record;
    if (!op.type.startsWith("task.")) continue;
    const unanswered = state === "pending" || state === "held";
    const id = String(op.entity_id);
    const known = tasks.get(id);
    if (gone.has(id)) continue;
    if (op.type === "task.create") {
      if (!known && ["pending", "held", "applied", "conflict"].includes(state)) {
        tasks.set(id, {
          id,
          project: op.payload.project,
          name: op.payload.name,
          sample_codes: op.payload.sample_codes ?? [],
          note: op.payload.note ?? "",
          status: "created",
          // The version the server gives it (1), or gave it: an edit made on top of it says so.
          version: state === "applied" || state === "conflict" ? (record.answer?.version ?? 1) : 1,
          local: true,
          pending: 0,
        });
      }
    } else if (known && unanswered) {
      // Each of the phone's own moves and edits makes a version on the server: the next edit's base
      // counts them, so that it is not taken for a change made without seeing them.
      if (op.type === "task.transition") Object.assign(known, { status: op.payload.to, version: known.version + 1 });
      else if (op.type === "task.update") Object.assign(known, op.payload, { version: known.version + 1 });
    }
    const task = tasks.get(id);
    if (task && unanswered) task.pending += 1;
  }
  return [...tasks.values()];
}

/** What the user may do to the task's own fields (server/fieldwork/services.py task_update and
 * task_delete): edit its name, sample codes and note until it ends; delete it while it is only
 * created, if they created it (a task made on this phone and not yet answered is theirs). */
export function taskEdits(task, user) {
  const open = task.status !== "ended";
  const mine = task.local || (user?.id != null && task.created_by === user.id);
  return {
    edit: open,
    remove: task.status === "created" && Boolean(mine),
    why: task.status !== "created" ? "任务开始后不能删除。" : mine ? "" : "只有创建该任务的人可以删除。",
  };
}

/** The fields an edit changed, for task.update (nothing when nothing changed). */
export function taskChanges(task, form) {
  const changes = {};
  const name = String(form.name ?? "").trim();
  if (name && name !== task.name) changes.name = name;
  const codes = parseCodes(form.sample_codes);
  if (codes.join("\u0000") !== (task.sample_codes ?? []).join("\u0000")) changes.sample_codes = codes;
  const note = String(form.note ?? "");
  if (note !== (task.note ?? "")) changes.note = note;
  return changes;
}

export function isFinished(task) {
  return task.status === "ended";
}

export function taskCounts(tasks) {
  const finished = tasks.filter(isFinished).length;
  return { running: tasks.length - finished, finished };
}

/** Running or finished tasks whose name, sample codes or project name hold every word searched. */
export function filterTasks(tasks, { finished = false, query = "", projects = {} } = {}) {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return tasks
    .filter((t) => isFinished(t) === finished)
    .filter((t) => {
      const text = [t.name, ...(t.sample_codes ?? []), projects[t.project]?.name ?? "", projects[t.project]?.number ?? ""]
        .join(" ")
        .toLowerCase();
      return words.every((w) => text.includes(w));
    })
    .sort((a, b) => (a.name || "").localeCompare(b.name || "", "zh-CN") || a.id.localeCompare(b.id));
}

export const STAGES = [
  { stage: "sampling", label: "采样" },
  { stage: "delivery", label: "送样" },
  { stage: "lab", label: "实验室分析" },
];

/** Photo types (GET /photo-types) grouped by stage: sampling, delivery, lab, then any other. */
export function photoStages(photoTypes) {
  const groups = new Map(STAGES.map((s) => [s.stage, { ...s, types: [] }]));
  for (const type of photoTypes ?? []) {
    if (!groups.has(type.stage)) groups.set(type.stage, { stage: type.stage, label: type.stage_label || "其他", types: [] });
    groups.get(type.stage).types.push(type);
  }
  return [...groups.values()].filter((g) => g.types.length);
}

/** A photo's state in words: its record's answer, then its file's upload. */
export function photoState(opState, uploadState) {
  if (opState === "rejected" || opState === "expired" || opState === "too_large") return { key: "rejected", label: "被拒绝" };
  if (uploadState === "failed") return { key: "failed", label: "上传失败" };
  if (uploadState === "done") return { key: "done", label: "已上传" };
  if (opState === "held") return { key: "held", label: "等待中" };
  if (uploadState === "ready") return { key: "sending", label: "待上传照片" };
  return { key: "queued", label: "待同步" };
}

export const PHASE_LABELS = {
  idle: "空闲",
  measuring: "校对时间",
  reconciling: "核对记录",
  pushing: "正在发送",
  uploading: "正在上传照片",
  pulling: "正在接收",
  waiting: "稍后重试",
  offline: "无网络",
  signed_out: "需要重新登录",
};

/** The sync panel's lines, from the client's state (client.state()) and describeWait. */
export function syncSummary(state, describeWait, now = Date.now()) {
  return {
    phase: PHASE_LABELS[state.phase] ?? state.phase,
    queued: state.queued,
    uploadsWaiting: (state.uploads?.waiting ?? 0) + (state.uploads?.ready ?? 0),
    held: (state.held ?? []).map((h) => ({ opId: h.op_id, type: opLabel(h.type), why: describeWait(h.waits_for) })),
    conflicts: (state.conflicts ?? []).map((c) => ({
      opId: c.op_id,
      type: opLabel(c.type),
      why: conflictLabel(c.conflict?.reason),
    })),
    rejected: (state.rejected ?? []).map((r) => ({ opId: r.op_id, type: opLabel(r.type), why: r.message || r.code })),
    failedUploads: (state.uploads?.failed ?? []).map((f) => f.message || f.code),
    lastSyncAt: state.lastSyncAt ? formatTime(state.lastSyncAt) : "从未同步",
    lastError: state.lastError?.message ?? "",
    retry: retryText(state.nextRetryAt, now),
    clock: clockWarning(state.clockOffsetMs),
  };
}

/** "约 40 秒后重试" while the client waits before a retry. */
export function retryText(nextRetryAt, now = Date.now()) {
  if (!nextRetryAt) return "";
  const seconds = Math.max(0, Math.round((nextRetryAt - now) / 1000));
  return seconds < 60 ? `约 ${seconds} 秒后重试` : `约 ${Math.round(seconds / 60)} 分钟后重试`;
}

// Operations carry the phone's clock and the server corrects it (sync client README, "Clock"):
// nothing is misdated, but the user should know the phone's time is off.
const CLOCK_TOLERANCE_MS = 5 * 60 * 1000;

export function clockWarning(offsetMs) {
  if (offsetMs == null || Math.abs(offsetMs) < CLOCK_TOLERANCE_MS) return "";
  const minutes = Math.round(Math.abs(offsetMs) / 60000);
  const span = minutes >= 120 ? `${Math.round(minutes / 60)} 小时` : `${minutes} 分钟`;
  return `手机时间比服务器${offsetMs > 0 ? "慢" : "快"}约 ${span}，请校准手机时间（记录的时间已按服务器校正）。`;
}

const OP_LABELS = {
  "task.create": "新建任务",
  "task.update": "修改任务",
  "task.delete": "删除任务",
  "task.transition": "任务状态变更",
  "photo.record": "照片",
};

export function opLabel(type) {
  return OP_LABELS[type] ?? type;
}

function conflictLabel(reason) {
  return (
    {
      same_field: "与他人同时修改了同一项，双方的值都已保存在服务器，待核对",
      transition_superseded: "状态变更与他人的操作先后冲突，已记录待核对",
      photo_file_differs: "同一照片的文件不同，待核对",
    }[reason] ?? "与服务器上的数据冲突，待核对"
  );
}

/** "2026-12-07T10:03:00Z" or ms -> "12-07 18:03" in the phone's time zone. */
export function formatTime(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A capture fix in words: "121.43720, 31.19450（±12 米）". */
export function formatFix(fix) {
  if (!fix || fix.longitude == null) return "未定位";
  const accuracy = fix.accuracy_m != null ? `（±${Math.round(fix.accuracy_m)} 米）` : "";
  return `${Number(fix.longitude).toFixed(5)}, ${Number(fix.latitude).toFixed(5)}${accuracy}`;
}

/** Text for HTML. */
export function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** "A-1, A-2，A-3" -> ["A-1", "A-2", "A-3"]. */
export function parseCodes(text) {
  return String(text ?? "")
    .split(/[,，、\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

const VERDICTS = {
  pending: { key: "pending", label: "待判定" },
  pass: { key: "pass", label: "合规" },
  warn: { key: "warn", label: "存疑" },
  fail: { key: "fail", label: "不合规" },
};

/** The server's judgement of a pulled photo (media_rules photo_data): its verdict and the
 * findings' messages in Chinese; null before the photo is pulled back. */
export function photoVerdict(pulled) {
  if (!pulled?.data) return null;
  const verdict = VERDICTS[pulled.data.verdict] ?? VERDICTS.pending;
  const findings = (pulled.data.findings ?? [])
    .filter((f) => f.severity !== "pass")
    .map((f) => f.message?.["zh-hans"] ?? f.message?.en ?? f.code);
  return { ...verdict, findings };
}

/**
 * The task's photo stages: from the task's own catalogue when the phone has it (GET /tasks/{id}
 * stages, kept per monitoring type: which types, which required), else every photo type by stage.
 * Without it, the types of the monitoring stages (采样, 送样, 实验室分析), none marked required.
 * `counts`: photos of each type on the task (the phone's and the pulled ones). A stage is open
 * when every required type of the stages before it has a photo (server/fieldwork/stages.py).
 */
export function taskStages(catalogue, photoTypes, counts = {}) {
  const groups = catalogue?.length
    ? catalogue.map((s) => ({ stage: s.stage, label: s.label, types: s.types.map((t) => ({ ...t })) }))
    : photoStages(photoTypes)
        // Without the task's catalogue: the monitoring stages' types only (not 工作照, 运维现场照片).
        .filter((g) => STAGES.some((s) => s.stage === g.stage))
        .map((g) => ({ ...g, types: g.types.map((t) => ({ ...t, required: false })) }));
  const ordered = STAGES.map((s) => s.stage);
  let earlierComplete = true;
  let missingBefore = [];
  return groups.map((group) => {
    const inOrder = ordered.includes(group.stage);
    const types = group.types.map((t) => ({ ...t, photos: counts[t.code] ?? 0 }));
    const missing = types.filter((t) => t.required && !t.photos).map((t) => t.name);
    const out = {
      ...group,
      types,
      open: earlierComplete || !inOrder,
      complete: missing.length === 0,
      waitsFor: earlierComplete || !inOrder ? [] : [...missingBefore],
    };
    if (inOrder) {
      earlierComplete = earlierComplete && missing.length === 0;
      missingBefore = [...missingBefore, ...missing];
    }
    return out;
  });
}
