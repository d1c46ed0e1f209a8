// Photo files, sent after their record: one entry per file ("upl:<sha256>"), kept until the server
// holds the file. The server's resumable protocol (mobile_api/photos.py, media_rules/intake.py):
//
//   POST /media/uploads {sha256, size}      -> {id, offset, complete, chunk_max_bytes, ...}
//        (complete=true, id=null: the server holds the file already; the same file again returns
//        the unfinished upload with the bytes it holds, so a restart continues where it stopped)
//   PUT  /media/uploads/{id}?offset=N <raw bytes, at most chunk_max_bytes>  -> the same shape
//        (409 upload_offset_mismatch: details.received is where to go on;
//         410 upload_expired: start again; 422 media_hash_mismatch: the file is not what was declared)
//
// A file that fits in one chunk goes as one multipart POST /media (file + sha256) when the adapter
// can send a file itself (wx.uploadFile reads it from disk, not through JavaScript).

import { ApiError, PATHS } from "./wire.js";

const UPL = "upl:";

// waiting: its photo.record has not been answered; ready: to send; done: the server holds it;
// failed: the server refused the file (too large, not an image…), said with its message;
// abandoned: every record naming it was rejected, so nothing would use it.
export const UPLOAD_STATES = ["waiting", "ready", "done", "failed", "abandoned"];

export class Uploads {
  constructor(storage) {
    this.storage = storage;
    this.records = new Map();
  }

  async load() {
    this.records.clear();
    for (const key of await this.storage.keys(UPL)) {
      const record = await this.storage.get(key);
      if (record) this.records.set(record.sha256, record);
    }
    return this;
  }

  get(sha256) {
    return this.records.get(sha256);
  }

  all() {
    return [...this.records.values()];
  }

  async save(record) {
    await this.storage.set(UPL + record.sha256, record);
    this.records.set(record.sha256, record);
  }

  async remove(record) {
    await this.storage.remove(UPL + record.sha256);
    this.records.delete(record.sha256);
  }

  /** The file of a photo record `opId`; the same bytes for two photos are one file to send. */
  async add({ sha256, size, file, opId }) {
    const existing = this.records.get(sha256);
    const record = existing ?? { sha256, size, file, ops: {}, state: "waiting", upload_id: null, offset: 0 };
    record.ops[opId] = "waiting";
    if (record.state === "abandoned") record.state = "waiting";
    await this.save(record);
    return record;
  }

  /** Undo `add` for a record that could not be queued. */
  async forget(sha256, opId) {
    const record = this.records.get(sha256);
    if (!record) return;
    delete record.ops[opId];
    if (Object.keys(record.ops).length) await this.save(record).catch(() => {});
    else await this.remove(record).catch(() => {});
  }

  /** Its photo record was answered: `accepted` (applied, duplicate, held, conflict) or not. */
  async recordAnswered(opId, accepted) {
    for (const record of this.records.values()) {
      if (!(opId in record.ops)) continue;
      record.ops[opId] = accepted ? "accepted" : "rejected";
      const answers = Object.values(record.ops);
      if (record.state === "waiting" && answers.includes("accepted")) record.state = "ready";
      if (record.state === "waiting" && answers.every((a) => a === "rejected")) record.state = "abandoned";
      await this.save(record);
    }
  }
}

/** Send one file until the server holds it. Transient failures (no signal, 5xx) propagate: the
 * caller retries later and this continues from the bytes the server holds. */
export async function sendFile({ api, adapter, limits, record, save, multipart }) {
  if (record.size > limits.max_bytes) {
    return refuse(record, save, "media_too_large", `照片超过 ${limits.max_bytes} 字节的上限，无法上传。`);
  }
  try {
    if (multipart && record.size <= limits.chunk_max_bytes) {
      await multipart(record);
    } else {
      await sendResumably({ api, adapter, record, save });
    }
  } catch (error) {
    if (error instanceof ApiError && !error.transient && !error.signedOut) {
      return refuse(record, save, error.code, error.message);
    }
    throw error;
  }
  record.state = "done";
  record.upload_id = null;
  record.error = null;
  await save(record);
  return record;
}

async function sendResumably({ api, adapter, record, save }) {
  for (let restarts = 0; restarts < 3; restarts++) {
    const start = await api("POST", PATHS.uploads, { json: { sha256: record.sha256, size: record.size } });
    if (start.complete) return;
    record.upload_id = start.id;
    record.offset = start.offset;
    await save(record);
    try {
      await sendChunks({ api, adapter, record, save, chunk: start.chunk_max_bytes });
      return;
    } catch (error) {
      // The upload outlived its lifetime (MEDIA_UPLOAD_TTL_HOURS) while the phone was offline:
      // starting again makes a new one.
      if (!(error instanceof ApiError && error.code === "upload_expired")) throw error;
    }
  }
  throw new ApiError(410, { code: "upload_expired", message: "上传多次过期，请稍后重试。" });
}

async function sendChunks({ api, adapter, record, save, chunk }) {
  while (record.offset < record.size) {
    const end = Math.min(record.size, record.offset + chunk);
    const bytes = await adapter.files.read(record.file, record.offset, end);
    let answer;
    try {
      answer = await api("PUT", `${PATHS.upload(record.upload_id)}?offset=${record.offset}`, { bytes });
    } catch (error) {
      // The server holds a different count (a chunk whose answer was lost did arrive): go on
      // from what it holds.
      if (error instanceof ApiError && error.code === "upload_offset_mismatch") {
        record.offset = Number(error.details?.received ?? 0);
        await save(record);
        continue;
      }
      throw error;
    }
    record.offset = answer.offset;
    await save(record);
    if (answer.complete) return;
  }
}

async function refuse(record, save, code, message) {
  record.state = "failed";
  record.error = { code, message };
  await save(record);
  return record;
}
