// Reconcile on start (what the server lacks is sent again) and pull by cursor into the local store.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { MemoryFiles, MemoryStorage } from "../../../field_app/static/field_app/sync/adapters/memory.js";
import { bytes, FakeClock, FakeServer } from "./fakes.mjs";

test("on start, operations and files the server lacks (a restored backup) are sent again, same op ids", async () => {
  const clock = new FakeClock();
  const server = new FakeServer({ clock });
  const storage = new MemoryStorage();
  const files = new MemoryFiles({ "IMG.jpg": bytes("photo bytes of a sampler") });
  const phone = await server.signedInClient({ adapter: server.adapter({ storage, files }) });
  await phone.enqueue("task.create", "task-1", { project: 1, name: "任务" });
  await phone.recordPhoto({ photoId: "p1", file: "IMG.jpg", manifest: { photo_type: "sampling_site", task: "task-1" } });
  await phone.enqueue("task.update", "task-1", { note: "雨" }, { baseVersion: 1 });
  await phone.sync();
  const sent = phone.queue.all().map((r) => r.op.op_id);

  // The server loses the last operation and the file; another is held there now.
  server.journal.delete(sent[2]);
  server.applied = server.applied.filter((id) => id !== sent[2]);
  server.blobs.clear();
  server.uploads.clear();
  server.release(sent[0], { status: "held", waits_for: { kind: "device_seq", seq: 1 } });

  const reopened = await server.client({ adapter: server.adapter({ storage, files }) });
  await reopened.sync();
  const reconcile = server.requests.filter((r) => r.path === "/sync/reconcile");
  assert.equal(reconcile.length, 1);
  assert.deepEqual(server.applied.slice(-1), [sent[2]], "sent again under its own op id");
  assert.ok(server.blobs.has(createHash("sha256").update(bytes("photo bytes of a sampler")).digest("hex")));
  assert.equal(reopened.queue.byOpId(sent[0]).state, "held");
  await reopened.sync();
  assert.equal(server.requests.filter((r) => r.path === "/sync/reconcile").length, 1, "once per start");
});

test("pull walks the cursor page by page into the local store, tombstones included", async () => {
  const clock = new FakeClock();
  const server = new FakeServer({ clock, limits: { pull_max_rows: 2 } });
  const storage = new MemoryStorage();
  server.changes = [
    { seq: 1, entity: "task", id: "t1", version: 1, deleted: false, data: { name: "一" } },
    { seq: 2, entity: "task", id: "t2", version: 1, deleted: false, data: { name: "二" } },
    { seq: 3, entity: "photo", id: "p1", version: 1, deleted: false, data: { verdict: "pass" } },
    { seq: 4, entity: "task", id: "t1", version: 2, deleted: true, data: null },
    { seq: 5, entity: "task", id: "t2", version: 2, deleted: false, data: { name: "二改" } },
  ];
  const phone = await server.signedInClient({ adapter: server.adapter({ storage }) });
  await phone.sync();
  const pulls = server.requests.filter((r) => r.path === "/sync/pull").map((r) => r.search);
  assert.deepEqual(pulls, ["cursor=0", "cursor=2", "cursor=4"]);
  assert.equal(phone.state().cursor, 5);
  assert.deepEqual((await phone.records("task")).map((r) => [r.id, r.data.name]), [["t2", "二改"]]);
  const tombstone = await phone.record("task", "t1");
  assert.deepEqual([tombstone.deleted, tombstone.data, tombstone.version], [true, null, 2]);
  assert.equal((await phone.records("task", { tombstones: true })).length, 2);

  // The cursor survives a restart: the next pull asks only for what is new.
  server.changes.push({ seq: 6, entity: "photo", id: "p1", version: 2, deleted: false, data: { verdict: "warn" } });
  const reopened = await server.client({ adapter: server.adapter({ storage }) });
  await reopened.sync();
  assert.equal(server.requests.filter((r) => r.path === "/sync/pull").at(-1).search, "cursor=5");
  assert.equal((await reopened.record("photo", "p1")).data.verdict, "warn");
});

test("a page repeated after a crash (cursor not yet saved) changes nothing", async () => {
  const clock = new FakeClock();
  const server = new FakeServer({ clock });
  server.changes = [{ seq: 1, entity: "task", id: "t1", version: 1, deleted: false, data: { name: "一" } }];
  const phone = await server.signedInClient();
  await phone.pull();
  phone.cursor = 0;
  server.changes[0] = { ...server.changes[0] };
  await phone.pull();
  assert.equal((await phone.records("task")).length, 1);
});

test("state is pushed to subscribers as the sync goes", async () => {
  const clock = new FakeClock();
  const server = new FakeServer({ clock });
  const phone = await server.signedInClient();
  await phone.enqueue("task.create", "t", { project: 1, name: "n" });
  const seen = [];
  const off = phone.subscribe((state) => seen.push([state.phase, state.queued]));
  await phone.sync();
  off();
  const phases = seen.map(([phase]) => phase);
  for (const phase of ["measuring", "pushing", "uploading", "pulling", "idle"]) assert.ok(phases.includes(phase), phase);
  assert.deepEqual(seen[0], ["idle", 1]);
  assert.deepEqual(seen.at(-1), ["idle", 0]);
  assert.ok(phone.state().lastSyncAt);
});
