// The task's track (监测航迹): when to record, points in the server's names, batches, repeats
// (field_app/static/field_app/app/track.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  BATCH_AGE_MS,
  BATCH_POINTS,
  KEY,
  MAX_POINTS,
  onProject,
  TrackRecorder,
  addPoint,
  batchPayload,
  emptyTrack,
  pointOf,
  pointsInQueue,
  shouldRecord,
  takeBatch,
  trackSummary,
} from "../../../field_app/static/field_app/app/track.js";

const T0 = Date.parse("2026-12-07T01:00:00.000Z");
const position = (i, accuracy = 8) => ({
  coords: { longitude: (1214000 + i) / 1e4, latitude: 31.2, accuracy, speed: null, heading: NaN, altitude: null },
  timestamp: T0 + i * 5_000,
});

test("a position becomes a track point in the server's names, its own time its identity", () => {
  assert.deepEqual(pointOf(position(1)), {
    longitude: 121.4001,
    latitude: 31.2,
    accuracy_m: 8,
    fix_time: "2026-12-07T01:00:05.000Z",
    speed_mps: null,
    bearing: null,
    altitude_m: null,
  });
  // An adapter's fix (WeChat: GCJ-02, no fix time): its system kept, the phone's clock as time.
  assert.deepEqual(pointOf({ longitude: 121.4, latitude: 31.2, coordinate_system: "gcj02" }, T0), {
    longitude: 121.4,
    latitude: 31.2,
    accuracy_m: null,
    fix_time: "2026-12-07T01:00:00.000Z",
    coordinate_system: "gcj02",
  });
});

test("a repeated or too close fix is not recorded twice", () => {
  let track = emptyTrack();
  track = addPoint(track, pointOf(position(0)));
  const again = addPoint(track, pointOf(position(0)));
  assert.equal(again, track);
  const close = addPoint(track, { ...pointOf(position(0)), fix_time: new Date(T0 + 300).toISOString() });
  assert.equal(close, track);
  track = addPoint(track, pointOf(position(1, 12.4)));
  assert.equal(track.recorded, 2);
  assert.equal(track.buffer.length, 2);
  assert.equal(track.lastAccuracy, 12.4);
  assert.equal(addPoint(track, { ...pointOf(position(2)), latitude: NaN }), track);
});

test("batches: full, old or forced; never over the server's limit", () => {
  let track = emptyTrack();
  for (let i = 0; i < BATCH_POINTS - 1; i++) track = addPoint(track, pointOf(position(i)), undefined, T0 + i * 5_000);
  assert.equal(track.since, T0); // when the first point came, not its fix's own time
  assert.equal(takeBatch(track, { now: T0 + BATCH_AGE_MS - 1 }), null);
  const old = takeBatch(track, { now: T0 + BATCH_AGE_MS });
  assert.equal(old.points.length, BATCH_POINTS - 1);
  assert.equal(old.rest.since, null);
  // An emulated or cached position may carry an old time: the age is the phone's, not the fix's.
  const stale = addPoint(emptyTrack(), pointOf(position(0)), undefined, T0 + 3_600_000);
  assert.equal(takeBatch(stale, { now: T0 + 3_600_000 + 1_000 }), null);
  assert.equal(takeBatch(track, { now: T0, force: true }).rest.buffer.length, 0);
  track = addPoint(track, pointOf(position(BATCH_POINTS)));
  assert.equal(takeBatch(track, { now: T0 }).points.length, BATCH_POINTS);
  const huge = { ...emptyTrack(), buffer: Array.from({ length: MAX_POINTS + 3 }, (_, i) => pointOf(position(i))) };
  const batch = takeBatch(huge, { now: T0, force: true });
  assert.equal(batch.points.length, MAX_POINTS);
  assert.equal(batch.rest.buffer.length, 3);
  assert.equal(takeBatch(emptyTrack(), { force: true }), null);
  assert.deepEqual(batchPayload("t1", []), { task: "t1", coordinate_system: "wgs84", points: [] });
});

test("recorded while running, by staff on the task; the page's words", () => {
  const user = { person: { name: "张磊" }, posts: ["sampler", "lab_analyst"] };
  const project = { assignments: [{ name: "张磊", post: "sampler" }] };
  assert.equal(onProject(project, user), true);
  assert.equal(onProject({ assignments: [{ name: "王雪", post: "courier" }] }, user), false); // the agency's, not his
  assert.equal(onProject(undefined, user), false);
  assert.equal(onProject(project, { posts: ["sampler"] }), false);
  assert.equal(shouldRecord({ status: "running" }, true), true);
  assert.equal(shouldRecord({ status: "running", local: true }, false), true);
  assert.equal(shouldRecord({ status: "running" }, false), false);
  assert.equal(shouldRecord({ status: "paused" }, true), false);
  assert.equal(shouldRecord({ status: "ended" }, true), false);
  const records = [
    { state: "pending", op: { type: "track.append", entity_id: "t1", payload: { points: [1, 2, 3] } } },
    { state: "applied", op: { type: "track.append", entity_id: "t1", payload: { points: [1] } } },
    { state: "pending", op: { type: "track.append", entity_id: "t2", payload: { points: [1] } } },
    { state: "pending", op: { type: "task.transition", entity_id: "t1", payload: {} } },
  ];
  assert.equal(pointsInQueue(records, "t1"), 3);
  const track = addPoint(addPoint(emptyTrack(), pointOf(position(0))), pointOf(position(1, 6.6)));
  const s = trackSummary(track, 3, true);
  assert.equal(s.waiting, 5);
  assert.equal(s.text, "已记录 2 个点 · 待发送 5 个点 · 最近定位精度 ±7 米");
  assert.equal(trackSummary(null, 0, false).text, "已记录 0 个点 · 已全部发送");
});

function memory() {
  const map = new Map();
  return {
    map,
    get: async (k) => (map.has(k) ? structuredClone(map.get(k)) : null),
    set: async (k, v) => void map.set(k, structuredClone(v)),
  };
}

test("the recorder: watches while a task runs, queues batches, queues the rest when it stops", async () => {
  const storage = memory();
  const queued = [];
  let onFix = null;
  let watching = 0;
  const recorder = new TrackRecorder({
    storage,
    now: () => T0,
    watch: (fn) => {
      onFix = fn;
      watching += 1;
      return () => {
        watching -= 1;
      };
    },
    enqueue: async (type, entityId, payload) => void queued.push({ type, entityId, payload }),
  });
  await recorder.setActive(["t1"]);
  assert.equal(watching, 1);
  for (let i = 0; i < BATCH_POINTS + 2; i++) await onFix(position(i));
  await onFix(position(BATCH_POINTS + 1)); // the same fix again
  assert.equal(queued.length, 1);
  assert.equal(queued[0].type, "track.append");
  assert.equal(queued[0].entityId, "t1");
  assert.equal(queued[0].payload.points.length, BATCH_POINTS);
  assert.equal((await recorder.track("t1")).buffer.length, 2);
  await recorder.setActive([]); // paused or ended: nothing more recorded, the rest queued
  assert.equal(watching, 0);
  assert.equal(queued.length, 2);
  assert.equal(queued[1].payload.points.length, 2);
  const track = await storage.get(KEY + "t1");
  assert.equal(track.recorded, BATCH_POINTS + 2);
  assert.equal(track.buffer.length, 0);
  // Every point queued once, in time order.
  const times = queued.flatMap((q) => q.payload.points.map((p) => p.fix_time));
  assert.equal(new Set(times).size, BATCH_POINTS + 2);
  assert.deepEqual(times, [...times].sort());
});

test("the recorder: a point taken is kept across a restart until it is queued", async () => {
  const storage = memory();
  const queued = [];
  let onFix = null;
  const make = () =>
    new TrackRecorder({
      storage,
      now: () => T0,
      watch: (fn) => ((onFix = fn), () => {}),
      enqueue: async (type, entityId, payload) => void queued.push(payload),
    });
  const first = make();
  await first.setActive(["t1"]);
  await onFix(position(0));
  await onFix(position(1));
  const second = make(); // the app closed and opened again
  await second.setActive(["t1"]);
  await onFix(position(1)); // the watch's first answer repeats the last fix
  await onFix(position(2));
  await second.setActive([]);
  assert.equal(queued.length, 1);
  assert.deepEqual(
    queued[0].points.map((p) => p.fix_time),
    [0, 1, 2].map((i) => new Date(T0 + i * 5_000).toISOString()),
  );
});

test("the recorder: a one-off fix is taken with the watch stopped, then it watches again", async () => {
  let watching = 0;
  const recorder = new TrackRecorder({
    storage: memory(),
    watch: () => {
      watching += 1;
      return () => {
        watching -= 1;
      };
    },
    enqueue: async () => {},
  });
  assert.equal(await recorder.withoutWatch(async () => watching), 0); // not recording: nothing to stop
  await recorder.setActive(["t1"]);
  assert.equal(await recorder.withoutWatch(async () => watching), 0);
  assert.equal(watching, 1);
  await assert.rejects(recorder.withoutWatch(async () => {
    throw new Error("timeout");
  }));
  assert.equal(watching, 1);
  await recorder.setActive([]);
  assert.equal(watching, 0);
});
