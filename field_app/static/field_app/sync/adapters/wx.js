// WeChat mini-program adapter, written to WeChat's documented APIs (developers.weixin.qq.com):
//   storage  wx.getStorage / wx.setStorage / wx.removeStorage / wx.getStorageInfo: one key holds at
//            most 1 MB and a mini-program 10 MB in all, so the client keeps one small value a key
//            and a value over 1 MB is refused here, before WeChat fails it;
//   HTTP     wx.request (JSON bodies, and raw ArrayBuffer bodies for the resumable upload's chunks);
//   upload   wx.uploadFile (multipart, the file read by WeChat from its path);
//   files    wx.getFileSystemManager(): getFileInfo (size; sha256 digest where the base library has
//            it), readFile with position/length (base library 2.10.0+), saveFile (a photo's temp
//            file is moved to the mini-program's own files, since temp files go when the app closes);
//   location wx.getLocation({type: 'gcj02'}): WeChat's maps speak GCJ-02, and the server converts
//            to WGS-84 at its boundary, so the fix is sent as coordinate_system "gcj02". WeChat gives
//            no fix time: none is sent (server/capture.py).
// Tested against a faithful fake of these calls (tests/js/sync/fake-wx.mjs), not in WeChat itself.

import { sha256OfFile } from "../sha256.js";
import { NetworkError } from "../wire.js";

export const WX_KEY_MAX_BYTES = 1024 * 1024;
export const WX_TOTAL_MAX_BYTES = 10 * 1024 * 1024;

/** Raised when WeChat's storage cannot take a value: the phone must sync (or free space) first. */
export class StorageFullError extends Error {
  constructor(message) {
    super(message);
    this.name = "StorageFullError";
    this.code = "storage_full";
  }
}

export function wxAdapter({ wx = globalThis.wx, timeoutMs = 60000, clock, random } = {}) {
  const fs = wx.getFileSystemManager();
  return {
    platform: "wechat",
    modelName: deviceModel(wx),
    storage: wxStorage(wx),
    http: {
      request({ method, url, headers, body }) {
        return new Promise((resolve, reject) => {
          wx.request({
            url,
            method,
            header: headers,
            data: body instanceof Uint8Array ? toArrayBuffer(body) : body,
            // Parsed here, not by WeChat: an empty or non-JSON answer (a proxy's error page) must
            // not fail the call.
            dataType: "text",
            responseType: "text",
            timeout: timeoutMs,
            success: (res) => resolve({ status: res.statusCode, headers: res.header ?? {}, body: parse(res.data) }),
            fail: (err) => reject(new NetworkError(err?.errMsg ?? "request:fail")),
          });
        });
      },
    },
    upload: {
      multipart({ url, headers, file, name, fields }) {
        return new Promise((resolve, reject) => {
          wx.uploadFile({
            url,
            filePath: file,
            name,
            header: headers,
            formData: fields,
            timeout: timeoutMs,
            success: (res) => resolve({ status: res.statusCode, headers: {}, body: parse(res.data) }),
            fail: (err) => reject(new NetworkError(err?.errMsg ?? "uploadFile:fail")),
          });
        });
      },
    },
    files: {
      async size(path) {
        return (await call(fs, "getFileInfo", { filePath: path })).size;
      },
      async read(path, start, end) {
        const res = await call(fs, "readFile", { filePath: path, position: start, length: end - start });
        return new Uint8Array(res.data);
      },
      async keep(path) {
        return (await call(fs, "saveFile", { tempFilePath: path })).savedFilePath;
      },
      async release(path) {
        try {
          await call(fs, "removeSavedFile", { filePath: path });
        } catch {
          // Already gone: nothing to free.
        }
      },
    },
    hash: {
      async sha256(path) {
        // The base library computes it natively where it can; the digest is checked, since older
        // ones ignore digestAlgorithm and answer MD5.
        try {
          const info = await call(fs, "getFileInfo", { filePath: path, digestAlgorithm: "sha256" });
          if (/^[0-9a-f]{64}$/i.test(info.digest ?? "")) return info.digest.toLowerCase();
        } catch {
          // fall through to the JavaScript digest
        }
        return sha256OfFile(filesOf(fs), path);
      },
    },
    location: {
      current() {
        return new Promise((resolve, reject) => {
          wx.getLocation({
            type: "gcj02",
            isHighAccuracy: true,
            highAccuracyExpireTime: 4000,
            success: (res) =>
              resolve({
                longitude: res.longitude,
                latitude: res.latitude,
                accuracy_m: res.horizontalAccuracy || res.accuracy || null,
                coordinate_system: "gcj02",
              }),
            fail: (err) => reject(new Error(err?.errMsg ?? "getLocation:fail")),
          });
        });
      },
    },
    clock: clock ?? { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
    random: random ?? Math.random,
    uuid: uuid4,
  };
}

/** wx storage as the client's key-value storage. */
export function wxStorage(wx) {
  return {
    get(key) {
      return new Promise((resolve, reject) => {
        wx.getStorage({
          key,
          success: (res) => resolve(res.data),
          // A key never written is a failure in WeChat ("getStorage:fail data not found").
          fail: (err) => (/not found/i.test(err?.errMsg ?? "") ? resolve(undefined) : reject(new Error(err?.errMsg))),
        });
      });
    },
    async set(key, value) {
      const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
      if (bytes > WX_KEY_MAX_BYTES) throw new StorageFullError(`value of ${bytes} bytes over WeChat's 1 MB a key`);
      await new Promise((resolve, reject) => {
        wx.setStorage({
          key,
          data: value,
          success: () => resolve(),
          fail: (err) => reject(new StorageFullError(err?.errMsg ?? "setStorage:fail")),
        });
      });
    },
    remove(key) {
      return new Promise((resolve) => {
        wx.removeStorage({ key, success: () => resolve(), fail: () => resolve() });
      });
    },
    keys(prefix = "") {
      return new Promise((resolve, reject) => {
        wx.getStorageInfo({
          success: (res) => resolve(res.keys.filter((k) => k.startsWith(prefix)).sort()),
          fail: (err) => reject(new Error(err?.errMsg)),
        });
      });
    },
  };
}

function call(fs, method, options) {
  return new Promise((resolve, reject) => {
    fs[method]({ ...options, success: resolve, fail: (err) => reject(new Error(err?.errMsg ?? `${method}:fail`)) });
  });
}

function filesOf(fs) {
  return {
    size: async (path) => (await call(fs, "getFileInfo", { filePath: path })).size,
    read: async (path, start, end) =>
      new Uint8Array((await call(fs, "readFile", { filePath: path, position: start, length: end - start })).data),
  };
}

function deviceModel(wx) {
  try {
    return (wx.getDeviceInfo?.() ?? {}).model ?? "";
  } catch {
    return "";
  }
}

function toArrayBuffer(bytes) {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

function parse(data) {
  if (typeof data !== "string") return data ?? null;
  if (!data) return null;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

// Op ids must be unique per device; a mini-program has no crypto.randomUUID, so v4 from the
// best randomness at hand.
function uuid4() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID();
  const hex = [];
  for (let i = 0; i < 16; i++) hex.push(Math.floor(Math.random() * 256));
  hex[6] = (hex[6] & 0x0f) | 0x40;
  hex[8] = (hex[8] & 0x3f) | 0x80;
  const s = hex.map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
