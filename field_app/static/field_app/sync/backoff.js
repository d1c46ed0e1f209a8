// Retry delays: exponential, capped, with jitter so that a hundred phones coming back into signal
// at the same moment do not retry in step. "Equal jitter": at least half the step, so a retry never
// comes right back at a server that has just said it is busy.

export const DEFAULT_BACKOFF = { baseMs: 1000, capMs: 5 * 60 * 1000, attempts: 6 };

/** The delay before retry number `attempt` (1, 2, 3…); `random` in [0, 1). A server's Retry-After
 * is a floor, never shortened by jitter. */
export function backoffDelay(attempt, { baseMs, capMs } = DEFAULT_BACKOFF, random = Math.random, floorMs = 0) {
  const step = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = step / 2 + random() * (step / 2);
  return Math.max(Math.round(jittered), floorMs);
}
