// Test doubles for the sync client: a fake clock that never sleeps, and an in-memory server that
// speaks the wire format of mobile_api/sync.py and mobile_api/photos.py (the shapes, status codes
// and error codes the client reads), with faults to inject.

import { createHash, randomUUID } from "node:crypto";

import { MemoryFiles, MemoryStorage } from "../../../field_app/static/field_app/sync/adapters/memory.js";
import { createSyncClient } from "../../../field_app/static/field_app/sync/client.js";
import { NetworkError } from "../../../field_app/static/field_app/sync/wire.js";

export class FakeClock {
  constructor(start = Date.parse("2026-12-07T08:00:00Z")) {
    this.time = start;
    this.sleeps = [];
  }

  now() {
    return this.time;
  }

  async sleep(ms) {
    this.sleeps.push(ms);
    this.time += ms;
  }
}

const json = (status, body, headers = {}) => ({ status, headers, body });
const error = (status, code, message, details = null, headers = {}) => json(status, { code, message, details }, headers);

export class FakeServer {
  constructor({ clock, skewMs = 0, limits = {}, chunk = 4 } = {}) {
    this.clock = clock;
    this.skewMs = skewMs; // server time - phone time
    this.limits = { max_ops: 500, max_bytes: 1_000_000, pull_max_rows: 500, pull_max_bytes: 512_000, hold_deadline_hours: 72, op_types: ["photo.record", "task.create", "task.update"], ...limits };
    this.media = { max_bytes: 1000, chunk_max_bytes: chunk, formats: ["jpeg"], upload_ttl_hours: 72, direct_upload: false };
    this.journal = new Map(); // op_id -> {op, result}
    this.applied = []; // op ids in the order applied
    this.pushes = []; // each push's op ids
    this.requests = [];
    this.tokens = new Set();
    this.blobs = new Map(); // sha256 -> bytes
    this.uploads = new Map();
    this.changes = [];
    this.faults = []; // consumed one per request: {when, kind, path}
    this.decide = () => null; // op -> a result to answer instead of applied
  }

  /** The next request to `path` (a prefix) fails: "network" before the server does anything,
   * "lost" after it has done it (the answer never reaches the phone), or an HTTP status. */
  fail(path, kind, extra = {}) {
    this.faults.push({ path, kind, ...extra });
  }

  adapter({ storage = new MemoryStorage(), files = new MemoryFiles(), random = () => 0.5 } = {}) {
    return {
      platform: "android",
      storage,
      http: { request: (req) => this.request(req) },
      files,
      hash: { sha256: async (ref) => createHash("sha256").update(await files.read(ref, 0, await files.size(ref))).digest("hex") },
      location: { current: async () => ({ longitude: 121.4365, latitude: 31.188, accuracy_m: 5, coordinate_system: "wgs84" }) },
      clock: this.clock,
      random,
      uuid: randomUUID,
    };
  }

  async client(options = {}) {
    const { adapter, ...rest } = options;
    const client = createSyncClient({ baseUrl: "http://phone.test", adapter: adapter ?? this.adapter(), ...rest });
    await client.open();
    return client;
  }

  async signedInClient(options = {}) {
    const client = await this.client(options);
    await client.signIn({ username: "sampler", password: "pw" });
    return client;
  }

  async request({ method, url, headers, body }) {
    const { pathname, searchParams } = new URL(url);
    const path = pathname.replace(/^\/api\/v1/, "");
    this.requests.push({ method, path, search: searchParams.toString() });
    const index = this.faults.findIndex((f) => path.startsWith(f.path));
    const fault = index >= 0 ? this.faults.splice(index, 1)[0] : null;
    if (fault?.kind === "network") throw new NetworkError("connection refused");
    if (typeof fault?.kind === "number") {
      return error(fault.kind, fault.code ?? "database_unavailable", "稍后重试", null, fault.headers ?? {});
    }
    const response = this.route(method, path, searchParams, headers, body);
    if (fault?.kind === "lost") throw new NetworkError("connection reset after the server answered");
    return response;
  }

  route(method, path, query, headers, body) {
    if (path === "/meta") return json(200, { api_version: "1", server_time: new Date(this.clock.now() + this.skewMs).toISOString(), time_zone: "Asia/Shanghai", languages: ["zh-hans", "en"] });
    if (path === "/auth/login") {
      const token = `token-${this.tokens.size + 1}`;
      this.tokens.add(token);
      const sent = JSON.parse(body);
      this.device = sent.device;
      return json(200, { token, token_prefix: token.slice(0, 8), device_id: sent.device.id, user: { username: sent.username } });
    }
    const token = (headers.Authorization ?? "").replace("Bearer ", "");
    if (!this.tokens.has(token)) return error(401, "authentication_failed", "登录凭据无效或已失效，请重新登录。");
    if (path === "/sync/limits") return json(200, this.limits);
    if (path === "/sync/push") return this.push(JSON.parse(body), body);
    if (path === "/sync/reconcile") return this.reconcile(JSON.parse(body));
    if (path === "/sync/pull") return this.pull(Number(query.get("cursor") ?? 0));
    if (path === "/media/limits") return json(200, this.media);
    if (path === "/media" && method === "POST") return this.wholeFile(body);
    if (path === "/media/uploads" && method === "POST") return this.startUpload(JSON.parse(body));
    if (path.startsWith("/media/uploads/") && method === "PUT") return this.chunk(path.split("/")[3], Number(query.get("offset")), body);
    if (path === "/auth/logout") {
      this.tokens.delete(token);
      return json(204, null);
    }
    return error(404, "not_found", "请求的资源不存在。");
  }

  revokeAll() {
    this.tokens.clear();
  }

  push(data, raw) {
    if (new TextEncoder().encode(raw).length > this.limits.max_bytes || data.ops.length > this.limits.max_ops) {
      return error(413, "batch_too_large", "请分批推送。");
    }
    if (data.device_id !== this.device?.id) return error(403, "device_mismatch", "设备不一致。");
    const bad = data.ops.find((op) => op.type === "");
    if (bad) return error(400, "validation_failed", "提交的数据有误。", { ops: ["type"] });
    this.pushes.push(data.ops.map((op) => op.op_id));
    const results = data.ops.map((op) => {
      const known = this.journal.get(op.op_id);
      if (known) {
        if (JSON.stringify(known.op) !== JSON.stringify(op)) return { op_id: op.op_id, status: "rejected", code: "op_id_reused", message: "该操作编号已用于内容不同的另一操作，未应用。", details: null };
        return { op_id: op.op_id, status: "duplicate", first: known.result };
      }
      const decided = this.decide(op);
      if (decided?.status === "server_error") {
        return { op_id: op.op_id, status: "rejected", code: "server_error", message: "服务器内部错误", details: { retry: true } };
      }
      const result = decided ?? { op_id: op.op_id, status: "applied", entity_id: op.entity_id, version: 1, seq: this.changes.length + 1 };
      this.journal.set(op.op_id, { op, result: { op_id: op.op_id, ...result } });
      if (result.status === "applied") {
        this.applied.push(op.op_id);
        this.changes.push({ seq: this.changes.length + 1, entity: op.type.split(".")[0], id: op.entity_id, version: 1, deleted: false, data: op.payload });
      }
      return { op_id: op.op_id, ...result };
    });
    return json(200, { results, limits: this.limits });
  }

  /** What sync/engine.py does when a held operation is released: its stored result changes. */
  release(opId, result) {
    const known = this.journal.get(opId);
    known.result = { op_id: opId, ...result };
  }

  reconcile({ ops, media }) {
    const answer = { missing: [], held: [], differs: [], rejected: [], done: [] };
    for (const { op_id } of ops) {
      const known = this.journal.get(op_id);
      if (!known) answer.missing.push(op_id);
      else if (known.result.status === "held") answer.held.push({ op_id, waits_for: known.result.waits_for });
      else if (known.result.status === "rejected") answer.rejected.push({ op_id, code: known.result.code });
      else answer.done.push(op_id);
    }
    const missing = (media ?? []).filter((sha) => !this.blobs.has(sha));
    return json(200, { ...answer, media: { missing, present: (media ?? []).filter((sha) => this.blobs.has(sha)) } });
  }

  pull(cursor) {
    const rows = this.changes.filter((c) => c.seq > cursor).slice(0, this.limits.pull_max_rows);
    const more = this.changes.filter((c) => c.seq > cursor).length > rows.length;
    return json(200, { changes: rows, cursor: rows.length ? rows[rows.length - 1].seq : cursor, more });
  }

  /** POST /media, multipart: the fake wx.uploadFile hands over the parts it would encode. */
  wholeFile({ fields, name, bytes: data }) {
    if (name !== "file" || !data) return error(400, "media_file_missing", "请在 file 字段中上传照片文件。");
    const sha = createHash("sha256").update(data).digest("hex");
    if (fields.sha256 && fields.sha256 !== sha) return error(422, "media_hash_mismatch", "文件与声明不符");
    const created = !this.blobs.has(sha);
    this.blobs.set(sha, data);
    this.wholeFiles = (this.wholeFiles ?? 0) + 1;
    return json(created ? 201 : 200, { sha256: sha, present: true, size: data.length, format: "jpeg" });
  }

  uploadOut(upload) {
    return { id: upload.id, sha256: upload.sha256, size: upload.size, offset: upload.bytes.length, complete: upload.complete, chunk_max_bytes: this.media.chunk_max_bytes, expires_at: null };
  }

  startUpload({ sha256, size }) {
    if (size > this.media.max_bytes) return error(413, "media_too_large", "文件过大。");
    if (this.blobs.has(sha256)) return json(200, { id: null, sha256, size, offset: size, complete: true, chunk_max_bytes: this.media.chunk_max_bytes, expires_at: null });
    let upload = [...this.uploads.values()].find((u) => u.sha256 === sha256 && !u.complete && !u.expired);
    if (!upload) {
      upload = { id: randomUUID(), sha256, size, bytes: new Uint8Array(0), complete: false };
      this.uploads.set(upload.id, upload);
    }
    return json(201, this.uploadOut(upload));
  }

  chunk(id, offset, body) {
    const upload = this.uploads.get(id);
    if (!upload) return error(404, "not_found", "不存在");
    if (upload.expired) return error(410, "upload_expired", "上传已过期");
    if (offset !== upload.bytes.length) return error(409, "upload_offset_mismatch", "偏移不符", { received: upload.bytes.length });
    if (body.length > this.media.chunk_max_bytes) return error(413, "upload_chunk_too_large", "分片过大");
    const joined = new Uint8Array(upload.bytes.length + body.length);
    joined.set(upload.bytes);
    joined.set(body, upload.bytes.length);
    upload.bytes = joined;
    if (upload.bytes.length >= upload.size) {
      const sha = createHash("sha256").update(upload.bytes).digest("hex");
      if (sha !== upload.sha256) {
        upload.bytes = new Uint8Array(0);
        return error(422, "media_hash_mismatch", "文件与声明不符");
      }
      upload.complete = true;
      this.blobs.set(sha, upload.bytes);
    }
    return json(200, this.uploadOut(upload));
  }
}

export function bytes(text) {
  return new TextEncoder().encode(text);
}
