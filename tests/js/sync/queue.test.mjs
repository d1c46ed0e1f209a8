// The queue on the phone: device order, op ids and seqs that survive a restart.
import assert from "node:assert/strict";
import { test } from "node:test";

import { MemoryStorage } from "../../../field_app/static/field_app/sync/adapters/memory.js";
import { opKey, OpQueue } from "../../../field_app/static/field_app/sync/queue.js";
import { FakeClock, FakeServer } from "./fakes.mjs";

test("operations keep their order, op ids and seqs across a restart", async () => {
  const storage = new MemoryStorage();
  const server = new FakeServer({ clock: new FakeClock() });
  const before = await server.client({ adapter: server.adapter({ storage }) });
  const made = [];
  for (let n = 1; n <= 5; n++) made.push((await before.enqueue("task.update", "t1", { note: `${n}` }, { baseVersion: n })).op);

  const after = await server.client({ adapter: server.adapter({ storage }) }); // the app reopened
  const kept = after.queue.all().map((r) => r.op);
  assert.deepEqual(kept, made);
  assert.deepEqual(kept.map((op) => op.seq), [1, 2, 3, 4, 5]);
  const next = await after.enqueue("task.update", "t1", { note: "6" }, { baseVersion: 6 });
  assert.equal(next.op.seq, 6);
  assert.equal(after.deviceTime().endsWith("Z"), true);
  assert.equal(after.device.id, before.device.id, "the device keeps its id");
});

test("a crash between writing an operation and its counter never reuses or skips a seq", async () => {
  const storage = new MemoryStorage();
  const queue = await new OpQueue(storage).load();
  await queue.add({ type: "task.create", entity_id: "a", payload: {} }, () => "op-1");
  // The second operation is written, the app dies before the counter is.
  await storage.set(opKey(2), { op: { op_id: "op-2", seq: 2, type: "task.create", entity_id: "b", payload: {} }, state: "pending" });
  const reopened = await new OpQueue(storage).load();
  const third = await reopened.add({ type: "task.create", entity_id: "c", payload: {} }, () => "op-3");
  assert.equal(third.op.seq, 3);
  assert.deepEqual(reopened.all().map((r) => r.op.seq), [1, 2, 3]);
});

test("operations sent before a restart and answered after keep their place and are not doubled", async () => {
  const storage = new MemoryStorage();
  const clock = new FakeClock();
  const server = new FakeServer({ clock });
  const phone = await server.signedInClient({ adapter: server.adapter({ storage }) });
  for (let n = 1; n <= 3; n++) await phone.enqueue("task.create", `t${n}`, { name: `任务${n}` });
  server.fail("/sync/push", "lost"); // applied on the server, the answer never arrives
  await phone.sync();
  const reopened = await server.client({ adapter: server.adapter({ storage }) });
  assert.equal(reopened.state().queued, 0);
  assert.deepEqual(server.applied.length, 3, "applied once each");
  assert.ok(reopened.queue.all().every((r) => r.state === "applied" && r.duplicate));
});

test("a malformed operation is refused when it is made, not in a batch with others", async () => {
  const server = new FakeServer({ clock: new FakeClock() });
  const phone = await server.client();
  await assert.rejects(phone.enqueue("", "x", {}), TypeError);
  await assert.rejects(phone.enqueue("task.create", "x".repeat(65), {}), TypeError);
  await assert.rejects(phone.enqueue("task.create", "x", []), TypeError);
  assert.equal(phone.queue.all().length, 0);
});
