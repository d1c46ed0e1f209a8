// The server's half of the conversation: its paths, its one error shape, and which failures are
// worth a retry. Everything here is read from the server (mobile_api/urls.py, server/errors.py).

export const API = "/api/v1";
export const PATHS = {
  meta: `${API}/meta`,
  login: `${API}/auth/login`,
  wechatLogin: `${API}/auth/wechat/login`,
  wechatBind: `${API}/auth/wechat/bind`,
  logout: `${API}/auth/logout`,
  limits: `${API}/sync/limits`,
  push: `${API}/sync/push`,
  pull: `${API}/sync/pull`,
  reconcile: `${API}/sync/reconcile`,
  mediaLimits: `${API}/media/limits`,
  media: `${API}/media`,
  uploads: `${API}/media/uploads`,
  upload: (id) => `${API}/media/uploads/${id}`,
};

/** No answer at all: offline, a timeout, the connection cut mid-request. Always worth a retry:
 * every write the client sends is idempotent (op ids, content-addressed files). */
export class NetworkError extends Error {
  constructor(message, cause) {
    super(message || "network unreachable");
    this.name = "NetworkError";
    this.cause = cause;
    this.transient = true;
  }
}

/** An answer with the server's error shape: {code, message, details}. */
export class ApiError extends Error {
  constructor(status, body, headers = {}) {
    const shaped = body && typeof body === "object" && !Array.isArray(body);
    const code = shaped && typeof body.code === "string" ? body.code : `http_${status}`;
    super(shaped && body.message ? body.message : `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = shaped ? (body.details ?? null) : null;
    this.retryAfterMs = retryAfterMs(headers);
    // 5xx (503 database_unavailable / storage_unavailable come with Retry-After), 429 throttled
    // and 408: the server could not do it now; the same request later may work.
    this.transient = status >= 500 || status === 429 || status === 408;
  }

  /** The token is gone (revoked, signed out elsewhere, expired): sign in again, keep the queue. */
  get signedOut() {
    return this.status === 401 || this.code === "device_mismatch";
  }
}

function retryAfterMs(headers) {
  const raw = header(headers, "retry-after");
  if (raw == null || raw === "") return 0;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 0;
}

/** A header by name, whatever case the platform gives it in (wx.request keeps the server's). */
export function header(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === "function") return headers.get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** Throw the answer's error unless it is a 2xx; return its body. */
export function expectOk(response) {
  if (response.status >= 200 && response.status < 300) return response.body;
  throw new ApiError(response.status, response.body, response.headers);
}

/** The UTF-8 size of a JSON body, as the server's Content-Length counts it. */
export function jsonBytes(value) {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}
