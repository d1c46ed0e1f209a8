// Browser adapter (an H5 page in WeChat's browser, a native web view, a desktop browser):
// IndexedDB for storage and for the photos' bytes until they are sent, fetch for HTTP,
// navigator.geolocation for the capture fix, crypto.subtle for SHA-256.

import { fetchHttp } from "./fetch-http.js";

const FILE_PREFIX = "idb-file:";

export function browserAdapter({ dbName = "fieldtrace-sync", timeoutMs = 60000, fetch } = {}) {
  const db = openDatabase(dbName);
  const http = fetchHttp({ fetch, timeoutMs });
  const files = browserFiles(db);
  return {
    platform: "web",
    modelName: globalThis.navigator?.userAgent?.slice(0, 100) ?? "",
    storage: indexedDbStorage(db),
    http,
    files,
    hash: { sha256: (file) => subtleSha256(files, file) },
    upload: { multipart: http.multipartWith((file) => files.blob(file)) },
    location: { current: () => browserFix(globalThis.navigator) },
    clock: { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
    random: Math.random,
    uuid: () => globalThis.crypto.randomUUID(),
  };
}

/** One database, two object stores: "kv" (the client's values) and "files" (photo Blobs). */
export function openDatabase(name, indexedDB = globalThis.indexedDB) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore("kv");
      request.result.createObjectStore("files");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function run(db, storeName, mode, action) {
  return db.then(
    (database) =>
      new Promise((resolve, reject) => {
        const transaction = database.transaction(storeName, mode);
        const request = action(transaction.objectStore(storeName));
        // Resolved when the transaction commits, not when the request succeeds: only then is a
        // write on disk (a tab closed in between would lose it).
        transaction.oncomplete = () => resolve(request.result);
        transaction.onerror = () => reject(transaction.error);
        transaction.onabort = () => reject(transaction.error ?? new Error("IndexedDB transaction aborted"));
      }),
  );
}

export function indexedDbStorage(db) {
  return {
    get: (key) => run(db, "kv", "readonly", (store) => store.get(key)),
    set: (key, value) => run(db, "kv", "readwrite", (store) => store.put(value, key)).then(() => undefined),
    remove: (key) => run(db, "kv", "readwrite", (store) => store.delete(key)).then(() => undefined),
    keys: (prefix = "") =>
      run(db, "kv", "readonly", (store) => store.getAllKeys(IDBKeyRange.bound(prefix, `${prefix}\uffff`))).then(
        (keys) => keys.map(String).sort(),
      ),
  };
}

/** Photos arrive as Blobs (a File from <input type=file capture>); `keep` stores the Blob in
 * IndexedDB and gives back a string reference that survives the page being closed. */
function browserFiles(db) {
  const blob = async (ref) => {
    if (typeof ref !== "string") return ref;
    const stored = await run(db, "files", "readonly", (store) => store.get(ref.slice(FILE_PREFIX.length)));
    if (!stored) throw new Error(`photo file ${ref} is no longer on this phone`);
    return stored;
  };
  return {
    blob,
    async size(ref) {
      return (await blob(ref)).size;
    },
    async read(ref, start, end) {
      return new Uint8Array(await (await blob(ref)).slice(start, end).arrayBuffer());
    },
    async keep(file) {
      if (typeof file === "string") return file;
      const id = globalThis.crypto.randomUUID();
      await run(db, "files", "readwrite", (store) => store.put(file, id));
      return FILE_PREFIX + id;
    },
    async release(ref) {
      if (typeof ref === "string") await run(db, "files", "readwrite", (store) => store.delete(ref.slice(FILE_PREFIX.length)));
    },
  };
}

/** SHA-256 by the browser's own crypto (a photo of a few MB is read whole once). */
export async function subtleSha256(files, file, subtle = globalThis.crypto.subtle) {
  const size = await files.size(file);
  const digest = await subtle.digest("SHA-256", await files.read(file, 0, size));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The capture fix at the shutter. The W3C Geolocation API gives WGS-84. Its timestamp is the
 * phone's clock, not the fix's own time, so no fix_time is sent (server/capture.py). */
export function browserFix(navigator, { timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    if (!navigator?.geolocation) {
      reject(new Error("geolocation unavailable"));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) =>
        resolve({
          longitude: position.coords.longitude,
          latitude: position.coords.latitude,
          accuracy_m: position.coords.accuracy ?? null,
          coordinate_system: "wgs84",
        }),
      (error) => reject(new Error(error?.message || "geolocation refused")),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 0 },
    );
  });
}
