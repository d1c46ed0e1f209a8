// Check-in (打卡签到): the payload the server takes, where a check-in stands, the verdict in words
// (field_app/static/field_app/app/checkin.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  checkinPayload,
  checkinState,
  checkinsOf,
  needsResult,
  outletsOf,
  verdictText,
} from "../../../field_app/static/field_app/app/checkin.js";

const fix = {
  longitude: 121.4368,
  latitude: 31.1882,
  coordinate_system: "wgs84",
  accuracy_m: 8,
  device_time: "2026-12-07T01:00:00.000Z",
  fix_time: "2026-12-07T00:59:59.000Z",
};

test("the payload is the capture fix without its fix time, for the task and the outlet chosen", () => {
  assert.deepEqual(checkinPayload({ task: "t1", outlet: "7", fix }), {
    task: "t1",
    outlet: 7,
    longitude: 121.4368,
    latitude: 31.1882,
    coordinate_system: "wgs84",
    device_time: "2026-12-07T01:00:00.000Z",
    accuracy_m: 8,
  });
  const bare = checkinPayload({ task: "t1", outlet: "", fix: { ...fix, accuracy_m: undefined } });
  assert.equal("outlet" in bare, false);
  assert.equal("accuracy_m" in bare, false);
  assert.equal("fix_time" in bare, false);
});

test("the verdict in words", () => {
  assert.equal(verdictText({ verdict: "inside", distance_m: 35.4, geofence_m: 100 }), "在电子围栏内 · 距排口 35 米（围栏 100 米）");
  assert.equal(verdictText({ verdict: "outside", distance_m: 812, geofence_m: 100 }), "超出电子围栏 · 距排口 812 米（围栏 100 米）");
  assert.equal(verdictText({ verdict: "no_site", distance_m: null }), "无点位可比（未选排口）");
});

test("where a check-in stands, and when its verdict is read back", () => {
  const c = { id: "c1", task: "t1", at: fix.device_time, result: null };
  assert.equal(checkinState(c, { state: "pending" }).label, "待同步");
  assert.equal(checkinState(c, { state: "held" }).key, "held");
  assert.equal(checkinState(c, { state: "applied" }).key, "sent");
  assert.equal(checkinState(c, null).key, "sent"); // answered and forgotten by the queue
  const refused = checkinState(c, { state: "rejected", answer: { message: "您不在该任务的项目上。" } });
  assert.deepEqual([refused.label, refused.findings], ["被拒绝", ["您不在该任务的项目上。"]]);
  assert.equal(needsResult(c, { state: "pending" }), false);
  assert.equal(needsResult(c, { state: "applied" }), true);
  assert.equal(needsResult(c, null), true);
  assert.equal(needsResult(c, { state: "rejected" }), false);
  const judged = {
    ...c,
    result: {
      verdict: "outside",
      distance_m: 812,
      geofence_m: 100,
      findings: [{ code: "outside_geofence", message: { "zh-hans": "位置在排口电子围栏外。", en: "Outside." } }],
    },
  };
  assert.equal(needsResult(judged, null), false);
  assert.deepEqual(checkinState(judged, null), {
    key: "outside",
    label: "超出电子围栏 · 距排口 812 米（围栏 100 米）",
    findings: ["位置在排口电子围栏外。"],
  });
});

test("the task's outlets and check-ins", () => {
  const outlets = [
    { id: 2, enterprise: 5, name: "2 号排口" },
    { id: 1, enterprise: 5, name: "1 号排口" },
    { id: 3, enterprise: 6, name: "别家排口" },
  ];
  assert.deepEqual(outletsOf(outlets, { enterprise: 5 }).map((o) => o.id), [1, 2]);
  assert.deepEqual(outletsOf(outlets, null), []);
  const list = [
    { id: "a", task: "t1", at: "2026-12-07T01:00:00.000Z" },
    { id: "b", task: "t2", at: "2026-12-07T02:00:00.000Z" },
    { id: "c", task: "t1", at: "2026-12-07T03:00:00.000Z" },
  ];
  assert.deepEqual(checkinsOf(list, "t1").map((c) => c.id), ["c", "a"]);
});
