// The field app's logic that is not DOM: routes, the tasks the phone shows, the role rules, the
// sync panel's words (field_app/static/field_app/app/router.js, model.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { guard, parseRoute, routePath } from "../../../field_app/static/field_app/app/router.js";
import {
  escapeHtml,
  filterTasks,
  formatFix,
  localTasks,
  parseCodes,
  photoStages,
  photoState,
  postsOn,
  syncSummary,
  taskChanges,
  taskEdits,
  taskCounts,
  transitionsFor,
} from "../../../field_app/static/field_app/app/model.js";
import { describeWait } from "../../../field_app/static/field_app/sync/index.js";

test("routes are read from the address and written back", () => {
  const cases = [
    ["/app/", { name: "home" }],
    ["/app/sign-in", { name: "sign_in" }],
    ["/app/tasks", { name: "tasks" }],
    ["/app/tasks/", { name: "tasks" }],
    ["/app/tasks/new", { name: "task_new" }],
    ["/app/tasks/3f2a", { name: "task", id: "3f2a" }],
    ["/app/om", { name: "om_tasks" }],
    ["/app/om/12", { name: "om_task", id: "12" }],
    ["/app/om/records/9c1e", { name: "om_record", id: "9c1e" }],
    ["/app/confirm", { name: "confirm_days" }],
    ["/app/confirm/2026-12-07", { name: "confirm_day", id: "2026-12-07" }],
    ["/app/om/records", { name: "om_task", id: "records" }],
    ["/app/nowhere", { name: "not_found" }],
    ["/elsewhere", { name: "not_found" }],
  ];
  for (const [path, route] of cases) assert.deepEqual(parseRoute(path, "/app/"), route, path);
  const back = [{ name: "home" }, { name: "tasks" }, { name: "task_new" }, { name: "task", id: "a b" }, { name: "om_tasks" }];
  back.push({ name: "om_task", id: "7" }, { name: "om_record", id: "r 1" }, { name: "confirm_days" }, { name: "confirm_day", id: "2026-12-07" });
  for (const route of back) {
    assert.deepEqual(parseRoute(routePath(route, "/app/"), "/app/"), route);
  }
});

test("signed out, every screen is the sign-in; signed in, the sign-in is home", () => {
  assert.deepEqual(guard({ name: "tasks" }, false), { name: "sign_in" });
  assert.deepEqual(guard({ name: "sign_in" }, true), { name: "home" });
  const task = { name: "task", id: "x" };
  assert.equal(guard(task, true), task);
});

const op = (seq, type, entity_id, payload, state = "pending") => ({ op: { seq, type, entity_id, payload }, state });

test("a task created offline and its moves are shown before the server has them", () => {
  const ops = [
    op(2, "task.transition", "t1", { to: "running" }),
    op(1, "task.create", "t1", { project: 7, name: "1 号排口采样" }),
  ];
  const [task] = localTasks([], ops);
  assert.equal(task.status, "running");
  assert.equal(task.local, true);
  assert.equal(task.pending, 2);
  assert.equal(task.project, 7);
});

test("pulled tasks win over answered operations; pending ones lie over them; tombstones go", () => {
  const pulled = [
    { id: "t1", deleted: false, data: { id: "t1", project: 1, name: "A", status: "paused" } },
    { id: "t2", deleted: true, data: null },
  ];
  const ops = [
    op(1, "task.create", "t1", { project: 1, name: "A" }, "applied"),
    op(2, "task.transition", "t1", { to: "running" }, "applied"),
    op(3, "task.create", "t9", { project: 1, name: "rejected" }, "rejected"),
  ];
  assert.deepEqual(
    localTasks(pulled, ops).map((t) => [t.id, t.status, t.pending]),
    [["t1", "paused", 0]],
  );
  const later = localTasks(pulled, [...ops, op(4, "task.transition", "t1", { to: "running" }, "held")]);
  assert.deepEqual([later[0].status, later[0].pending], ["running", 1]);
});

test("counts, tabs and search", () => {
  const tasks = [
    { id: "1", name: "排口采样", status: "running", project: 1, sample_codes: ["W-01"] },
    { id: "2", name: "厂界噪声", status: "ended", project: 1 },
    { id: "3", name: "锅炉废气", status: "created", project: 2 },
  ];
  const projects = { 1: { name: "华东化工季度监测", number: "P-1" }, 2: { name: "热电厂", number: "P-2" } };
  assert.deepEqual(taskCounts(tasks), { running: 2, finished: 1 });
  assert.deepEqual(filterTasks(tasks, { projects }).map((t) => t.id).sort(), ["1", "3"]);
  assert.deepEqual(filterTasks(tasks, { finished: true, projects }).map((t) => t.id), ["2"]);
  assert.deepEqual(filterTasks(tasks, { query: "w-01", projects }).map((t) => t.id), ["1"]);
  assert.deepEqual(filterTasks(tasks, { query: "热电", projects }).map((t) => t.id), ["3"]);
});

test("the role rules are shown: a sampler cannot end a task, a lab analyst can", () => {
  const sampler = transitionsFor("running", ["sampler"]);
  assert.deepEqual(
    sampler.map((m) => [m.to, m.label, m.allowed]),
    [
      ["paused", "暂停", true],
      ["saved", "暂存", true],
      ["ended", "结束", false],
    ],
  );
  assert.match(sampler.find((m) => m.to === "ended").rule, /实验室分析人员/);
  assert.equal(transitionsFor("running", ["lab_analyst"]).find((m) => m.to === "ended").allowed, true);
  assert.deepEqual(transitionsFor("created", []).map((m) => [m.label, m.allowed]), [["开始", false]]);
  assert.deepEqual(transitionsFor("ended", ["lab_analyst"]), []);
});

test("the user's posts on a project come from its assignments, else from the account", () => {
  const user = { person: { name: "张三" }, posts: ["sampler", "courier"] };
  const project = { assignments: [{ name: "张三", post: "courier" }, { name: "李四", post: "lab_analyst" }] };
  assert.deepEqual(postsOn(project, user), ["courier"]);
  assert.deepEqual(postsOn(undefined, user), ["sampler", "courier"]);
});

test("photo types by stage, in the stages' order", () => {
  const stages = photoStages([
    { code: "lab", name: "分析", stage: "lab" },
    { code: "site", name: "现场", stage: "sampling", hint: "拍排口全景" },
    { code: "work", name: "工作照", stage: "work", stage_label: "工作" },
  ]);
  assert.deepEqual(stages.map((s) => s.stage), ["sampling", "lab", "work"]);
  assert.equal(stages[0].types[0].hint, "拍排口全景");
});

test("a photo's state in words", () => {
  assert.equal(photoState("pending", "waiting").label, "待同步");
  assert.equal(photoState("applied", "ready").label, "待上传照片");
  assert.equal(photoState("applied", "done").label, "已上传");
  assert.equal(photoState("held", "ready").label, "等待中");
  assert.equal(photoState("rejected", "waiting").label, "被拒绝");
  assert.equal(photoState("applied", "failed").label, "上传失败");
});

test("the sync panel says what is queued, waiting for what, in conflict and refused", () => {
  const summary = syncSummary(
    {
      phase: "offline",
      queued: 3,
      held: [{ op_id: "h", type: "photo.record", waits_for: { kind: "stages", missing: ["采样点现场照片"] } }],
      conflicts: [{ op_id: "c", type: "task.update", conflict: { reason: "same_field" } }],
      rejected: [{ op_id: "r", type: "task.transition", code: "task_actor_not_allowed", message: "结束任务须由实验室分析人员操作。" }],
      uploads: { waiting: 1, ready: 1, done: 0, failed: [] },
      lastSyncAt: null,
      lastError: { code: "network", message: "无网络" },
    },
    describeWait,
  );
  assert.equal(summary.phase, "无网络");
  assert.equal(summary.queued, 3);
  assert.equal(summary.uploadsWaiting, 2);
  assert.match(summary.held[0].why, /采样点现场照片/);
  assert.match(summary.conflicts[0].why, /双方的值/);
  assert.equal(summary.rejected[0].why, "结束任务须由实验室分析人员操作。");
  assert.equal(summary.lastSyncAt, "从未同步");
});

test("formatting", () => {
  assert.equal(formatFix({ longitude: 121.4372, latitude: 31.1945, accuracy_m: 12.4 }), "121.43720, 31.19450（±12 米）");
  assert.equal(formatFix(null), "未定位");
  assert.equal(escapeHtml(`<a href="x">'&`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;");
  assert.deepEqual(parseCodes("A-1, A-2，A-3、A-4  "), ["A-1", "A-2", "A-3", "A-4"]);
});

test("a pulled photo's verdict and its findings in Chinese", async () => {
  const { photoVerdict } = await import("../../../field_app/static/field_app/app/model.js");
  assert.equal(photoVerdict(undefined), null);
  const judged = photoVerdict({
    data: {
      verdict: "warn",
      findings: [
        { code: "ok", severity: "pass", message: { "zh-hans": "时间一致" } },
        { code: "far", severity: "warn", message: { "zh-hans": "拍摄位置距点位 820 米", en: "820 m away" } },
      ],
    },
  });
  assert.deepEqual(judged, { key: "warn", label: "存疑", findings: ["拍摄位置距点位 820 米"] });
});

test("a stage opens when the required photos before it are in, as the server rules", async () => {
  const { taskStages } = await import("../../../field_app/static/field_app/app/model.js");
  const catalogue = [
    {
      stage: "sampling",
      label: "采样",
      types: [
        { code: "op", name: "采样作业照片", required: true },
        { code: "site", name: "采样点现场照片", required: true },
      ],
    },
    { stage: "delivery", label: "送样", types: [{ code: "handover", name: "送样照片", required: true }] },
    { stage: "lab", label: "实验室分析", types: [{ code: "lab", name: "分析照片", required: false }] },
  ];
  const before = taskStages(catalogue, [], { site: 1 });
  assert.deepEqual(before.map((s) => [s.stage, s.open, s.complete]), [
    ["sampling", true, false],
    ["delivery", false, false],
    ["lab", false, true],
  ]);
  assert.deepEqual(before[1].waitsFor, ["采样作业照片"]);
  assert.deepEqual(before[2].waitsFor, ["采样作业照片", "送样照片"]);
  const after = taskStages(catalogue, [], { site: 1, op: 2, handover: 1 });
  assert.deepEqual(after.map((s) => s.open), [true, true, true]);
  // Without the task's catalogue: the monitoring stages' types, none said required; not O&M's.
  const types = [
    { code: "x", name: "X", stage: "lab" },
    { code: "work_photo", name: "工作照", stage: "other" },
  ];
  const fallback = taskStages(null, types);
  assert.deepEqual(fallback.map((s) => [s.stage, s.open, s.types.map((t) => [t.code, t.required])]), [["lab", true, [["x", false]]]]);
});

test("the phone's clock off by more than five minutes is said; a retry says when", async () => {
  const { clockWarning, retryText } = await import("../../../field_app/static/field_app/app/model.js");
  assert.equal(clockWarning(null), "");
  assert.equal(clockWarning(60_000), "");
  // offset = server − phone: positive, the phone is behind.
  assert.match(clockWarning(3 * 3600_000), /慢约 3 小时/);
  assert.match(clockWarning(-10 * 60_000), /快约 10 分钟/);
  assert.equal(retryText(null), "");
  assert.equal(retryText(41_000, 1_000), "约 40 秒后重试");
  assert.equal(retryText(301_000, 1_000), "约 5 分钟后重试");
});

test("a task is edited until it ends and deleted only while created, by whoever created it", () => {
  const me = { id: 7 };
  assert.deepEqual(taskEdits({ status: "created", created_by: 7 }, me), { edit: true, remove: true, why: "" });
  assert.deepEqual(taskEdits({ status: "created", local: true }, me), { edit: true, remove: true, why: "" });
  assert.equal(taskEdits({ status: "created", created_by: 8 }, me).why, "只有创建该任务的人可以删除。");
  assert.deepEqual(taskEdits({ status: "running", created_by: 7 }, me), { edit: true, remove: false, why: "任务开始后不能删除。" });
  assert.equal(taskEdits({ status: "ended", created_by: 7 }, me).edit, false);
});

test("an edit sends only the fields it changed", () => {
  const task = { name: "采样", sample_codes: ["A-1"], note: "" };
  assert.deepEqual(taskChanges(task, { name: " 采样 ", sample_codes: "A-1", note: "" }), {});
  assert.deepEqual(taskChanges(task, { name: "复采", sample_codes: "A-1，A-2", note: "雨天" }), {
    name: "复采",
    sample_codes: ["A-1", "A-2"],
    note: "雨天",
  });
  assert.deepEqual(taskChanges(task, { name: "", sample_codes: "", note: "" }), { sample_codes: [] });
});

test("an edit's base counts the phone's own moves and edits not yet pulled back", () => {
  const op = (seq, type, payload, state = "pending", answer = undefined) => ({
    op: { seq, type, entity_id: "t1", payload },
    state,
    answer,
  });
  const created = localTasks([], [op(1, "task.create", { project: 1, name: "a" })]);
  assert.equal(created[0].version, 1); // what the server will give it
  const moved = localTasks([], [op(1, "task.create", { project: 1, name: "a" }, "applied", { version: 1 }), op(2, "task.transition", { to: "running" }), op(3, "task.update", { note: "x" })]);
  assert.deepEqual([moved[0].status, moved[0].note, moved[0].version], ["running", "x", 3]);
  const pulled = [{ id: "t1", data: { id: "t1", name: "a", status: "running", version: 4 } }];
  assert.equal(localTasks(pulled, [op(9, "task.update", { name: "b" }, "held")])[0].version, 5);
  assert.equal(localTasks(pulled, [op(9, "task.update", { name: "b" }, "applied", { version: 5 })])[0].version, 4); // pulled back next
});

test("a deleted task stays gone, whatever the phone remembers of creating it", () => {
  const op = (seq, type, state) => ({ op: { seq, type, entity_id: "t1", payload: { project: 1, name: "a" } }, state });
  const ops = [op(1, "task.create", "applied"), op(2, "task.delete", "applied")];
  assert.deepEqual(localTasks([], ops), []);
  assert.deepEqual(localTasks([{ id: "t1", deleted: true, data: null }], [op(1, "task.create", "applied")]), []);
  assert.deepEqual(localTasks([], [op(1, "task.create", "pending"), op(2, "task.delete", "pending")]), []);
  // A refused delete leaves the task.
  assert.equal(localTasks([], [op(1, "task.create", "applied"), op(2, "task.delete", "rejected")]).length, 1);
});
