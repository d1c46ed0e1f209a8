// Photos: hashed on the phone, sent after their record, resumably.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { MemoryFiles } from "../../../field_app/static/field_app/sync/adapters/memory.js";
import { Sha256, sha256Hex, sha256OfFile } from "../../../field_app/static/field_app/sync/sha256.js";
import { bytes, FakeClock, FakeServer } from "./fakes.mjs";

const nodeSha = (data) => createHash("sha256").update(data).digest("hex");

test("the JavaScript SHA-256 agrees with node:crypto, fed whole or in pieces", async () => {
  assert.equal(sha256Hex(new Uint8Array(0)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256Hex(bytes("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  for (const size of [55, 56, 63, 64, 65, 1000, 70_001]) {
    const data = new Uint8Array(size).map((_, i) => (i * 31 + size) & 0xff);
    assert.equal(sha256Hex(data), nodeSha(data), `size ${size}`);
    const pieces = new Sha256();
    for (let i = 0; i < size; i += 7) pieces.update(data.subarray(i, i + 7));
    assert.equal(pieces.hex(), nodeSha(data));
    assert.equal(await sha256OfFile(new MemoryFiles({ f: data }), "f", 100), nodeSha(data));
  }
});

async function photoPhone({ chunk = 4, file = bytes("a photo's bytes!") } = {}) {
  const clock = new FakeClock();
  const server = new FakeServer({ clock, chunk });
  const files = new MemoryFiles({ "IMG_1.jpg": file });
  const adapter = server.adapter({ files });
  const phone = await server.signedInClient({ adapter });
  const task = await phone.enqueue("task.create", "task-1", { project: 1, name: "任务" });
  const fix = await phone.captureFix();
  const photo = await phone.recordPhoto({ photoId: "photo-1", file: "IMG_1.jpg", manifest: { photo_type: "sampling_site", task: "task-1", ...fix } });
  return { clock, server, phone, files, file, task, photo, adapter };
}

test("a photo is hashed on the phone, its record pushed with the hash, then its file sent in chunks", async () => {
  const { server, phone, file, photo } = await photoPhone();
  assert.equal(photo.op.payload.sha256, nodeSha(file));
  assert.equal(photo.op.payload.coordinate_system, "wgs84");
  assert.equal(photo.op.payload.accuracy_m, 5);
  assert.ok(photo.op.payload.device_time);
  await phone.sync();
  assert.deepEqual(server.blobs.get(nodeSha(file)), file);
  const order = server.requests.map((r) => `${r.method} ${r.path}`);
  assert.ok(order.indexOf("POST /sync/push") < order.indexOf("POST /media/uploads"), "after its record");
  assert.equal(order.filter((r) => r.startsWith("PUT /media/uploads/")).length, Math.ceil(file.length / 4));
  assert.equal(phone.state().uploads.done, 1);
});

test("a file is not sent before its record is answered, and not at all when the record is rejected", async () => {
  const { server, phone } = await photoPhone();
  server.decide = (op) => (op.type === "photo.record" ? { status: "rejected", code: "photo_type_unknown", message: "未知的照片类型", details: null } : null);
  await phone.sync();
  assert.equal(server.requests.filter((r) => r.path.startsWith("/media/uploads")).length, 0);
  assert.equal(phone.uploads.all()[0].state, "abandoned");
});

test("an upload cut mid-way resumes from the bytes the server holds", async () => {
  const { server, phone, file } = await photoPhone({ chunk: 4 });
  server.fail("/media/uploads/", "network"); // the first chunk never arrives
  server.fail("/media/uploads/", "lost"); // the second arrives, its answer does not
  await phone.sync();
  assert.deepEqual(server.blobs.get(nodeSha(file)), file);
  const puts = server.requests.filter((r) => r.method === "PUT").map((r) => r.search);
  // offset 0 cut, then 0 stored (answer lost); the restart asks the server, which holds 4.
  assert.deepEqual(puts.slice(0, 3), ["offset=0", "offset=0", "offset=4"]);
  assert.equal(server.uploads.size, 1, "the same upload, continued");
});

test("a restart in the middle of an upload continues it, not starts it over", async () => {
  const { clock, server, phone, adapter, file } = await photoPhone({ chunk: 4 });
  let puts = 0;
  const original = server.chunk.bind(server);
  server.chunk = (...args) => {
    puts += 1;
    if (puts === 3) throw new Error("the app is killed");
    return original(...args);
  };
  await assert.rejects(phone.sync());
  server.chunk = original;
  const reopened = await server.client({ adapter });
  await reopened.sync();
  assert.deepEqual(server.blobs.get(nodeSha(file)), file);
  assert.equal(server.uploads.size, 1);
  assert.ok(clock.now() > 0);
});

test("a wrong offset (409 upload_offset_mismatch) goes on from details.received", async () => {
  const { server, phone, file } = await photoPhone({ chunk: 4 });
  await phone.sync();
  assert.ok(server.blobs.has(nodeSha(file)));
  // A second, different photo whose upload the phone believes is further than it is.
  const other = bytes("another photo, longer than one chunk");
  phone.adapter.files.files.set("IMG_2.jpg", other);
  await phone.recordPhoto({ photoId: "photo-2", file: "IMG_2.jpg", manifest: { photo_type: "sampling_site", task: "task-1" } });
  await phone.push(await phone.limits(), phone.queue.inState("pending"));
  const record = phone.uploads.get(nodeSha(other));
  const start = (await server.startUpload({ sha256: record.sha256, size: record.size })).body;
  Object.assign(record, { upload_id: start.id, offset: 8 });
  const original = server.startUpload.bind(server);
  server.startUpload = (body) => {
    const answer = original(body);
    return { ...answer, body: { ...answer.body, offset: 8 } }; // a stale answer
  };
  await phone.sync();
  assert.deepEqual(server.blobs.get(nodeSha(other)), other);
});

test("a photo over the advertised limit is refused before it enters the queue", async () => {
  const { server, phone } = await photoPhone();
  await phone.mediaLimits();
  phone.adapter.files.files.set("BIG.jpg", new Uint8Array(server.media.max_bytes + 1));
  await assert.rejects(
    phone.recordPhoto({ photoId: "photo-big", file: "BIG.jpg", manifest: { photo_type: "sampling_site" } }),
    (error) => error.code === "media_too_large" && error.status === 413,
  );
  assert.equal(phone.queue.all().filter((r) => r.op.type === "photo.record").length, 1);
});

test("a file the server refuses (media_too_large at upload) is failed with its message, not retried forever", async () => {
  const { server, phone } = await photoPhone();
  server.media.max_bytes = 1_000_000;
  const original = server.startUpload.bind(server);
  server.startUpload = () => ({ status: 413, headers: {}, body: { code: "media_too_large", message: "照片过大。", details: null } });
  await phone.sync();
  server.startUpload = original;
  const failed = phone.state().uploads.failed;
  assert.deepEqual(failed.map((f) => [f.code, f.message]), [["media_too_large", "照片过大。"]]);
});
