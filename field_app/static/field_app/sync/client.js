// The phone's half of Fieldtrace's offline sync (../../../../../shared/DESIGN.md, "Offline sync
// semantics"; the server: mobile_api/sync.py, sync/engine.py). Platform-free: storage, HTTP, files,
// hashing, location, time and randomness come from an adapter (adapters/*.js, README.md).
//
// Guarantees it keeps: an operation, once `enqueue` has returned, is on the phone's storage and is
// sent until the server answers it; it is never reordered (seqs are given once, in order) and never
// applied twice (a resend carries the same op id: the server answers `duplicate`).

import { backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";
import { Emitter } from "./emitter.js";
import { isAnswered, OpQueue } from "./queue.js";
import { sendFile, Uploads } from "./uploads.js";
import { ApiError, expectOk, jsonBytes, NetworkError, PATHS } from "./wire.js";

const CLOCK_MAX_AGE_MS = 60 * 60 * 1000; // measure the clock again after an hour
const RECONCILE_MAX = 5000; // ReconcileIn's max_length
const PUSH_BODY_MARGIN = 64; // bytes kept free under max_bytes for the envelope's rounding

export function createSyncClient(options) {
  return new SyncClient(options);
}

export class SyncClient {
  /**
   * @param {object} options
   * @param {string} options.baseUrl  the server, e.g. "https://fieldtrace.example.cn"
   * @param {object} options.adapter  see README.md, "Adapters"
   * @param {string} [options.appVersion]
   * @param {string} [options.language]  "zh-hans" (default) or "en": the language of the server's messages
   * @param {object} [options.backoff]  {baseMs, capMs, attempts}
   * @param {number} [options.journalSize]  answered operations kept for reconcile (default 500)
   */
  constructor({ baseUrl, adapter, appVersion = "1.0.0", language = "zh-hans", backoff, journalSize = 500 }) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.adapter = adapter;
    this.storage = adapter.storage;
    this.appVersion = appVersion;
    this.language = language;
    this.backoff = { ...DEFAULT_BACKOFF, ...backoff };
    this.journalSize = journalSize;
    this.queue = new OpQueue(this.storage);
    this.uploads = new Uploads(this.storage);
    this.events = new Emitter();
    this.phase = "idle";
    this.running = null;
    this.reconciled = false;
    this.lastError = null;
    this.nextRetryAt = null;
  }

  // --- Start, state and events -----------------------------------------------------------------

  /** Load what the phone holds; give the device its id once, at first start. */
  async open() {
    await this.queue.load();
    await this.uploads.load();
    this.device = await this.storage.get("device");
    if (!this.device) {
      this.device = { id: this.adapter.uuid() };
      await this.storage.set("device", this.device);
    }
    this.auth = (await this.storage.get("auth")) ?? null;
    this.clock = (await this.storage.get("clock")) ?? null;
    this.cursor = (await this.storage.get("cursor")) ?? 0;
    this.lastSyncAt = (await this.storage.get("last_sync")) ?? null;
    this.limitsCache = (await this.storage.get("limits")) ?? null;
    this.mediaLimitsCache = (await this.storage.get("media_limits")) ?? null;
    this.changed();
    return this;
  }

  /** `listener(state)` now and on every change; returns the function that unsubscribes. */
  subscribe(listener) {
    const off = this.events.on("state", listener);
    listener(this.state());
    return off;
  }

  /** Named events: "answer" ({record, status, duplicate}), "upload" (an upload record),
   * "signed_out", "error" ({code, message}), "state". */
  on(event, listener) {
    return this.events.on(event, listener);
  }

  state() {
    const summary = (r) => ({
      op_id: r.op.op_id,
      seq: r.op.seq,
      type: r.op.type,
      entity_id: r.op.entity_id,
      duplicate: r.duplicate,
    });
    const uploads = this.uploads.all();
    return {
      phase: this.phase,
      deviceId: this.device?.id ?? null,
      signedIn: Boolean(this.auth?.token),
      user: this.auth?.user ?? null,
      queued: this.queue.inState("pending").length,
      held: this.queue.inState("held").map((r) => ({ ...summary(r), waits_for: r.answer?.waits_for ?? null })),
      conflicts: this.queue.inState("conflict").map((r) => ({ ...summary(r), conflict: r.answer?.conflict })),
      rejected: this.queue
        .inState("rejected", "expired", "too_large")
        .map((r) => ({ ...summary(r), code: r.answer?.code, message: r.answer?.message, details: r.answer?.details })),
      uploads: {
        waiting: uploads.filter((u) => u.state === "waiting").length,
        ready: uploads.filter((u) => u.state === "ready").length,
        done: uploads.filter((u) => u.state === "done").length,
        failed: uploads.filter((u) => u.state === "failed").map((u) => ({ sha256: u.sha256, ...u.error })),
      },
      cursor: this.cursor,
      clockOffsetMs: this.clock?.offset_ms ?? null,
      lastSyncAt: this.lastSyncAt,
      nextRetryAt: this.nextRetryAt,
      lastError: this.lastError,
    };
  }

  changed() {
    this.events.emit("state", this.state());
  }

  setPhase(phase) {
    this.phase = phase;
    this.changed();
  }

  // --- Sign-in (mobile_api/auth.py) ----------------------------------------------------------------

  deviceInfo() {
    return {
      id: this.device.id,
      platform: this.adapter.platform,
      app_version: this.appVersion,
      model_name: this.adapter.modelName ?? "",
    };
  }

  /** POST /auth/login: enrols this device (its id is the phone's, kept across sign-ins) and keeps
   * the token. The queue is untouched: work recorded while signed out is sent after. */
  async signIn({ username, password }) {
    const body = await this.api("POST", PATHS.login, {
      json: { username, password, device: this.deviceInfo() },
      auth: false,
    });
    return this.keepToken(body);
  }

  /** POST /auth/wechat/login with a wx.login() code. Unbound: throws ApiError wechat_not_bound
   * whose details.bind_ticket goes to bindWeChat with the account's password. */
  async signInWithWeChat({ code }) {
    const body = await this.api("POST", PATHS.wechatLogin, { json: { code, device: this.deviceInfo() }, auth: false });
    return this.keepToken(body);
  }

  async bindWeChat({ username, password, code = "", bindTicket = "" }) {
    const body = await this.api("POST", PATHS.wechatBind, {
      json: { username, password, code, bind_ticket: bindTicket, device: this.deviceInfo() },
      auth: false,
    });
    return this.keepToken(body);
  }

  async keepToken(body) {
    this.auth = { token: body.token, token_prefix: body.token_prefix, user: body.user };
    await this.storage.set("auth", this.auth);
    if (this.phase === "signed_out") this.phase = "idle";
    this.lastError = null;
    this.changed();
    return body.user;
  }

  /** POST /auth/logout, then forget the token. The queue stays on the phone. */
  async signOut() {
    if (this.auth?.token) {
      try {
        await this.api("POST", PATHS.logout, {});
      } catch (error) {
        if (!(error instanceof NetworkError || error instanceof ApiError)) throw error;
      }
    }
    await this.forgetToken();
  }

  async forgetToken() {
    this.auth = null;
    await this.storage.remove("auth");
    this.phase = "signed_out";
    this.changed();
    this.events.emit("signed_out", {});
  }

  // --- HTTP ------------------------------------------------------------------------------------------

  /** One request; the body of a 2xx, else ApiError (NetworkError when nothing came back). */
  async api(method, path, { json, bytes, auth = true, query } = {}) {
    const headers = { Accept: "application/json", "Accept-Language": this.language };
    if (auth && this.auth?.token) headers.Authorization = `Bearer ${this.auth.token}`;
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (bytes !== undefined) {
      headers["Content-Type"] = "application/octet-stream";
      body = bytes;
    }
    const url = this.baseUrl + path + (query ? `?${new URLSearchParams(query)}` : "");
    const response = await this.adapter.http.request({ method, url, headers, body });
    return expectOk(response);
  }

  // --- Clock (mobile_api/views.py MetaView) ---------------------------------------------------------

  /** GET /meta: the offset between the phone's clock and the server's, from the middle of the
   * round trip. Shown to the user when the phone's clock is off, and used by serverNow(). Operations
   * still carry the phone's own clock: the server corrects them by the offset it measures on each
   * push (a push's device_time against its own clock), which is right even if this measure is old. */
  async measureClock() {
    const sent = this.adapter.clock.now();
    const meta = await this.api("GET", PATHS.meta, { auth: false });
    const received = this.adapter.clock.now();
    const server = Date.parse(meta.server_time);
    this.clock = {
      offset_ms: Math.round(server - (sent + received) / 2),
      round_trip_ms: received - sent,
      measured_at: received,
      time_zone: meta.time_zone,
    };
    await this.storage.set("clock", this.clock);
    this.changed();
    return this.clock;
  }

  /** The server's time now, by the phone's clock and the last measured offset. */
  serverNow() {
    return this.adapter.clock.now() + (this.clock?.offset_ms ?? 0);
  }

  deviceTime() {
    return new Date(this.adapter.clock.now()).toISOString();
  }

  // --- Limits ------------------------------------------------------------------------------------------

  async limits() {
    const limits = await this.api("GET", PATHS.limits);
    this.limitsCache = limits;
    await this.storage.set("limits", limits);
    return limits;
  }

  async mediaLimits() {
    const limits = await this.api("GET", PATHS.mediaLimits);
    this.mediaLimitsCache = limits;
    await this.storage.set("media_limits", limits);
    return limits;
  }

  // --- Recording work offline ------------------------------------------------------------------------

  /**
   * Queue an operation (see GET /sync/limits op_types: task.create, task.update, photo.record…).
   * Returns once it is on the phone's storage. `entityId`: the client UUID of an object created
   * offline, or the id of the object changed; `baseVersion`: the version an update was made on.
   */
  async enqueue(type, entityId, payload = {}, { baseVersion = null, opId } = {}) {
    checkOp(type, entityId, payload);
    const record = await this.queue.add(
      {
        op_id: opId,
        type,
        entity_id: String(entityId),
        base_version: baseVersion,
        device_time: this.deviceTime(),
        payload,
      },
      this.adapter.uuid,
    );
    this.changed();
    return record;
  }

  /** Where the phone is, now (at the shutter): the capture fix fields of server/capture.py. */
  async captureFix() {
    const fix = await this.adapter.location.current();
    const out = {
      longitude: fix.longitude,
      latitude: fix.latitude,
      coordinate_system: fix.coordinate_system,
      device_time: this.deviceTime(),
    };
    if (fix.accuracy_m != null) out.accuracy_m = fix.accuracy_m;
    if (fix.fix_time) out.fix_time = fix.fix_time;
    return out;
  }

  /**
   * A photo taken: hash it on the phone (SHA-256), keep the file until the server holds it, queue
   * its `photo.record` operation (the manifest: photo_type, task or outlet, the capture fix), and
   * send the file after the record is answered. `file`: what the adapter's files understand (a
   * Blob in a browser, a wx temp file path, a path in Node).
   */
  async recordPhoto({ photoId, file, manifest }) {
    const size = await this.adapter.files.size(file);
    const limit = this.mediaLimitsCache?.max_bytes;
    if (limit && size > limit) {
      // Refused before it enters the queue: the server would refuse the file (413 media_too_large).
      throw new ApiError(413, {
        code: "media_too_large",
        message: `照片 ${size} 字节，超过上限 ${limit} 字节。`,
        details: { max_bytes: limit },
      });
    }
    const sha256 = await this.adapter.hash.sha256(file);
    // The same bytes already kept (or sent) for another photo: one file to send, kept once.
    const existing = this.uploads.get(sha256);
    const fresh = !existing && Boolean(this.adapter.files.keep);
    const kept = existing ? existing.file : fresh ? await this.adapter.files.keep(file) : file;
    // The file's entry first, under the op id its record will have: a crash between the two writes
    // leaves an entry waiting for a record that never comes (harmless), never a record whose file
    // the phone has forgotten.
    const opId = this.adapter.uuid();
    try {
      await this.uploads.add({ sha256, size, file: kept, opId });
      return await this.enqueue("photo.record", photoId, { ...manifest, sha256 }, { opId });
    } catch (error) {
      // Not queued (storage full): the kept copy would be orphaned.
      await this.uploads.forget(sha256, opId);
      if (fresh && this.adapter.files.release) await this.adapter.files.release(kept);
      throw error;
    } finally {
      this.changed();
    }
  }

  /** The user has seen a conflict or a rejection: drop it from the list. */
  async dismiss(opId) {
    const record = this.queue.byOpId(opId);
    if (record && isAnswered(record)) await this.queue.drop(record);
    this.changed();
  }

  // --- Sync ----------------------------------------------------------------------------------------

  /**
   * One sync: clock, limits, reconcile (once per start), push, held operations' news, photo files,
   * pull. Failures without an answer (no signal, 5xx, 429) are retried with backoff and jitter up
   * to backoff.attempts times; then the client waits for the next call ("offline"). A revoked
   * token stops it ("signed_out") with the queue intact. Concurrent calls share one run.
   */
  sync() {
    if (!this.running) {
      this.running = this.runWithRetries().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  async runWithRetries() {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.syncOnce();
        this.lastSyncAt = new Date(this.adapter.clock.now()).toISOString();
        await this.storage.set("last_sync", this.lastSyncAt);
        this.lastError = null;
        this.nextRetryAt = null;
        this.setPhase("idle");
        return this.state();
      } catch (error) {
        if (error instanceof ApiError && error.signedOut) {
          this.lastError = { code: error.code, message: error.message };
          await this.forgetToken();
          return this.state();
        }
        if (!error.transient) {
          this.lastError = { code: error.code ?? "client_error", message: error.message };
          this.setPhase("idle");
          this.events.emit("error", this.lastError);
          throw error;
        }
        this.lastError = { code: error.code ?? "network", message: error.message };
        if (attempt >= this.backoff.attempts) {
          this.nextRetryAt = null;
          this.setPhase("offline");
          return this.state();
        }
        const delay = backoffDelay(attempt, this.backoff, this.adapter.random, error.retryAfterMs ?? 0);
        this.nextRetryAt = this.adapter.clock.now() + delay;
        this.setPhase("waiting");
        await this.adapter.clock.sleep(delay);
      }
    }
  }

  async syncOnce() {
    if (!this.auth?.token) throw new ApiError(401, { code: "not_authenticated", message: "请先登录。" });
    if (!this.clock || this.adapter.clock.now() - this.clock.measured_at > CLOCK_MAX_AGE_MS) {
      this.setPhase("measuring");
      await this.measureClock();
    }
    const limits = await this.limits();
    if (!this.reconciled) {
      this.setPhase("reconciling");
      await this.reconcile();
    }
    const heldBefore = this.queue.inState("held");
    this.setPhase("pushing");
    await this.push(limits, this.queue.inState("pending"));
    // Held operations move on the server when what they wait for arrives: a replay of the same
    // operation is answered `duplicate` with where it stands now.
    await this.push(limits, heldBefore.filter((r) => r.state === "held"));
    await this.queue.prune(this.journalSize);
    this.setPhase("uploading");
    await this.sendPhotos();
    this.setPhase("pulling");
    await this.pull();
  }

  // --- Push -------------------------------------------------------------------------------------------

  /** POST /sync/push in batches within the server's limits (max_ops, max_bytes), in seq order. */
  async push(limits, records) {
    let failedRetry = null;
    let perBatch = limits.max_ops;
    let index = 0;
    while (index < records.length) {
      const batch = this.batch(records.slice(index), { ...limits, max_ops: perBatch });
      if (batch.tooLarge) {
        await this.answer(batch.tooLarge, tooLargeAnswer(batch.tooLarge, limits));
        index += 1;
        continue;
      }
      let body;
      try {
        body = await this.api("POST", PATHS.push, {
          json: { device_id: this.device.id, device_time: this.deviceTime(), ops: batch.records.map((r) => r.op) },
        });
      } catch (error) {
        if (!(error instanceof ApiError) || error.transient || error.signedOut) throw error;
        if (error.code === "batch_too_large" && perBatch > 1) {
          perBatch = Math.max(1, Math.floor(batch.records.length / 2)); // the limits changed under us
          continue;
        }
        if (batch.records.length > 1) {
          perBatch = 1; // find the one operation the server cannot read, without holding back the rest
          continue;
        }
        // Refused before the server journaled it (the batch as a whole was unreadable): `local`, so
        // that reconcile does not send it back as missing.
        const [only] = batch.records;
        await this.answer(only, {
          op_id: only.op.op_id,
          status: "rejected",
          code: error.code,
          message: error.message,
          details: error.details,
          local: true,
        });
        index += 1;
        continue;
      }
      const byId = new Map(body.results.map((result) => [result.op_id, result]));
      for (const record of batch.records) {
        const result = byId.get(record.op.op_id);
        if (!result) continue; // not answered: stays pending, sent again
        if (await this.answer(record, result)) failedRetry = result;
      }
      index += batch.records.length;
    }
    if (failedRetry) {
      // The server failed on an operation it did not keep (server_error, details.retry): it is
      // still pending; the whole sync is retried with backoff.
      throw new ApiError(500, failedRetry);
    }
  }

  /** The next batch: as many operations as max_ops and max_bytes allow, at least one. */
  batch(records, limits) {
    const envelope = jsonBytes({ device_id: this.device.id, device_time: this.deviceTime(), ops: [] });
    const budget = limits.max_bytes - PUSH_BODY_MARGIN;
    const chosen = [];
    let size = envelope;
    for (const record of records) {
      if (chosen.length >= limits.max_ops) break;
      const opSize = jsonBytes(record.op) + (chosen.length ? 1 : 0);
      if (size + opSize > budget) {
        if (!chosen.length) return { records: [], tooLarge: record };
        break;
      }
      chosen.push(record);
      size += opSize;
    }
    return { records: chosen };
  }

  /** Apply one per-operation answer. Returns true when the server asks for it again later. */
  async answer(record, result) {
    const duplicate = result.status === "duplicate";
    const effective = duplicate ? result.first : result;
    if (effective.status === "rejected" && effective.code === "server_error" && effective.details?.retry) {
      return true;
    }
    const state = {
      applied: "applied",
      held: "held",
      conflict: "conflict",
      rejected: "rejected",
      expired: "expired",
      too_large: "too_large",
    }[effective.status];
    if (!state) return false; // an answer this client does not know: keep the operation, ask again
    record.state = state;
    record.answer = effective;
    record.duplicate = record.duplicate || duplicate;
    record.answered_at = new Date(this.adapter.clock.now()).toISOString();
    await this.queue.save(record);
    if (record.op.type === "photo.record") {
      await this.uploads.recordAnswered(record.op.op_id, !["rejected", "expired", "too_large"].includes(state));
    }
    this.events.emit("answer", { record, status: effective.status, duplicate });
    this.changed();
    return false;
  }

  // --- Reconcile --------------------------------------------------------------------------------------

  /**
   * POST /sync/reconcile: what the phone believes the server has (answered operations it still
   * keeps, files it sent). What the server lacks (a server restored from a backup, a lost write) is
   * sent again: operations back to pending with the same op id and seq, files back to ready.
   * Content hashes are left out: the server's is over its own canonical JSON (Python's), which a
   * client cannot reproduce exactly; a resend of changed content is refused as op_id_reused anyway.
   */
  async reconcile() {
    const believed = this.queue
      .all()
      .filter((r) => r.state !== "pending" && r.state !== "too_large" && !r.answer?.local)
      .slice(-RECONCILE_MAX);
    const media = this.uploads
      .all()
      .filter((u) => u.state === "done")
      .map((u) => u.sha256)
      .slice(-RECONCILE_MAX);
    if (!believed.length && !media.length) {
      this.reconciled = true;
      return { missing: [], media: { missing: [] } };
    }
    const answer = await this.api("POST", PATHS.reconcile, {
      json: { device_id: this.device.id, ops: believed.map((r) => ({ op_id: r.op.op_id })), media },
    });
    for (const opId of answer.missing) {
      const record = this.queue.byOpId(opId);
      if (!record) continue;
      record.state = "pending";
      record.answer = null;
      await this.queue.save(record);
    }
    for (const held of answer.held) {
      const record = this.queue.byOpId(held.op_id);
      if (!record) continue;
      record.state = "held";
      record.answer = { ...record.answer, status: "held", waits_for: held.waits_for };
      await this.queue.save(record);
    }
    for (const sha256 of answer.media?.missing ?? []) {
      const upload = this.uploads.get(sha256);
      if (!upload) continue;
      upload.state = "ready";
      upload.upload_id = null;
      upload.offset = 0;
      await this.uploads.save(upload);
    }
    this.reconciled = true;
    this.changed();
    return answer;
  }

  // --- Photo files -------------------------------------------------------------------------------------

  async sendPhotos() {
    const ready = this.uploads.all().filter((u) => u.state === "ready");
    if (!ready.length) return;
    const limits = await this.mediaLimits();
    for (const record of ready) {
      await sendFile({
        api: (method, path, options) => this.api(method, path, options),
        adapter: this.adapter,
        limits,
        record,
        save: async (r) => {
          await this.uploads.save(r);
          this.events.emit("upload", r);
          this.changed();
        },
        multipart: this.adapter.upload?.multipart ? (r) => this.sendWhole(r) : null,
      });
      if (record.state === "done" && this.adapter.files.release) await this.adapter.files.release(record.file);
    }
  }

  /** POST /media: the file alone, as multipart (file + sha256), sent by the adapter from the file. */
  async sendWhole(record) {
    const headers = { Accept: "application/json", "Accept-Language": this.language };
    if (this.auth?.token) headers.Authorization = `Bearer ${this.auth.token}`;
    const response = await this.adapter.upload.multipart({
      url: this.baseUrl + PATHS.media,
      headers,
      file: record.file,
      name: "file",
      fields: { sha256: record.sha256 },
    });
    return expectOk(response);
  }

  // --- Pull ------------------------------------------------------------------------------------------

  /** GET /sync/pull from the kept cursor, page after page, into the local store ("rec:<entity>:<id>").
   * A page's changes are written before the cursor moves, so a crash between repeats a page, which
   * writes the same rows again. Tombstones (deleted: true) are kept, without data. */
  async pull() {
    for (;;) {
      const page = await this.api("GET", PATHS.pull, { query: { cursor: String(this.cursor) } });
      for (const change of page.changes) {
        const key = `rec:${change.entity}:${change.id}`;
        const current = await this.storage.get(key);
        if (current && current.seq >= change.seq) continue;
        await this.storage.set(key, {
          entity: change.entity,
          id: change.id,
          version: change.version,
          deleted: change.deleted,
          data: change.deleted ? null : change.data,
          seq: change.seq,
        });
      }
      this.cursor = page.cursor;
      await this.storage.set("cursor", this.cursor);
      this.changed();
      if (!page.more || !page.changes.length) return;
    }
  }

  /** A pulled object (a tombstone has deleted: true and data null), or undefined. */
  async record(entity, id) {
    return this.storage.get(`rec:${entity}:${id}`);
  }

  /** Every pulled object of an entity type; tombstones only when asked. */
  async records(entity, { tombstones = false } = {}) {
    const out = [];
    for (const key of await this.storage.keys(`rec:${entity}:`)) {
      const record = await this.storage.get(key);
      if (record && (tombstones || !record.deleted)) out.push(record);
    }
    return out;
  }
}

// OpIn (mobile_api/sync.py): a batch with one unreadable operation is refused whole, so these are
// refused here, when the user can still be told.
function checkOp(type, entityId, payload) {
  if (typeof type !== "string" || !type || type.length > 64) throw new TypeError("type: 1 to 64 characters");
  const id = String(entityId ?? "");
  if (!id || id.length > 64) throw new TypeError("entity_id: 1 to 64 characters");
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) throw new TypeError("payload: an object");
}

function tooLargeAnswer(record, limits) {
  return {
    op_id: record.op.op_id,
    status: "too_large",
    code: "batch_too_large",
    message: `该操作超过一次推送 ${limits.max_bytes} 字节的上限，无法发送。`,
    local: true,
  };
}

/** What a held operation waits for, in plain words (waits_for as sync/engine.py writes it). */
export function describeWait(waitsFor) {
  if (!waitsFor) return "等待服务器处理";
  switch (waitsFor.kind) {
    case "device_seq":
      return `等待本机更早的第 ${waitsFor.seq} 项操作到达服务器`;
    case "op":
      return "等待本机对同一对象的前一项操作处理完";
    case "entity":
      return `等待其他手机上传所需的${waitsFor.entity === "task" ? "任务" : waitsFor.entity}（${waitsFor.id}）`;
    case "stages": {
      const missing = Array.isArray(waitsFor.missing) ? waitsFor.missing.join("、") : "";
      return missing ? `等待前一环节的照片：${missing}` : "等待前一环节的照片";
    }
    default:
      return "等待前置数据到达服务器";
  }
}
