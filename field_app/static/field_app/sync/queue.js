// The operation queue, kept in the storage adapter one operation per key ("op:<seq>"), so that a
// write is one small value (wx.setStorage takes at most 1 MB a key) and a crash loses at most the
// operation being written, never the queue.
//
// Seqs are the device's order and the server holds everything after a gap until its deadline, so a
// seq is never skipped: the operation is written first, the counter after it; on load the counter
// is at least the highest stored seq + 1, which covers a crash between the two writes.

const OP = "op:";
const SEQ = "seq";

// What an operation can be on the phone. `pending`: not answered yet (sent or not: a push whose
// answer was lost is sent again and answered `duplicate`).
export const STATES = ["pending", "held", "applied", "conflict", "rejected", "expired", "too_large"];
const ANSWERED = new Set(["applied", "conflict", "rejected", "expired", "too_large"]);

export function opKey(seq) {
  return OP + String(seq).padStart(12, "0");
}

export class OpQueue {
  constructor(storage) {
    this.storage = storage;
    this.records = new Map(); // seq -> record, in memory, mirrored to storage
    this.nextSeq = 1;
  }

  async load() {
    this.records.clear();
    const keys = await this.storage.keys(OP);
    for (const key of keys) {
      const record = await this.storage.get(key);
      if (record && record.op) this.records.set(record.op.seq, record);
    }
    const stored = (await this.storage.get(SEQ)) ?? 1;
    const highest = Math.max(0, ...this.records.keys());
    this.nextSeq = Math.max(stored, highest + 1);
    return this;
  }

  /** Queue an operation made now. `op` without op_id and seq: they are given here. */
  async add(op, uuid) {
    const seq = this.nextSeq;
    const record = {
      op: { op_id: op.op_id ?? uuid(), seq, ...withoutIds(op) },
      state: "pending",
      answer: null,
      duplicate: false,
    };
    await this.storage.set(opKey(seq), record);
    this.records.set(seq, record);
    this.nextSeq = seq + 1;
    try {
      await this.storage.set(SEQ, this.nextSeq);
    } catch {
      // The operation is stored: saying it failed would have the user record it twice. A stale
      // counter is mended on the next load, from the highest stored seq.
    }
    return record;
  }

  async save(record) {
    await this.storage.set(opKey(record.op.seq), record);
    this.records.set(record.op.seq, record);
  }

  async drop(record) {
    await this.storage.remove(opKey(record.op.seq));
    this.records.delete(record.op.seq);
  }

  /** Every operation the phone holds, in device order. */
  all() {
    return [...this.records.values()].sort((a, b) => a.op.seq - b.op.seq);
  }

  inState(...states) {
    return this.all().filter((r) => states.includes(r.state));
  }

  byOpId(opId) {
    return this.all().find((r) => r.op.op_id === opId);
  }

  /** Forget answered operations beyond the newest `keep` (conflicts and rejections stay until the
   * user has seen them: `dismiss`). Kept ones are what reconcile asks the server about. */
  async prune(keep) {
    const done = this.all().filter((r) => r.state === "applied");
    for (const record of done.slice(0, Math.max(0, done.length - keep))) await this.drop(record);
  }
}

export function isAnswered(record) {
  return ANSWERED.has(record.state);
}

function withoutIds({ op_id, seq, ...rest }) {
  return rest;
}
