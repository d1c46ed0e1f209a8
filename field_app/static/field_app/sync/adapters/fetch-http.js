// HTTP over fetch (browsers, Node 18+): the adapter's http.request and upload.multipart.

import { NetworkError } from "../wire.js";

export function fetchHttp({ fetch: fetchImpl = globalThis.fetch, timeoutMs = 60000 } = {}) {
  async function send(url, init) {
    // A request that hangs is a request without an answer: abort it and let the client retry.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let response;
    try {
      response = await fetchImpl(url, { ...init, signal: controller.signal });
      const text = await response.text();
      return { status: response.status, headers: Object.fromEntries(response.headers.entries()), body: parse(text) };
    } catch (error) {
      throw new NetworkError(error?.message ?? String(error), error);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    request({ method, url, headers, body }) {
      return send(url, { method, headers, body });
    },

    /** The file as multipart form data (`name`), with `fields` beside it. `toBlob` turns the
     * adapter's file reference into a Blob. */
    multipartWith(toBlob) {
      return async ({ url, headers, file, name, fields }) => {
        const form = new FormData();
        for (const [key, value] of Object.entries(fields ?? {})) form.append(key, String(value));
        form.append(name, await toBlob(file), "photo.jpg");
        return send(url, { method: "POST", headers, body: form });
      };
    },
  };
}

function parse(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
