// The browser adapter's parts that Node can run: crypto.subtle hashing, the Geolocation fix, HTTP
// over fetch. Its IndexedDB storage needs a browser: tests/field_app/test_browser_adapter.py runs
// it in Chromium.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { browserFix, subtleSha256 } from "../../../field_app/static/field_app/sync/adapters/browser.js";
import { fetchHttp } from "../../../field_app/static/field_app/sync/adapters/fetch-http.js";
import { MemoryFiles } from "../../../field_app/static/field_app/sync/adapters/memory.js";
import { NetworkError } from "../../../field_app/static/field_app/sync/wire.js";

test("crypto.subtle's SHA-256 of a photo is the server's lowercase hex", async () => {
  const data = new Uint8Array(300_000).map((_, i) => i & 0xff);
  const hex = await subtleSha256(new MemoryFiles({ photo: data }), "photo");
  assert.equal(hex, createHash("sha256").update(data).digest("hex"));
});

test("the browser's fix is WGS-84 with its accuracy, and no fix time (it is the phone's clock)", async () => {
  let asked;
  const navigator = {
    geolocation: {
      getCurrentPosition(ok, _fail, options) {
        asked = options;
        ok({ coords: { longitude: 121.4365, latitude: 31.188, accuracy: 8 }, timestamp: 1 });
      },
    },
  };
  assert.deepEqual(await browserFix(navigator), { longitude: 121.4365, latitude: 31.188, accuracy_m: 8, coordinate_system: "wgs84" });
  assert.equal(asked.enableHighAccuracy, true);
  assert.equal(asked.maximumAge, 0, "taken at the shutter, not an old fix");
  const refusing = { geolocation: { getCurrentPosition: (_ok, fail) => fail({ message: "User denied Geolocation" }) } };
  await assert.rejects(browserFix(refusing), /denied/);
  await assert.rejects(browserFix({}), /unavailable/);
});

test("fetch: JSON answers parsed, headers kept, no answer or a hung request is a NetworkError", async () => {
  const ok = fetchHttp({
    fetch: async () => new Response(JSON.stringify({ code: "database_unavailable" }), { status: 503, headers: { "Retry-After": "5" } }),
  });
  const answer = await ok.request({ method: "GET", url: "http://x/api/v1/meta", headers: {} });
  assert.deepEqual([answer.status, answer.body.code, answer.headers["retry-after"]], [503, "database_unavailable", "5"]);
  const down = fetchHttp({ fetch: async () => Promise.reject(new TypeError("fetch failed")) });
  await assert.rejects(down.request({ method: "GET", url: "http://x/", headers: {} }), NetworkError);
  const hung = fetchHttp({
    timeoutMs: 20,
    fetch: (_url, { signal }) => new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")))),
  });
  await assert.rejects(hung.request({ method: "GET", url: "http://x/", headers: {} }), NetworkError);
});
