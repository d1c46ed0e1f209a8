// The wx.* adapter against a faithful fake of WeChat's APIs (fake-wx.mjs), and the whole client
// running on it against the fake server.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { StorageFullError, wxAdapter, wxStorage } from "../../../field_app/static/field_app/sync/adapters/wx.js";
import { createSyncClient } from "../../../field_app/static/field_app/sync/client.js";
import { NetworkError } from "../../../field_app/static/field_app/sync/wire.js";
import { FakeWx } from "./fake-wx.mjs";
import { bytes, FakeClock, FakeServer } from "./fakes.mjs";

const sha = (data) => createHash("sha256").update(data).digest("hex");

async function wxPhone({ files = {}, chunk = 4, sha256Digest = true } = {}) {
  const clock = new FakeClock();
  const server = new FakeServer({ clock, chunk });
  const wx = new FakeWx({ server, files, sha256Digest });
  const client = createSyncClient({ baseUrl: "https://fieldtrace.example.cn", adapter: wxAdapter({ wx, clock, random: () => 0.5 }) });
  await client.open();
  return { clock, server, wx, client };
}

test("wx storage: values round-trip, a key never written reads as absent, keys by prefix", async () => {
  const wx = new FakeWx({});
  const storage = wxStorage(wx);
  assert.equal(await storage.get("nothing"), undefined);
  await storage.set("op:000000000002", { a: 2 });
  await storage.set("op:000000000001", { a: 1 });
  await storage.set("cursor", 7);
  assert.deepEqual(await storage.get("op:000000000001"), { a: 1 });
  assert.deepEqual(await storage.keys("op:"), ["op:000000000001", "op:000000000002"]);
  await storage.remove("cursor");
  assert.equal(await storage.get("cursor"), undefined);
});

test("wx storage: over 1 MB a key or 10 MB in all is refused as storage_full, and nothing is queued", async () => {
  const { client, wx } = await wxPhone();
  await assert.rejects(client.enqueue("task.create", "t", { project: 1, name: "x".repeat(1024 * 1024) }), StorageFullError);
  assert.equal(client.queue.all().length, 0);
  // Fill WeChat's 10 MB with other keys, then one more operation does not fit.
  const filler = "y".repeat(900 * 1024);
  for (let n = 0; n < 11; n++) {
    try {
      await wxStorage(wx).set(`other:${n}`, filler);
    } catch (error) {
      assert.ok(error instanceof StorageFullError);
      assert.match(error.message, /exceed storage max size/);
    }
  }
  await assert.rejects(client.enqueue("task.create", "t2", { project: 1, name: "z".repeat(600 * 1024) }), StorageFullError);
  assert.equal(client.queue.all().length, 0, "refused whole: the user is told, nothing half-written");
  const next = await client.enqueue("task.create", "t3", { project: 1, name: "小" });
  assert.equal(next.op.seq, 1, "no seq was used up by the refusal");
});

test("wx.request carries the token and JSON; a failed call (no signal) is a NetworkError", async () => {
  const { client, wx } = await wxPhone();
  await client.signIn({ username: "sampler", password: "pw" });
  const login = wx.calls.find((c) => c.name === "request");
  assert.equal(login.options.method, "POST");
  assert.equal(login.options.header["Content-Type"], "application/json");
  assert.equal(JSON.parse(login.options.data).device.platform, "wechat");
  assert.equal(JSON.parse(login.options.data).device.model_name, "Mate 60");
  wx.offline = true;
  await assert.rejects(client.api("GET", "/api/v1/sync/limits"), NetworkError);
  wx.offline = false;
  const limits = await client.api("GET", "/api/v1/sync/limits");
  assert.equal(limits.max_ops, 500);
  const last = wx.calls.filter((c) => c.name === "request").at(-1);
  assert.match(last.options.header.Authorization, /^Bearer token-/);
});

test("wx.getLocation is asked for GCJ-02 and the fix is sent as gcj02, without a fix time", async () => {
  const { client, wx } = await wxPhone();
  const fix = await client.captureFix();
  assert.equal(wx.lastLocationType, "gcj02");
  assert.deepEqual([fix.longitude, fix.latitude, fix.coordinate_system, fix.accuracy_m], [121.4411, 31.1861, "gcj02", 12]);
  assert.equal("fix_time" in fix, false);
});

test("a photo on WeChat: saved out of the temp folder, hashed, recorded, sent by wx.uploadFile", async () => {
  const photo = bytes("jpeg bytes");
  const { client, server, wx } = await wxPhone({ files: { "http://tmp/wx-photo.jpg": photo }, chunk: 64 });
  await client.signIn({ username: "sampler", password: "pw" });
  await client.enqueue("task.create", "task-1", { project: 1, name: "任务" });
  const record = await client.recordPhoto({ photoId: "p1", file: "http://tmp/wx-photo.jpg", manifest: { photo_type: "sampling_site", task: "task-1", ...(await client.captureFix()) } });
  assert.equal(record.op.payload.sha256, sha(photo));
  assert.equal(wx.fsFiles.has("http://tmp/wx-photo.jpg"), false, "moved by saveFile");
  await client.sync();
  const upload = wx.calls.find((c) => c.name === "uploadFile");
  assert.equal(upload.options.name, "file");
  assert.equal(upload.options.formData.sha256, sha(photo));
  assert.deepEqual(server.blobs.get(sha(photo)), photo);
  assert.equal(client.state().uploads.done, 1);
  assert.equal(wx.fsFiles.size, 0, "the kept copy is removed once the server holds it");
});

test("a photo larger than a chunk goes resumably through wx.request PUT with an ArrayBuffer, hashed in JavaScript where WeChat has no sha256", async () => {
  const photo = bytes("a longer photo, twenty-odd bytes or more");
  const { client, server, wx } = await wxPhone({ files: { "http://tmp/big.jpg": photo }, chunk: 8, sha256Digest: false });
  await client.signIn({ username: "sampler", password: "pw" });
  await client.recordPhoto({ photoId: "p2", file: "http://tmp/big.jpg", manifest: { photo_type: "sampling_site" } });
  wx.offline = false;
  let puts = 0;
  const request = wx.request.bind(wx);
  wx.request = (options) => {
    if (options.method === "PUT" && ++puts === 2) {
      // The signal drops during the second chunk.
      return wx.api("request", options, (o) => wx.failed(o, "timeout"));
    }
    return request(options);
  };
  await client.sync();
  const chunks = wx.calls.filter((c) => c.name === "request" && c.options.method === "PUT");
  assert.ok(chunks.every((c) => c.options.data instanceof ArrayBuffer));
  assert.deepEqual(server.blobs.get(sha(photo)), photo);
  assert.equal(server.uploads.size, 1, "resumed, not restarted");
});

test("the whole client on wx: restart, retries, duplicate after a lost answer, pull", async () => {
  const { client, server, wx, clock } = await wxPhone();
  await client.signIn({ username: "sampler", password: "pw" });
  for (let n = 1; n <= 3; n++) await client.enqueue("task.create", `t${n}`, { project: 1, name: `任务${n}` });
  server.fail("/sync/push", "lost");
  const reopened = createSyncClient({ baseUrl: "https://fieldtrace.example.cn", adapter: wxAdapter({ wx, clock, random: () => 0.5 }) });
  await reopened.open();
  assert.equal(reopened.state().queued, 3);
  await reopened.sync();
  assert.deepEqual(clock.sleeps, [750]);
  assert.ok(reopened.queue.all().every((r) => r.state === "applied" && r.duplicate));
  assert.equal(server.applied.length, 3);
  assert.deepEqual((await reopened.records("task")).map((r) => r.id).sort(), ["t1", "t2", "t3"]);
});

test("a photo that no longer fits WeChat's storage is refused whole: no record, no entry, its kept copy removed", async () => {
  const photo = bytes("jpeg bytes of a full phone");
  const { client, wx } = await wxPhone({ files: { "http://tmp/full.jpg": photo } });
  const setStorage = wx.setStorage.bind(wx);
  wx.setStorage = (options) =>
    options.key.startsWith("op:") ? wx.api("setStorage", options, (o) => wx.failed(o, "exceed storage max size 10Mb")) : setStorage(options);
  await assert.rejects(client.recordPhoto({ photoId: "p9", file: "http://tmp/full.jpg", manifest: { photo_type: "sampling_site" } }), StorageFullError);
  assert.equal(client.queue.all().length, 0);
  assert.equal(client.uploads.all().length, 0);
  assert.equal(wx.fsFiles.size, 0, "the saved copy is removed (the temp file was moved)");
  assert.equal(await wxStorage(wx).get(`upl:${sha(photo)}`), undefined);
});

test("the same bytes recorded for two photos are kept and sent once", async () => {
  const photo = bytes("identical");
  const { client, server, wx } = await wxPhone({ files: { "http://tmp/a.jpg": photo, "http://tmp/b.jpg": photo }, chunk: 64 });
  await client.signIn({ username: "sampler", password: "pw" });
  await client.recordPhoto({ photoId: "pa", file: "http://tmp/a.jpg", manifest: { photo_type: "sampling_site" } });
  await client.recordPhoto({ photoId: "pb", file: "http://tmp/b.jpg", manifest: { photo_type: "sampling_site" } });
  assert.equal(wx.calls.filter((c) => c.name === "saveFile").length, 1);
  await client.sync();
  assert.equal(server.wholeFiles, 1);
  assert.equal(client.state().uploads.done, 1);
});
