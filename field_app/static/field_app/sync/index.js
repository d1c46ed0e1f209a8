// Fieldtrace's sync client: the core. Adapters are imported from ./adapters/ by the platform that
// needs them (browser.js, wx.js, node.js), so that no platform loads another's modules.
export { SyncClient, createSyncClient, describeWait } from "./client.js";
export { ApiError, NetworkError, PATHS } from "./wire.js";
export { backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";
export { Sha256, sha256Hex, sha256OfFile } from "./sha256.js";
export { MemoryStorage, MemoryFiles } from "./adapters/memory.js";
