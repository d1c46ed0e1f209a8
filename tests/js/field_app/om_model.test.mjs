// 运维 on the phone, what is not DOM (field_app/static/field_app/app/om_model.js): a record's steps and
// what 提交 still needs, the payloads the server takes, the record's state over the queue, the
// enterprise's days to confirm, and which screens a user gets.
import { test } from "node:test";
import assert from "node:assert/strict";

import * as m from "../../../field_app/static/field_app/app/om_model.js";
import { noticeList } from "../../../field_app/static/field_app/app/notices.js";

const FIX = { longitude: 121.4, latitude: 31.2, coordinate_system: "gcj02", accuracy_m: 8, device_time: "2026-12-07T01:00:00.000Z" };

function record(over = {}) {
  return { ...m.newRecord({ id: "r1", task: "5", outlet: "9", startCheckin: "c1", now: new Date("2026-12-07T01:00:00Z") }), ...over };
}

test("a record is submitted only with its form, signature, work photo and end check-in", () => {
  const fresh = m.recordSteps(record());
  assert.equal(fresh.canSubmit, false);
  assert.deepEqual(fresh.blockers, ["选择表单", "签字", "拍工作照", "结束签到"]);
  assert.deepEqual(fresh.steps.map((s) => [s.key, s.done]), [["start", true], ["form", false], ["signature", false], ["work_photo", false], ["end", false]]);
  const missing = [{ label: "运维时间" }, { label: "pH" }, { label: "流量" }, { label: "液位" }];
  const filling = m.recordSteps(record({ template: "ww_daily_inspection", signature: "data:x" }), { missing });
  assert.equal(filling.blockers[0], "填写必填项（还差 4 项：运维时间、pH、流量…）");
  const done = m.recordSteps(record({ template: "ww_daily_inspection", signature: "data:x", work_photo: "p1", end_checkin: "c2" }));
  assert.equal(done.canSubmit, true);
  assert.ok(done.steps.every((s) => s.done));
});

test("the save payload names what the server holds the record for, and nothing empty", () => {
  const draft = m.recordPayload(record({ template: "ww_consumables", instruments: ["3"], answers: { basic: {} } }));
  assert.deepEqual(draft, {
    task: 5,
    outlet: 9,
    template: "ww_consumables",
    instruments: [3],
    groups: [],
    answers: { basic: {} },
    start_checkin: "c1",
    submit: false,
  });
  const full = m.recordPayload(record({ template: "t", template_version: 2, end_checkin: "c2", work_photo: "p1", signature: "data:s" }), { submit: true });
  assert.equal(full.submit, true);
  assert.equal(full.template_version, 2);
  assert.equal(full.end_checkin, "c2");
  assert.equal(full.work_photo, "p1");
  assert.equal(full.signature, "data:s");
});

test("an O&M check-in names its task, point and kind, with the fix", () => {
  assert.deepEqual(m.omCheckinPayload({ kind: "start", task: "5", outlet: "9", fix: FIX }), {
    kind: "start",
    om_task: 5,
    outlet: 9,
    longitude: 121.4,
    latitude: 31.2,
    coordinate_system: "gcj02",
    device_time: FIX.device_time,
    accuracy_m: 8,
  });
  const mock = m.omCheckinPayload({ kind: "end", task: 5, outlet: 9, fix: { ...FIX, accuracy_m: null, mock_location: true } });
  assert.equal(mock.mock_location, true);
  assert.ok(!("accuracy_m" in mock));
});

test("a record's state: the phone's unanswered or refused saves over what was pulled", () => {
  const op = (state, answer) => ({ op: { type: "om_record.save", entity_id: "r1" }, state, answer });
  const r = record({ submitted: true });
  assert.equal(m.recordState(r, null, [op("pending")]).label, "已提交 · 待同步");
  assert.equal(m.recordState(r, null, [op("applied"), op("held")]).label, "已提交 · 等待中");
  const refused = m.recordState(r, null, [op("rejected", { code: "om_answers_invalid", message: "「pH」须为数字。" })]);
  assert.deepEqual([refused.key, refused.why], ["rejected", "「pH」须为数字。"]);
  assert.equal(m.recordState(r, { data: { status: "confirmed" } }, []).label, "企业已确认");
  assert.equal(m.recordState(record(), null, []).label, "填写中");
  assert.equal(m.recordState(record({ saves: 1 }), null, [op("applied")]).label, "草稿（已暂存）");
  // Another record's operations do not count.
  assert.equal(m.recordState(record(), null, [{ op: { type: "om_record.save", entity_id: "r2" }, state: "rejected" }]).key, "draft");
});

test("the enterprise's days to confirm are its submitted records by day, oldest first", () => {
  const pulled = [
    { id: "a", data: { id: "a", status: "submitted", om_date: "2026-12-07", version: 2 } },
    { id: "b", data: { id: "b", status: "confirmed", om_date: "2026-12-07", version: 1 } },
    { id: "c", data: { id: "c", status: "submitted", om_date: "2026-12-05", version: 1 } },
    { id: "d", deleted: true, data: null },
    { id: "e", data: { id: "e", status: "submitted", om_date: "2026-12-07", version: 1 } },
  ];
  const days = m.pendingDays(pulled);
  assert.deepEqual(days.map((d) => [d.date, d.records.map((r) => r.id)]), [["2026-12-05", ["c"]], ["2026-12-07", ["a", "e"]]]);
  assert.deepEqual(m.confirmPayload({ enterprise: "4", date: "2026-12-07", records: days[1].records, workPhoto: "p", signature: "s" }), {
    enterprise: 4,
    date: "2026-12-07",
    records: [{ id: "a", version: 2 }, { id: "e", version: 1 }],
    work_photo: "p",
    signature: "s",
  });
});

test("each user gets the screens of their work", () => {
  assert.deepEqual(m.rolesOf({ role: "enterprise" }), { field: false, om: false, confirm: true });
  assert.deepEqual(m.rolesOf({ role: "agency_field", posts: ["om_technician"] }, []), { field: false, om: true, confirm: false });
  assert.deepEqual(m.rolesOf({ role: "agency_field", posts: ["sampler"] }, []), { field: true, om: false, confirm: false });
  assert.deepEqual(m.rolesOf({ role: "agency_field", posts: ["sampler"] }, [{ id: 1 }]), { field: true, om: true, confirm: false });
  assert.equal(m.templatesFor([{ code: "a", outlet_kind: "wastewater" }, { code: "b", outlet_kind: "waste_gas" }], { kind: "waste_gas" })[0].code, "b");
  assert.deepEqual(m.instrumentsAt([{ id: 1, outlet: 9 }, { id: 2, outlet: 8 }], "9").map((i) => i.id), [1]);
});

test("the home's notifications: the unread count as the server gave it, the newest few, where each leads", () => {
  const kept = {
    unread_count: 7,
    results: [
      { id: 3, title: "运维记录待确认：2026-12-06", body: "…", created_at: "2026-12-07T01:00:00Z", read: false, subject: { type: "om_day", id: "4:2026-12-06" } },
      { id: 2, title: "任务被退回", body: "…", created_at: "2026-12-06T01:00:00Z", read: true, subject: { type: "task", id: "a b" } },
      { id: 1, title: "其他", body: "…", created_at: "2026-12-05T01:00:00Z", read: false, subject: null },
    ],
  };
  const list = noticeList(kept, { root: "/app/", limit: 2 });
  assert.equal(list.unread, 7);
  assert.deepEqual(list.items.map((n) => [n.id, n.read, n.href]), [[3, false, "/app/confirm/2026-12-06"], [2, true, "/app/tasks/a%20b"]]);
  assert.deepEqual(noticeList(undefined), { unread: 0, items: [] });
});
