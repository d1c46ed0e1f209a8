// Storage in memory: for tests, and for a Node script that does not need to outlive itself. Two
// clients opened on the same MemoryStorage are one phone before and after a restart. Values go
// through JSON, as every real storage stores them, so that nothing shared by reference hides a
// missing save.

export class MemoryStorage {
  constructor() {
    this.map = new Map();
  }

  async get(key) {
    const text = this.map.get(key);
    return text === undefined ? undefined : JSON.parse(text);
  }

  async set(key, value) {
    this.map.set(key, JSON.stringify(value));
  }

  async remove(key) {
    this.map.delete(key);
  }

  /** Keys starting with `prefix`, sorted (the queue's keys sort in seq order). */
  async keys(prefix = "") {
    return [...this.map.keys()].filter((key) => key.startsWith(prefix)).sort();
  }
}

/** Bytes held in memory as files: `ref` is a name. For tests of hashing and uploads. */
export class MemoryFiles {
  constructor(files = {}) {
    this.files = new Map(Object.entries(files));
  }

  async size(ref) {
    return this.bytes(ref).length;
  }

  async read(ref, start, end) {
    return this.bytes(ref).slice(start, end);
  }

  bytes(ref) {
    const bytes = this.files.get(ref);
    if (!bytes) throw new Error(`no such file: ${ref}`);
    return bytes;
  }
}
