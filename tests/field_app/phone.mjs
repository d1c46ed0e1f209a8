// A phone played by the sync client with its Node adapter, against a real Fieldtrace server
// (run by test_client_against_server.py). It signs in, records a task and two photos offline,
// restarts, syncs (the first push's answer is lost on the way back, so the retry is answered
// `duplicate`), sends the photos' files (one in chunks, one whole) and pulls. It prints what it saw.

import { createHash, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";

import { MemoryStorage } from "../../field_app/static/field_app/sync/adapters/memory.js";
import { nodeAdapter } from "../../field_app/static/field_app/sync/adapters/node.js";
import { createSyncClient } from "../../field_app/static/field_app/sync/client.js";
import { NetworkError } from "../../field_app/static/field_app/sync/wire.js";

const world = JSON.parse(process.argv[2]);
const storage = new MemoryStorage(); // the phone's storage, kept across the restart below
const requests = [];
let answerLost = false;

function phone() {
  const adapter = nodeAdapter({
    storage,
    location: { longitude: world.outlet_lon, latitude: world.outlet_lat, accuracy_m: 6 },
  });
  const { http, upload } = adapter;
  adapter.upload = {
    async multipart(request) {
      const response = await upload.multipart(request);
      requests.push(`POST ${new URL(request.url).pathname} ${response.status}`);
      return response;
    },
  };
  adapter.http = {
    async request(request) {
      const response = await http.request(request);
      requests.push(`${request.method} ${new URL(request.url).pathname} ${response.status}`);
      if (!answerLost && request.url.endsWith("/api/v1/sync/push")) {
        answerLost = true; // the server applied the batch; the phone never hears so
        throw new NetworkError("connection reset");
      }
      return response;
    },
  };
  return createSyncClient({
    baseUrl: world.base_url,
    adapter,
    appVersion: "2.3.0",
    backoff: { baseMs: 50, capMs: 200, attempts: 5 },
  });
}

const first = await phone().open();
await first.signIn({ username: world.username, password: world.password });
const task = randomUUID();
await first.enqueue("task.create", task, { project: world.project, name: "外业客户端任务" });
const photos = {};
for (const [kind, path] of Object.entries(world.photos)) {
  const id = randomUUID();
  const fix = await first.captureFix();
  await first.recordPhoto({ photoId: id, file: path, manifest: { photo_type: kind, task, outlet: world.outlet, ...fix } });
  photos[kind] = { id, sha256: createHash("sha256").update(await readFile(path)).digest("hex") };
}

const again = await phone().open(); // the app closed and opened again before any signal
const answers = [];
again.on("answer", ({ record, status, duplicate }) => answers.push({ type: record.op.type, seq: record.op.seq, status, duplicate }));
const state = await again.sync();
const pulled = {
  task: await again.record("task", task),
  photos: await Promise.all(Object.values(photos).map((p) => again.record("photo", p.id))),
};
console.log(JSON.stringify({ task, photos, answers, state, pulled, requests }));
