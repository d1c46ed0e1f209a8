// Pushing: batches within the server's limits, each per-operation answer, retries with backoff.
import assert from "node:assert/strict";
import { test } from "node:test";

import { backoffDelay } from "../../../field_app/static/field_app/sync/backoff.js";
import { describeWait } from "../../../field_app/static/field_app/sync/client.js";
import { FakeClock, FakeServer } from "./fakes.mjs";

async function phoneWith(ops, serverOptions = {}, clientOptions = {}) {
  const clock = new FakeClock();
  const server = new FakeServer({ clock, ...serverOptions });
  const phone = await server.signedInClient(clientOptions);
  for (let n = 1; n <= ops; n++) await phone.enqueue("task.create", `task-${n}`, { project: 1, name: `任务${n}` });
  return { clock, server, phone };
}

test("pushes in batches of at most max_ops, in seq order", async () => {
  const { server, phone } = await phoneWith(7, { limits: { max_ops: 3 } });
  await phone.sync();
  assert.deepEqual(server.pushes.map((ids) => ids.length), [3, 3, 1]);
  const sent = server.pushes.flat();
  assert.deepEqual(sent, phone.queue.all().map((r) => r.op.op_id), "in device order");
  assert.equal(phone.state().queued, 0);
  assert.equal(phone.state().phase, "idle");
});

test("a batch's body stays within max_bytes", async () => {
  const { server, phone } = await phoneWith(0, { limits: { max_bytes: 1200 } });
  for (let n = 1; n <= 6; n++) await phone.enqueue("task.create", `t${n}`, { project: 1, name: "长".repeat(40) });
  await phone.sync();
  assert.ok(server.pushes.length > 1, "split");
  assert.equal(server.pushes.flat().length, 6);
  assert.equal(server.applied.length, 6);
});

test("an operation larger than a whole push is set aside, said so, and does not stop the others", async () => {
  const { server, phone } = await phoneWith(0, { limits: { max_bytes: 600 } });
  await phone.enqueue("task.create", "big", { project: 1, name: "x".repeat(800) });
  await phone.enqueue("task.create", "small", { project: 1, name: "小" });
  await phone.sync();
  const state = phone.state();
  assert.equal(state.rejected.length, 1);
  assert.equal(state.rejected[0].code, "batch_too_large");
  assert.equal(server.applied.length, 1);
});

test("the server shrinking its limits (413 batch_too_large) splits the batch again", async () => {
  const { server, phone } = await phoneWith(4);
  server.limits.max_ops = 500;
  const push = server.push.bind(server);
  let first = true;
  server.push = (data, raw) => {
    if (first && data.ops.length > 2) {
      first = false;
      return { status: 413, headers: {}, body: { code: "batch_too_large", message: "请分批推送。", details: null } };
    }
    return push(data, raw);
  };
  await phone.sync();
  assert.equal(server.applied.length, 4);
  assert.ok(server.pushes.every((ids) => ids.length <= 2));
});

test("each answer kind is kept and shown: applied, held with what for, conflict, rejected with its message", async () => {
  const { server, phone } = await phoneWith(4);
  const answers = [];
  phone.on("answer", (a) => answers.push(a.status));
  const [, held, conflict, rejected] = phone.queue.all().map((r) => r.op.op_id);
  server.decide = (op) => {
    if (op.op_id === held) return { status: "held", waits_for: { kind: "entity", entity: "task", id: "other" } };
    if (op.op_id === conflict) return { status: "conflict", entity_id: op.entity_id, version: 3, seq: 9, conflict: { reason: "same_field", fields: [{ field: "note" }] } };
    if (op.op_id === rejected) return { status: "rejected", code: "project_not_found", message: "项目不存在。", details: null };
    return null;
  };
  await phone.sync();
  const state = phone.state();
  assert.deepEqual(answers, ["applied", "held", "conflict", "rejected"]);
  assert.deepEqual(state.held.map((h) => [h.op_id, h.waits_for.kind]), [[held, "entity"]]);
  assert.equal(describeWait(state.held[0].waits_for), "等待其他手机上传所需的任务（other）");
  assert.deepEqual(state.conflicts[0].conflict.reason, "same_field");
  assert.deepEqual([state.rejected[0].code, state.rejected[0].message], ["project_not_found", "项目不存在。"]);

  // The held one is released on the server; the next sync replays it and learns so (duplicate).
  server.release(held, { status: "applied", entity_id: "task-2", version: 1, seq: 5 });
  await phone.sync();
  const record = phone.queue.byOpId(held);
  assert.equal(record.state, "applied");
  assert.equal(record.duplicate, true);
  assert.equal(phone.state().held.length, 0);

  await phone.dismiss(rejected);
  assert.equal(phone.state().rejected.length, 0);
});

test("a replay of the same operations is answered duplicate and applies nothing twice", async () => {
  const { server, phone } = await phoneWith(3);
  await phone.sync();
  for (const record of phone.queue.all()) {
    record.state = "pending"; // as if the phone had lost the answers
    await phone.queue.save(record);
  }
  await phone.sync();
  assert.equal(server.applied.length, 3);
  assert.ok(phone.queue.all().every((r) => r.state === "applied" && r.duplicate));
});

test("no signal: retried with backoff and jitter on a fake clock, nothing lost or reordered", async () => {
  const { clock, server, phone } = await phoneWith(3, {}, { backoff: { baseMs: 1000, capMs: 60000, attempts: 6 } });
  server.fail("/sync/push", "network");
  server.fail("/sync/push", 503, { headers: { "Retry-After": "5" } });
  server.fail("/sync/push", "lost");
  const phases = [];
  phone.subscribe((s) => phases.push(s.phase));
  const startedAt = clock.now();
  await phone.sync();
  // random() is 0.5: the delay is 3/4 of each step; the 503's Retry-After (5 s) is a floor.
  assert.deepEqual(clock.sleeps, [750, 5000, 3000]);
  assert.equal(clock.now() - startedAt, 8750, "no real sleeping: the fake clock moved");
  assert.ok(phases.includes("waiting"));
  assert.deepEqual(server.applied, phone.queue.all().map((r) => r.op.op_id));
  assert.equal(phone.state().queued, 0);
});

test("after the last attempt the client says it is offline and keeps the queue", async () => {
  const { server, phone } = await phoneWith(2, {}, { backoff: { baseMs: 1000, capMs: 60000, attempts: 3 } });
  for (let n = 0; n < 3; n++) server.fail("/sync/push", "network");
  const state = await phone.sync();
  assert.equal(state.phase, "offline");
  assert.equal(state.queued, 2);
  assert.equal(state.lastError.code, "network");
  await phone.sync(); // signal again
  assert.equal(server.applied.length, 2);
});

test("an operation the server failed on without keeping it (server_error, retry) is sent again", async () => {
  const { server, phone } = await phoneWith(2);
  const [first] = phone.queue.all().map((r) => r.op.op_id);
  let failures = 1;
  server.decide = (op) => (op.op_id === first && failures-- > 0 ? { status: "server_error" } : null);
  await phone.sync();
  assert.equal(phone.queue.byOpId(first).state, "applied");
  assert.equal(server.applied.length, 2);
});

test("a revoked token stops the sync, keeps the queue, and signing in again sends it", async () => {
  const { server, phone } = await phoneWith(2);
  const signedOut = [];
  phone.on("signed_out", () => signedOut.push(true));
  server.revokeAll();
  const state = await phone.sync();
  assert.equal(state.phase, "signed_out");
  assert.equal(state.signedIn, false);
  assert.equal(state.queued, 2);
  assert.equal(signedOut.length, 1);
  await phone.signIn({ username: "sampler", password: "pw" });
  await phone.sync();
  assert.equal(server.applied.length, 2);
});

test("one operation the server cannot read is found alone and rejected; the others go through", async () => {
  const { server, phone } = await phoneWith(2);
  const bad = await phone.queue.add({ type: "", entity_id: "x", payload: {} }, () => "bad-op"); // past enqueue's checks
  await phone.enqueue("task.create", "after", { project: 1, name: "后" });
  await phone.sync();
  assert.equal(phone.queue.byOpId(bad.op.op_id).state, "rejected");
  assert.equal(phone.queue.byOpId(bad.op.op_id).answer.code, "validation_failed");
  assert.equal(server.applied.length, 3);
});

test("backoff grows, is capped, jitters within half a step, and honours Retry-After", () => {
  const options = { baseMs: 1000, capMs: 8000 };
  assert.equal(backoffDelay(1, options, () => 0), 500);
  assert.equal(backoffDelay(1, options, () => 0.999999), 1000);
  assert.equal(backoffDelay(3, options, () => 0), 2000);
  assert.equal(backoffDelay(10, options, () => 0.999999), 8000, "capped");
  assert.equal(backoffDelay(1, options, () => 0, 5000), 5000, "the server's Retry-After is a floor");
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(4, options)));
  assert.ok(spread.size > 10, "jitter: phones do not retry in step");
});

test("the clock offset is measured from /meta's server_time, from the middle of the round trip", async () => {
  const clock = new FakeClock();
  const server = new FakeServer({ clock, skewMs: 2 * 3600 * 1000 }); // the phone is 2 hours slow
  const phone = await server.signedInClient();
  await phone.sync();
  assert.equal(phone.state().clockOffsetMs, 2 * 3600 * 1000);
  assert.equal(phone.serverNow(), clock.now() + 2 * 3600 * 1000);
  const op = (await phone.enqueue("task.create", "t", { project: 1, name: "n" })).op;
  assert.equal(op.device_time, new Date(clock.now()).toISOString(), "operations carry the phone's own clock");
});

test("what a held operation waits for is said in plain words, for each kind the server writes", () => {
  assert.equal(describeWait({ kind: "device_seq", seq: 4 }), "等待本机更早的第 4 项操作到达服务器");
  assert.equal(describeWait({ kind: "op", op_id: "x" }), "等待本机对同一对象的前一项操作处理完");
  assert.equal(describeWait({ kind: "stages", task: "t", missing: ["采样现场", "采样操作"], stage: "sampling" }), "等待前一环节的照片：采样现场、采样操作");
  assert.equal(describeWait({ kind: "something_new" }), "等待前置数据到达服务器");
  assert.equal(describeWait(null), "等待服务器处理");
});

test("held work flagged for review past the server's deadline (expired) is shown with its message", async () => {
  const { server, phone } = await phoneWith(1);
  const [opId] = phone.queue.all().map((r) => r.op.op_id);
  server.decide = () => ({ status: "held", waits_for: { kind: "entity", entity: "task", id: "elsewhere" } });
  await phone.sync();
  assert.equal(phone.state().held.length, 1);
  server.release(opId, { status: "expired", code: "hold_expired", message: "该操作等待前置数据超过 72 小时，已转人工复核。", details: { kind: "entity" } });
  await phone.sync();
  const [shown] = phone.state().rejected;
  assert.deepEqual([shown.op_id, shown.code, shown.duplicate], [opId, "hold_expired", true]);
  assert.match(shown.message, /人工复核/);
  assert.equal(phone.state().held.length, 0);
});
