// Node (20+): fetch for HTTP, files by path on disk, node:crypto for SHA-256, a fixed location.
// Storage is in memory unless one is given. Used by tests and by scripts that play a phone
// against a real server (tests/field_app/test_client_against_server.py).

import { createHash, randomUUID } from "node:crypto";
import { open, readFile, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

import { MemoryStorage } from "./memory.js";
import { fetchHttp } from "./fetch-http.js";

export function nodeAdapter({ storage = new MemoryStorage(), fetch, location, platform = "android", timeoutMs } = {}) {
  const http = fetchHttp({ fetch, timeoutMs });
  return {
    platform,
    modelName: `node ${process.version}`,
    storage,
    http,
    files: {
      async size(path) {
        return (await stat(path)).size;
      },
      async read(path, start, end) {
        const handle = await open(path, "r");
        try {
          const buffer = new Uint8Array(end - start);
          const { bytesRead } = await handle.read(buffer, 0, end - start, start);
          return buffer.subarray(0, bytesRead);
        } finally {
          await handle.close();
        }
      },
    },
    hash: {
      async sha256(path) {
        return createHash("sha256").update(await readFile(path)).digest("hex");
      },
    },
    upload: {
      multipart: http.multipartWith(async (path) => new Blob([await readFile(path)])),
    },
    location: {
      // A script says where its phone is; there is no GPS to ask.
      async current() {
        if (!location) throw new Error("no location given to the Node adapter");
        return { coordinate_system: "wgs84", ...location };
      },
    },
    clock: { now: () => Date.now(), sleep: (ms) => sleep(ms) },
    random: Math.random,
    uuid: randomUUID,
  };
}
