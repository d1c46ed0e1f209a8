// 监测航迹: the task's track, recorded on the phone while the task runs and sent as `track.append`
// operations (server/tracks/operations.py; the same service as POST /api/v1/tasks/{id}/track).
// Points wait in a small buffer on the phone's storage, one key per task, and go into the sync queue
// in batches: a batch is then as durable as any operation (op id, seq), and the server keeps a point
// once per (task, device, fix time), so a batch sent twice, or points queued twice after a crash
// between the enqueue and the buffer's write, are not stored twice. No DOM here (tests/js/field_app/).

export const KEY = "app:track:"; // + task id
export const BATCH_POINTS = 30; // a batch is queued at this many points…
export const BATCH_AGE_MS = 60_000; // …or when its oldest point is a minute old
export const MAX_POINTS = 500; // the server's limit a batch (server/tracks/services.py MAX_BATCH)
export const MIN_INTERVAL_MS = 1_000; // watchPosition may fire many times a second: one point a second

const number = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** A track point in the server's names (TrackPointIn) from a W3C GeolocationPosition or an adapter's
 * fix ({longitude, latitude, coordinate_system, accuracy_m, fix_time}). The fix time is the point's
 * identity on the server: the position's own timestamp, else the phone's clock `now`. */
export function pointOf(fix, now = Date.now()) {
  if (fix?.coords) {
    const c = fix.coords;
    return {
      longitude: c.longitude,
      latitude: c.latitude,
      accuracy_m: number(c.accuracy),
      fix_time: new Date(fix.timestamp || now).toISOString(),
      speed_mps: number(c.speed),
      bearing: number(c.heading),
      altitude_m: number(c.altitude),
    };
  }
  const point = {
    longitude: fix.longitude,
    latitude: fix.latitude,
    accuracy_m: number(fix.accuracy_m),
    fix_time: fix.fix_time || new Date(now).toISOString(),
  };
  if (fix.coordinate_system && fix.coordinate_system !== "wgs84") point.coordinate_system = fix.coordinate_system;
  return point;
}

export function emptyTrack() {
  return { buffer: [], since: null, recorded: 0, lastTime: null, lastAccuracy: null };
}

/** The track with `point` added, or the same object when the point is a repeat (same or earlier fix
 * time, or closer than `minIntervalMs` to the last one). `since`: when the buffer's first point came
 * (the phone's clock `now`; a fix's own time may be older, a cached or emulated position). */
export function addPoint(track, point, minIntervalMs = MIN_INTERVAL_MS, now = Date.now()) {
  const t = Date.parse(point.fix_time);
  if (!Number.isFinite(t) || !Number.isFinite(point.longitude) || !Number.isFinite(point.latitude)) return track;
  if (track.lastTime && t - Date.parse(track.lastTime) < Math.max(1, minIntervalMs)) return track;
  return {
    buffer: [...track.buffer, point],
    since: track.buffer.length ? (track.since ?? now) : now,
    recorded: track.recorded + 1,
    lastTime: point.fix_time,
    lastAccuracy: point.accuracy_m ?? null,
  };
}

/** The points to queue now ({points, rest}) or null: a full batch, a batch whose first point came
 * `BATCH_AGE_MS` ago, or everything when `force` (the task paused or ended). */
export function takeBatch(track, { now = Date.now(), force = false } = {}) {
  const buffer = track.buffer;
  if (!buffer.length) return null;
  const since = track.since ?? Date.parse(buffer[0].fix_time);
  const due = force || buffer.length >= BATCH_POINTS || now - since >= BATCH_AGE_MS;
  if (!due) return null;
  const points = buffer.slice(0, MAX_POINTS);
  const rest = buffer.slice(points.length);
  return { points, rest: { ...track, buffer: rest, since: rest.length ? now : null } };
}

/** The `track.append` payload (TrackAppendPayload): its entity is the task too. */
export function batchPayload(taskId, points) {
  return { task: String(taskId), coordinate_system: "wgs84", points };
}

/** Points of this task's track in operations the server has not answered yet (queue records). */
export function pointsInQueue(records, taskId) {
  return records
    .filter((r) => r.op.type === "track.append" && r.op.entity_id === String(taskId) && r.state === "pending")
    .reduce((n, r) => n + (r.op.payload?.points?.length ?? 0), 0);
}

/** What the task's page says of its track. */
export function trackSummary(track, inQueue, recording) {
  const t = track ?? emptyTrack();
  const waiting = t.buffer.length + inQueue;
  const parts = [`已记录 ${t.recorded} 个点`, waiting ? `待发送 ${waiting} 个点` : "已全部发送"];
  if (t.lastAccuracy != null) parts.push(`最近定位精度 ±${Math.round(t.lastAccuracy)} 米`);
  return { recorded: t.recorded, waiting, lastAccuracy: t.lastAccuracy, recording, text: parts.join(" · ") };
}

/** Is the user among the project's staff (GET /projects assignments, by the person's name, as
 * model.js postsOn reads them): the server takes points only from them (ensure_can_record). */
export function onProject(project, user) {
  const name = user?.person?.name;
  return Boolean(name) && (project?.assignments ?? []).some((a) => a.name === name);
}

/** Should this phone record the task's track: the task runs and the user works on it (a task
 * created on this phone, or the user assigned to its project). */
export function shouldRecord(task, assigned) {
  return task?.status === "running" && Boolean(task.local || assigned);
}

/**
 * Records positions for the running tasks it is told of (`setActive`). Platform behind small parts:
 * `storage` (get/set), `watch(onFix, onError) -> stop`, `enqueue(type, entityId, payload)`, `now()`,
 * `onQueued()` (after a batch is queued: sync if there is signal), `onChange()` (redraw).
 */
export class TrackRecorder {
  constructor({ storage, watch, enqueue, now = Date.now, onQueued = () => {}, onChange = () => {}, minIntervalMs = MIN_INTERVAL_MS }) {
    Object.assign(this, { storage, watch, enqueue, now, onQueued, onChange, minIntervalMs });
    this.active = new Set();
    this.stopWatch = null;
    this.paused = false;
    this.timer = null;
    this.error = "";
    this.chain = Promise.resolve();
  }

  // Storage reads and writes of one track never interleave.
  run(fn) {
    this.chain = this.chain.then(fn, fn);
    return this.chain;
  }

  async track(taskId) {
    return (await this.storage.get(KEY + taskId)) ?? emptyTrack();
  }

  recording(taskId) {
    return this.active.has(String(taskId));
  }

  /** Record for exactly these tasks; a task that stopped running has its last points queued. */
  setActive(taskIds) {
    const next = new Set([...taskIds].map(String));
    const stopped = [...this.active].filter((id) => !next.has(id));
    const changed = stopped.length || [...next].some((id) => !this.active.has(id));
    this.active = next;
    if (next.size && !this.stopWatch && !this.paused) this.startWatch();
    else if (!next.size && this.stopWatch) this.stopWatching();
    if (next.size && !this.timer) {
      this.timer = setInterval(() => this.flushDue(), 10_000);
      this.timer.unref?.(); // Node (tests): never keeps the process alive
    } else if (!next.size && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    if (changed) this.onChange();
    return Promise.all(stopped.map((id) => this.flush(id, true)));
  }

  startWatch() {
    this.stopWatch = this.watch(
      (fix) => this.onFix(fix),
      (error) => {
        this.error = error?.message || String(error);
        this.onChange();
      },
    );
  }

  stopWatching() {
    this.stopWatch();
    this.stopWatch = null;
  }

  /** `fn` (a one-off fix: a photo's, a check-in's) with the watch stopped meanwhile: a
   * getCurrentPosition beside a running watch waits for the watch's next position, which a phone
   * standing still (or the DevTools override, one position per setting) may not give before the
   * capture's timeout. */
  async withoutWatch(fn) {
    if (!this.stopWatch || this.paused) return fn();
    this.paused = true;
    this.stopWatching();
    try {
      return await fn();
    } finally {
      this.paused = false;
      if (this.active.size && !this.stopWatch) this.startWatch();
    }
  }

  onFix(fix) {
    const point = pointOf(fix, this.now());
    this.error = "";
    return this.run(async () => {
      for (const id of this.active) {
        const before = await this.track(id);
        const after = addPoint(before, point, this.minIntervalMs, this.now());
        if (after === before) continue;
        await this.storage.set(KEY + id, after);
        await this.queueDue(id, after, false);
      }
      this.onChange();
    });
  }

  flushDue() {
    return Promise.all([...this.active].map((id) => this.flush(id, false)));
  }

  flush(taskId, force) {
    return this.run(async () => this.queueDue(String(taskId), await this.track(taskId), force));
  }

  // Queued first, then taken off the buffer: a crash between the two queues the points again, which
  // the server stores once (same device and fix time); the other order could lose them.
  async queueDue(taskId, track, force) {
    let current = track;
    let queued = false;
    for (let batch = takeBatch(current, { now: this.now(), force }); batch; batch = takeBatch(current, { now: this.now(), force })) {
      await this.enqueue("track.append", taskId, batchPayload(taskId, batch.points));
      await this.storage.set(KEY + taskId, batch.rest);
      current = batch.rest;
      queued = true;
    }
    if (queued) {
      this.onChange();
      this.onQueued();
    }
    return current;
  }
}
