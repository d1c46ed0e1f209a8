// A faithful fake of the WeChat APIs the wx adapter calls, as WeChat documents them
// (developers.weixin.qq.com/miniprogram/dev/api/): callback style (success / fail / complete, an
// errMsg on failure), wx.setStorage's limits (1 MB a key, 10 MB in all), wx.getStorage failing on a
// key never written, wx.request's statusCode / header / data (a string unless dataType is "json"),
// wx.uploadFile's data always a string, FileSystemManager.readFile's position and length ranges,
// saveFile moving the temp file, getLocation needing type and answering in the system asked for.
// Requests are handed to a FakeServer (fakes.mjs) instead of the network.

import { createHash } from "node:crypto";

const KB = 1024;

export class FakeWx {
  constructor({ server, files = {}, location = { longitude: 121.4411, latitude: 31.1861 }, sha256Digest = true } = {}) {
    this.server = server;
    this.store = new Map(); // key -> JSON text (WeChat stores what JSON.stringify gives)
    this.fsFiles = new Map(Object.entries(files)); // path -> Uint8Array
    this.location = location;
    this.sha256Digest = sha256Digest; // older base libraries know md5 and sha1 only
    this.calls = [];
    this.offline = false;
    this.saved = 0;
  }

  done(options, result) {
    const res = { errMsg: `${options.__api}:ok`, ...result };
    options.success?.(res);
    options.complete?.(res);
  }

  failed(options, message) {
    const res = { errMsg: `${options.__api}:fail ${message}` };
    options.fail?.(res);
    options.complete?.(res);
  }

  api(name, options, body) {
    this.calls.push({ name, options });
    const tagged = { ...options, __api: name };
    // WeChat answers asynchronously even when it could answer at once.
    queueMicrotask(() => {
      try {
        body(tagged);
      } catch (error) {
        this.failed(tagged, error.message);
      }
    });
  }

  // --- Storage ---
  usedBytes() {
    let total = 0;
    for (const [key, text] of this.store) total += key.length + Buffer.byteLength(text);
    return total;
  }

  setStorage(options) {
    this.api("setStorage", options, (o) => {
      if (typeof o.key !== "string") return this.failed(o, "parameter error: key should be String");
      const text = JSON.stringify(o.data);
      if (Buffer.byteLength(text) > 1024 * KB) return this.failed(o, "data size exceed 1MB");
      const other = this.store.has(o.key) ? this.usedBytes() - o.key.length - Buffer.byteLength(this.store.get(o.key)) : this.usedBytes();
      if (other + o.key.length + Buffer.byteLength(text) > 10 * 1024 * KB) return this.failed(o, "exceed storage max size 10Mb");
      this.store.set(o.key, text);
      this.done(o, {});
    });
  }

  getStorage(options) {
    this.api("getStorage", options, (o) => {
      if (!this.store.has(o.key)) return this.failed(o, "data not found");
      this.done(o, { data: JSON.parse(this.store.get(o.key)) });
    });
  }

  removeStorage(options) {
    this.api("removeStorage", options, (o) => {
      this.store.delete(o.key);
      this.done(o, {});
    });
  }

  getStorageInfo(options) {
    this.api("getStorageInfo", options, (o) =>
      this.done(o, { keys: [...this.store.keys()], currentSize: Math.ceil(this.usedBytes() / KB), limitSize: 10 * 1024 }),
    );
  }

  // --- Network ---
  request(options) {
    this.api("request", options, async (o) => {
      if (!/^https?:\/\//.test(o.url)) return this.failed(o, "invalid url");
      const method = (o.method ?? "GET").toUpperCase();
      if (!["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "TRACE", "CONNECT"].includes(method)) {
        return this.failed(o, "invalid method");
      }
      if (this.offline) return this.failed(o, "timeout");
      let body = o.data;
      if (body instanceof ArrayBuffer) body = new Uint8Array(body);
      else if (body !== undefined && typeof body !== "string") body = JSON.stringify(body); // WeChat serialises objects
      try {
        const response = await this.server.request({ method, url: o.url, headers: o.header ?? {}, body });
        const text = response.body == null ? "" : JSON.stringify(response.body);
        const data = (o.dataType ?? "json") === "json" ? parseOrText(text) : text;
        this.done(o, { data, statusCode: response.status, header: response.headers ?? {}, cookies: [] });
      } catch (error) {
        this.failed(o, error.message);
      }
    });
  }

  uploadFile(options) {
    this.api("uploadFile", options, async (o) => {
      if (!o.url || !o.filePath || !o.name) return this.failed(o, "parameter error");
      if (this.offline) return this.failed(o, "timeout");
      const data = this.fsFiles.get(o.filePath);
      if (!data) return this.failed(o, `file not found: ${o.filePath}`);
      // Form fields travel as strings, as in any multipart body.
      const fields = Object.fromEntries(Object.entries(o.formData ?? {}).map(([k, v]) => [k, String(v)]));
      try {
        const response = await this.server.request({ method: "POST", url: o.url, headers: o.header ?? {}, body: { fields, name: o.name, bytes: data } });
        this.done(o, { data: response.body == null ? "" : JSON.stringify(response.body), statusCode: response.status });
      } catch (error) {
        this.failed(o, error.message);
      }
    });
    return { onProgressUpdate() {}, abort() {} };
  }

  // --- Location ---
  getLocation(options) {
    this.api("getLocation", options, (o) => {
      const type = o.type ?? "wgs84";
      this.lastLocationType = type;
      this.done(o, { ...this.location, speed: 0, accuracy: 12, altitude: 0, verticalAccuracy: 0, horizontalAccuracy: 12 });
    });
  }

  getDeviceInfo() {
    return { brand: "HUAWEI", model: "Mate 60", system: "Android 14", platform: "android" };
  }

  // --- Files ---
  getFileSystemManager() {
    const wx = this;
    return {
      getFileInfo(options) {
        wx.api("getFileInfo", options, (o) => {
          const data = wx.fsFiles.get(o.filePath);
          if (!data) return wx.failed(o, `no such file or directory ${o.filePath}`);
          const algorithm = o.digestAlgorithm ?? "md5";
          const known = wx.sha256Digest ? ["md5", "sha1", "sha256"] : ["md5", "sha1"];
          const digest = createHash(known.includes(algorithm) ? algorithm : "md5").update(data).digest("hex");
          wx.done(o, { size: data.length, digest });
        });
      },
      readFile(options) {
        wx.api("readFile", options, (o) => {
          const data = wx.fsFiles.get(o.filePath);
          if (!data) return wx.failed(o, `no such file or directory ${o.filePath}`);
          const position = o.position ?? 0;
          const length = o.length ?? data.length - position;
          if (position < 0 || position > data.length - 1 || length < 1 || length > data.length) {
            return wx.failed(o, "Invalid argument");
          }
          const slice = data.slice(position, position + length);
          wx.done(o, { data: slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.byteLength) });
        });
      },
      saveFile(options) {
        wx.api("saveFile", options, (o) => {
          const data = wx.fsFiles.get(o.tempFilePath);
          if (!data) return wx.failed(o, "tempFilePath file not exist");
          const saved = o.filePath ?? `wxfile://usr/saved-${++wx.saved}.jpg`;
          wx.fsFiles.delete(o.tempFilePath); // moved: the temp path is gone
          wx.fsFiles.set(saved, data);
          wx.done(o, { savedFilePath: saved });
        });
      },
      removeSavedFile(options) {
        wx.api("removeSavedFile", options, (o) => {
          if (!wx.fsFiles.delete(o.filePath)) return wx.failed(o, "file not exist");
          wx.done(o, {});
        });
      },
    };
  }
}

function parseOrText(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
