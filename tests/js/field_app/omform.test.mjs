// O&M forms on the phone (field_app/static/field_app/app/omform.js): the layout rules of
// server/om/forms.py, the judgements of server/om/judgements.py, the HTML and the answers read back,
// on the real template files. Parity with Python: tests/field_app/test_omform_parity.py.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";

import {
  buildForm,
  defaultAnswers,
  formHtml,
  judge,
  judgeForm,
  judgePairs,
  judgementText,
  missingRequired,
  readAnswers,
} from "../../../field_app/static/field_app/app/omform.js";

const DATA = new URL("../../../server/om/forms_data/", import.meta.url);
const LIMITS = JSON.parse(readFileSync(new URL("limits.json", DATA), "utf8"));

// As GET /api/v1/om/templates gives them: Limits.from_spec(...).as_dict() by key.
function asDict(spec) {
  return {
    key: spec.id,
    measure: spec.measure,
    analyte: spec.analyte || "",
    band_on: spec.band_on || "",
    bands: spec.bands,
    confirmed: Boolean(spec.confirmed),
    provisional: !spec.confirmed,
    source: spec.source,
    note: spec.note || "",
  };
}
const LIMIT_SETS = Object.fromEntries(LIMITS.map((spec) => [spec.id, asDict(spec)]));

function template(code) {
  const definition = JSON.parse(readFileSync(new URL(`templates/${code}.json`, DATA), "utf8"));
  const keys = [...new Set((definition.computations || []).map((c) => c.limit_set))];
  return {
    code,
    version: definition.version,
    name: definition.name,
    outlet_kind: definition.outlet_kind,
    definition,
    limit_sets: Object.fromEntries(keys.map((k) => [k, LIMIT_SETS[k]])),
  };
}

const CODES = readdirSync(new URL("templates/", DATA)).map((f) => f.replace(/\.json$/, ""));

const instrument = (id, analytes, extra = {}) => ({
  id,
  outlet: 1,
  kind: "water_analyzer",
  kind_label: "水质在线分析仪",
  analytes,
  maker: "测试厂家",
  model: `M-${id}`,
  serial_number: `SN-${id}`,
  range_low: 0,
  range_high: 500,
  unit: "mg/L",
  ...extra,
});
const TOC = instrument(11, ["toc"], { name: "水质在线分析仪（总有机碳 (TOC)）" });
const NH3N = instrument(12, ["nh3n"], { name: "水质在线分析仪（氨氮 (NH3-N)）" });
const FLOW = instrument(13, ["water_flow"], { kind: "flow_meter", kind_label: "流量计" });

const limitsOf = (id) => LIMIT_SETS[id];
const comp = (kind, inputs, limitSet, extra = {}) => ({
  key: "c",
  label: "测试",
  kind,
  section: "s",
  inputs,
  limit_set: limitSet,
  ...extra,
});
const DRIFT_INPUTS = { reference: "r", before: "b", previous_after: "p", span: "s" };
const drift = (kind, limitSet) => comp(kind, DRIFT_INPUTS, limitSet);
const comparison = (limitSet) => comp("comparison_error", { instrument: "i", lab: "l" }, limitSet);
const stdError = comp("relative_error", { measured: "m", reference: "r" }, "hj355_standard_sample_cod");

// --- Layout -------------------------------------------------------------------------------------------
test("every template builds, without signature and instrument-choice items", () => {
  for (const code of CODES) {
    const form = buildForm(template(code), { instruments: [TOC, NH3N, FLOW], groups: ["daily", "weekly"] });
    assert.equal(form.code, code);
    for (const block of form.blocks) {
      assert.ok(block.items.every((i) => i.kind !== "signature" && !i.choices_from), code);
    }
    for (const c of form.computations) assert.ok(c.limits && c.limits.key === c.limit_set, code);
  }
});

test("日常巡检: a TOC and an NH3-N analyzer get electrode_weekly but not flowmeter_monthly", () => {
  const form = buildForm(template("ww_daily_inspection"), {
    instruments: [TOC, NH3N],
    groups: ["weekly", "monthly"],
  });
  assert.deepEqual(
    form.blocks.map((b) => b.key),
    [
      "basic",
      "sampling_weekly",
      "instrument_weekly@11",
      "instrument_weekly@12",
      "electrode_weekly@11",
      "electrode_weekly@12",
      "instrument_monthly@11",
      "instrument_monthly@12",
      "closing",
    ],
  );
  assert.deepEqual(form.groups, [
    { key: "daily", label: "日检查维护", chosen: false },
    { key: "weekly", label: "周检查维护", chosen: true },
    { key: "monthly", label: "月检查维护", chosen: true },
    { key: "quarterly", label: "季检查维护", chosen: false },
  ]);
  assert.equal(form.blocks[2].instrument, TOC);
  assert.deepEqual(
    form.blocks.find((b) => b.key === "basic").items.map((i) => i.key),
    ["om_time"], // 运维设备 comes from the record's chosen instruments
  );
  // A flowmeter gets the flowmeter block; no group chosen shows only the ungrouped sections.
  const flow = buildForm(template("ww_daily_inspection"), { instruments: [FLOW], groups: ["monthly"] });
  assert.deepEqual(
    flow.blocks.map((b) => b.key),
    ["basic", "instrument_monthly@13", "flowmeter_monthly@13", "closing"],
  );
  assert.deepEqual(
    buildForm(template("ww_daily_inspection"), { instruments: [TOC] }).blocks.map((b) => b.key),
    ["basic", "closing"],
  );
});

test("computations are repeated per instrument block, in the order the server evaluates them", () => {
  const form = buildForm(template("ww_standard_check_calibration"), { instruments: [TOC, NH3N] });
  assert.deepEqual(
    form.computations.map((c) => `${c.key}@${c.block}:${c.instrument}`),
    [
      "std_error_toc@check_toc@11:11",
      "zero_drift_toc@check_toc@11:11",
      "span_drift_toc@check_toc@11:11",
      "std_error_nh3n@check_nh3n@12:12",
      "zero_drift_nh3n@check_nh3n@12:12",
      "span_drift_nh3n@check_nh3n@12:12",
    ],
  );
});

// --- Judgements -------------------------------------------------------------------------------------
test("exactly at the limit passes, just over fails (110 against 100 under ±10 %)", () => {
  const limits = limitsOf("hj355_standard_sample_cod");
  const at = judge(stdError, { measured: 110, reference: 100 }, limits);
  assert.equal(at.value, 0.1);
  assert.equal(at.passed, true);
  assert.equal(at.provisional, false); // confirmed by public transcriptions of HJ 355 (issue 23)
  assert.equal(judge(stdError, { measured: 90, reference: 100 }, limits).passed, true);
  assert.equal(judge(stdError, { measured: 110.0001, reference: 100 }, limits).passed, false);
  assert.equal(judge(stdError, { measured: 0.33, reference: 0.3 }, limits).passed, true); // float noise
  assert.equal(judge(stdError, { measured: 0.1 + 0.2, reference: 0.3 }, limits).value, 1.333333333e-16);
  const third = judge(stdError, { measured: 1, reference: 3 }, limits);
  assert.equal(third.value, -0.6666666667);
  assert.equal(third.passed, false);
});

test("drift against full scale; exactly ±5 % F.S. passes", () => {
  const limits = limitsOf("ww_zero_drift_cod");
  const c = drift("zero_drift", "ww_zero_drift_cod");
  const at = judge(c, { reference: 0, previous_after: 1, before: 26, span: 500 }, limits);
  assert.deepEqual(
    [at.value, at.passed, at.baseline, at.limit, at.limit_type, at.value_type],
    [0.05, true, "previous_after", 0.05, "full_scale", "fraction"],
  );
  assert.equal(judge(c, { reference: 0, previous_after: 1, before: 26.01, span: 500 }, limits).passed, false);
});

test("drift falls back to the reference when previous_after is empty", () => {
  const c = drift("span_drift", "ww_span_drift_cod");
  const j = judge(c, { reference: 400, previous_after: null, before: 341, span: 500 }, limitsOf("ww_span_drift_cod"));
  assert.deepEqual([j.value, j.passed, j.baseline, j.missing], [-0.118, false, "reference", []]);
  const none = judge(c, { before: 341, span: 500 }, limitsOf("ww_span_drift_cod"));
  assert.deepEqual([none.value, none.passed, none.missing, none.reason], [null, null, ["previous_after", "reference"], "missing_inputs"]);
});

test("bands: min inclusive, max exclusive; absolute below, relative above", () => {
  const c = comparison("hj355_real_sample_cod");
  const limits = limitsOf("hj355_real_sample_cod");
  const at30 = judge(c, { instrument: 39, lab: 30 }, limits);
  assert.deepEqual(at30.band, { min: 30, max: 60 });
  assert.deepEqual([at30.value, at30.passed, at30.limit_type], [0.3, true, "relative"]);
  const below = judge(c, { instrument: 34.99, lab: 29.99 }, limits);
  assert.deepEqual(below.band, { min: null, max: 30 });
  assert.deepEqual([below.value, below.passed, below.limit_unit, below.value_type], [5, true, "mg/L", "absolute"]);
  assert.equal(judge(c, { instrument: 35, lab: 29.99 }, limits).passed, false);
  assert.deepEqual(judge(c, { instrument: 100, lab: 100 }, limits).band, { min: 100, max: null });
  assert.deepEqual(judge(c, { instrument: 100, lab: 99.999 }, limits).band, { min: 60, max: 100 });
});

test("missing inputs and a zero reference are not judged", () => {
  const c = comparison("hj355_real_sample_cod");
  const limits = limitsOf("hj355_real_sample_cod");
  const noLab = judge(c, { instrument: 12 }, limits);
  assert.deepEqual([noLab.passed, noLab.missing, noLab.band, noLab.limit_type], [null, ["lab"], null, null]);
  const nothing = judge(c, {}, limits);
  assert.deepEqual(nothing.missing, ["instrument", "lab"]);
  const zero = judge(stdError, { measured: 1, reference: 0 }, limitsOf("hj355_standard_sample_cod"));
  assert.deepEqual([zero.value, zero.passed, zero.reason], [null, null, "zero_reference"]);
  assert.equal(judgementText(zero), "测试 无法计算：参考值为 0");
  const zeroSpan = judge(drift("zero_drift", "x"), { reference: 0, before: 1, span: 0 }, limitsOf("ww_zero_drift_cod"));
  assert.equal(zeroSpan.reason, "zero_span");
  const noSpan = judge(drift("zero_drift", "x"), { reference: 0, before: 1 }, limitsOf("ww_zero_drift_cod"));
  assert.deepEqual(noSpan.missing, ["span"]);
});

test("judgements in words", () => {
  const base = { label: "零点漂移", provisional: false, missing: [], passed: true, limit_type: "full_scale" };
  assert.equal(judgementText({ ...base, value: 0.012, limit: 0.05 }), "零点漂移 +1.2% F.S.（限值 ±5% F.S.）合格");
  assert.equal(
    judgementText({ ...base, value: -0.06, limit: 0.05, passed: false, provisional: true }),
    "零点漂移 -6% F.S.（限值 ±5% F.S.）不合格（限值待核实）",
  );
  assert.equal(
    judgementText({ ...base, value: 0.3, limit: 0.3, limit_type: "absolute", limit_unit: "mg/L" }),
    "零点漂移 +0.3 mg/L（限值 ±0.3 mg/L）合格",
  );
  assert.equal(
    judgementText({ ...base, value: null, passed: null, missing: ["before"], missingLabels: ["校前测试值"] }),
    "零点漂移 缺少：校前测试值",
  );
});

test("judgeForm reads the blocks' answers and names missing inputs by their labels", () => {
  const form = buildForm(template("ww_standard_check_calibration"), { instruments: [TOC] });
  const answers = { check_toc: { 11: { range_upper: 500, std_reference: 100, std_measured: 105, zero_before: 2 } } };
  const [std, zero, span] = judgeForm(form, answers);
  assert.deepEqual([std.block, std.instrument, std.value, std.passed], ["check_toc@11", 11, 0.05, true]);
  assert.deepEqual(zero.missingLabels.length, 2);
  assert.ok(judgementText(zero).includes("缺少："));
  assert.equal(span.passed, null);
});

// --- HTML and answers ---------------------------------------------------------------------------------
test("formHtml escapes every text, a hostile label included", () => {
  const t = template("ww_maintenance_repair");
  t.definition.sections[1].items[2].label = '<img src=x onerror="alert(1)">';
  t.definition.sections[1].title = "维修 & <b>保养</b>";
  const hostile = { ...TOC, name: "<script>alert(1)</script>" };
  const form = buildForm(t, { instruments: [hostile] });
  const html = formHtml(form, { repair: { 11: { fault_description: '"><script>x</script>' } } });
  assert.ok(!html.includes("<script"), html);
  assert.ok(!html.includes("<img"), html);
  assert.ok(!html.includes("<b>"), html);
  assert.ok(html.includes("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"));
  assert.ok(html.includes("&quot;&gt;&lt;script&gt;x&lt;/script&gt;</textarea>"));
  assert.ok(html.includes('<fieldset class="om-block" data-block="repair@11">'));
});

// What a browser posts for an HTML string: enough of FormData for the controls formHtml writes.
function entriesOf(html) {
  const out = [];
  const unescape = (s) =>
    s.replace(/&(lt|gt|quot|#39|amp);/g, (_, e) => ({ lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&" })[e]);
  const attr = (tag, name) => {
    const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
    return m ? unescape(m[1]) : null;
  };
  const re = /<input[^>]*>|<textarea[^>]*>([\s\S]*?)<\/textarea>|<select[^>]*>([\s\S]*?)<\/select>/g;
  for (const m of html.matchAll(re)) {
    const tag = m[0];
    const name = attr(tag, "name");
    if (tag.startsWith("<input")) {
      const type = attr(tag, "type");
      if ((type === "radio" || type === "checkbox") && !/\schecked/.test(tag)) continue;
      out.push([name, attr(tag, "value") ?? ""]);
    } else if (tag.startsWith("<textarea")) {
      out.push([name, unescape(m[1])]);
    } else {
      const selected = /<option value="([^"]*)" selected>/.exec(m[2]);
      out.push([name, selected ? unescape(selected[1]) : ""]);
    }
  }
  return out;
}

test("readAnswers gives back what formHtml pre-filled, for every template", () => {
  const offset = -480;
  for (const code of CODES) {
    const form = buildForm(template(code), {
      instruments: [TOC, NH3N, FLOW, instrument(14, ["so2", "nox", "o2"]), instrument(15, ["cod"])],
      groups: ["daily", "weekly", "monthly", "quarterly"],
    });
    const answers = {};
    for (const block of form.blocks) {
      const values = {};
      for (const item of block.items) {
        const v = {
          normal_abnormal: { status: "abnormal", note: "有<异常>" },
          number: item.key === "unit" ? undefined : 12.5,
          text: "测试 & 'quote'",
          choice: item.choices?.length ? (item.multiple ? [item.choices[0].value] : item.choices[0].value) : undefined,
          datetime: "2025-06-01T09:30:00+08:00",
          table: (item.columns || []).length
            ? Array(item.min_rows || 1).fill(
                Object.fromEntries(item.columns.map((c) => [c.key, c.kind === "number" ? 3 : c.kind === "datetime" ? "2025-06-01T10:00:00+08:00" : "A4 纸"])),
              )
            : undefined,
        }[item.kind];
        if (v !== undefined) values[item.key] = v;
      }
      if (block.instrument) (answers[block.section] ??= {})[String(block.instrument.id)] = values;
      else answers[block.section] = values;
    }
    const html = formHtml(form, answers, { offsetMinutes: offset });
    assert.deepEqual(readAnswers(form, entriesOf(html), { offsetMinutes: offset }), answers, code);
    assert.deepEqual(missingRequired(form, answers), [], code);
  }
});

test("readAnswers: blanks left out, comma decimals, datetimes with the phone's offset, blank rows dropped", () => {
  const form = buildForm(template("ww_consumables"), {});
  const entries = [
    ["a|basic|om_time", "2025-06-01T09:30"],
    ["a|consumables|items|0|name", "滤芯"],
    ["a|consumables|items|0|quantity", "2,5"],
    ["a|consumables|items|1|name", " "],
    ["a|consumables|items|2|name", ""],
    ["a|consumables|reason", "  "],
    ["a|closing|remark", ""],
    ["groups", "daily"],
  ];
  assert.deepEqual(readAnswers(form, entries, { offsetMinutes: -480 }), {
    basic: { om_time: "2025-06-01T09:30:00+08:00" },
    consumables: { items: [{ name: "滤芯", quantity: 2.5 }] },
  });
  assert.deepEqual(readAnswers(form, [["a|basic|om_time", "2025-06-01T09:30"]], { offsetMinutes: 330 }), {
    basic: { om_time: "2025-06-01T09:30:00-05:30" },
  });
  const na = buildForm(template("ww_daily_inspection"), { groups: ["daily"] });
  assert.deepEqual(
    readAnswers(na, [
      ["a|station_daily|remote_status|status", "normal"],
      ["a|station_daily|remote_status|note", ""],
      ["a|station_daily|station_environment|note", "草稿说明"],
    ]),
    {
      station_daily: {
        remote_status: { status: "normal", note: "" },
        station_environment: { status: null, note: "草稿说明" },
      },
    },
  );
});

test("missingRequired lists the unanswered required items; defaultAnswers fills 运维时间", () => {
  const form = buildForm(template("ww_daily_inspection"), { instruments: [TOC], groups: ["daily"] });
  const now = new Date("2025-06-01T01:30:05Z");
  const answers = defaultAnswers(form, now, { offsetMinutes: -480 });
  assert.deepEqual(answers, { basic: { om_time: "2025-06-01T09:30:00+08:00" } }); // to the minute
  answers.station_daily = { remote_status: { status: null, note: "x" } };
  assert.deepEqual(
    missingRequired(form, answers).map((m) => `${m.block}.${m.item}`),
    ["station_daily.remote_status", "station_daily.station_environment", "station_daily.data_consistency"],
  );
  assert.equal(missingRequired(form, answers)[0].blockTitle, form.blocks[1].title);
});

test("judgements are drawn after their block with their class", () => {
  const form = buildForm(template("ww_real_sample_comparison"), { instruments: [instrument(15, ["cod"])] });
  const answers = { compare_cod: { 15: { pairs: [40, 41, 30].map((i) => ({ instrument_value: i, lab_value: 30 })) } } };
  const html = formHtml(form, answers, { judgements: judgeForm(form, answers) });
  assert.match(html, /<p class="om-judgement fail" data-judgement="comparison_cod@compare_cod@15">[^<]*1\/3 对合格[^<]*不合格/);
});

test("a draft is never blocked by the browser: no required attribute; seconds kept with step=1", () => {
  const form = buildForm(template("ww_daily_inspection"), { instruments: [TOC], groups: ["daily"] });
  const answers = { basic: { om_time: "2025-06-01T01:30:05Z" } };
  const html = formHtml(form, answers, { offsetMinutes: -480 });
  assert.ok(!/\srequired[\s>]/.test(html));
  assert.ok(html.includes('aria-required="true"'));
  assert.ok(html.includes('value="2025-06-01T09:30:05" step="1"'));
  assert.deepEqual(readAnswers(form, entriesOf(html), { offsetMinutes: -480 }), {
    basic: { om_time: "2025-06-01T09:30:05+08:00" },
  });
});

test("a limit set missing from an old cache: not judged, the form still drawn", () => {
  const t = template("ww_real_sample_comparison");
  t.limit_sets = {};
  const form = buildForm(t, { instruments: [instrument(15, ["cod"])] });
  const [j] = judgeForm(form, { compare_cod: { 15: { pairs: [{ instrument_value: 40, lab_value: 30 }] } } });
  assert.deepEqual([j.passed, j.reason, j.block], [null, "no_limits", "compare_cod@15"]);
  assert.match(judgementText(j), /无法计算：限值未载入/);
  assert.match(formHtml(form, {}, { judgements: [j] }), /class="om-judgement unknown"/);
});

// --- HJ 355-2019 实际水样比对: pairs (comparison_pairs) ------------------------------------------------
const COD = instrument(15, ["cod"]);
const comparisonForm = (instruments = [COD]) => buildForm(template("ww_real_sample_comparison"), { instruments });
const pairsOf = (list) => list.map(([i, l]) => ({ sample_time: "2025-06-01T10:00:00+08:00", instrument_value: i, lab_value: l }));
const codJudgement = (block) => judgeForm(comparisonForm(), { compare_cod: { 15: block } })[0];
const IN = [115, 100]; // +15 % at ≥ 100 mg/L: at the limit, passes
const OUT = [116, 100];

test("pairs: 2 of 3, 3 of 4, 4 of 5 or more within the limit pass; 4 of 6 passes, 3 of 5 fails", () => {
  for (const [within, outside, passed] of [
    [2, 1, true],
    [1, 2, false],
    [3, 1, true],
    [2, 2, false],
    [4, 1, true],
    [3, 2, false],
    [4, 2, true],
    [3, 3, false],
  ]) {
    const j = codJudgement({ pairs: pairsOf([...Array(within).fill(IN), ...Array(outside).fill(OUT)]) });
    const total = within + outside;
    const required = total === 3 ? 2 : total === 4 ? 3 : 4;
    assert.deepEqual([j.pairs_passed, j.pairs_total, j.pairs_required, j.passed, j.mode], [within, total, required, passed, "real_sample"]);
    assert.equal(
      judgementText(j),
      `化学需氧量（CODCr） 实际水样比对 ${within}/${total} 对合格（${total} 对中至少 ${required} 对在限值内）${passed ? "合格" : "不合格"}`,
    );
  }
});

test("pairs: fewer than 3 are not judged and the phone says how many are missing", () => {
  const j = codJudgement({ pairs: pairsOf([IN, IN]) });
  assert.deepEqual([j.passed, j.reason, j.missingLabels], [null, "too_few_pairs", ["比对数据（至少3对）"]]);
  assert.equal(judgementText(j), "化学需氧量（CODCr） 实际水样比对 比对数据不足：已填 2 组，至少 3 组");
});

test("pairs: below 30 mg/L the standard sample replaces the real sample, and the phone says so", () => {
  const low = pairsOf([[22, 20], [26, 21], [18, 19]]);
  const needed = codJudgement({ pairs: low });
  assert.deepEqual([needed.mode, needed.passed, needed.reason], ["standard_sample", null, "standard_sample_required"]);
  assert.equal(
    judgementText(needed),
    "化学需氧量（CODCr） 实际水样比对 实际水样低于 30 mg/L，须以标准样品代替：请填写在线仪器测定标准样品值、代替用标准样品浓度",
  );
  const ok = codJudgement({ pairs: low, standard_value: 21.5, standard_measured: 26.5 });
  assert.deepEqual([ok.value, ok.limit, ok.passed], [5, 5, true]);
  assert.equal(
    judgementText(ok),
    "化学需氧量（CODCr） 实际水样比对 实际水样低于 30 mg/L，以标准样品代替：+5 mg/L（限值 ±5 mg/L）合格",
  );
  const wrong = codJudgement({ pairs: low, standard_value: 50, standard_measured: 50 });
  assert.deepEqual([wrong.passed, wrong.reason], [null, "standard_out_of_range"]);
  assert.match(judgementText(wrong), /代替用标准样品浓度须在 20–25 mg\/L$/);
});

test("pairs: the flowmeter's 6 level readings, the largest error judged; the flow on 10 minutes' totals", () => {
  const form = comparisonForm([FLOW]);
  const readings = [3, -12, 5, 0, 1, 2].map((d) => ({ read_time: "2025-06-01T10:00:00+08:00", instrument_level: 500 + d, reference_level: 500 }));
  const [level, flow] = judgeForm(form, { compare_water_flow: { 13: { level_readings: readings, instrument_total: 111, reference_total: 100 } } });
  assert.deepEqual([level.kind, level.value, level.passed, level.pairs_passed, level.pairs_required], ["comparison_pairs", -12, true, 6, 6]);
  assert.equal(judgementText(level), "液位比对误差（6组） 6/6 对合格，最大误差 -12 mm（限值 ±12 mm）合格");
  assert.deepEqual([flow.kind, flow.value, flow.passed], ["comparison_error", 0.11, false]);
  const five = judgeForm(form, { compare_water_flow: { 13: { level_readings: readings.slice(0, 5) } } })[0];
  assert.deepEqual([five.passed, five.reason], [null, "too_few_pairs"]);
});

test("pairs: the phone draws room for the pairs (5 rows for 3 pairs, 8 for 6 readings) and reads them back", () => {
  const form = comparisonForm([COD, FLOW]);
  const html = formHtml(form, {}, { offsetMinutes: -480 });
  const rows = (block, item) => new Set(entriesOf(html).filter(([n]) => n.startsWith(`a|${block}|${item}|`)).map(([n]) => n.split("|")[3])).size;
  assert.equal(rows("compare_cod@15", "pairs"), 5);
  assert.equal(rows("compare_water_flow@13", "level_readings"), 8);
  assert.match(html, /至少填写 3 组；/);
  const answers = { compare_cod: { 15: { pairs: pairsOf([IN, IN, IN, OUT, OUT]) } } };
  const again = formHtml(form, answers, { offsetMinutes: -480 });
  assert.equal(new Set(entriesOf(again).filter(([n]) => n.startsWith("a|compare_cod@15|pairs|")).map(([n]) => n.split("|")[3])).size, 8);
  assert.deepEqual(readAnswers(form, entriesOf(again), { offsetMinutes: -480 }), answers);
  const short = { compare_cod: { 15: { pairs: pairsOf([IN]) } } };
  assert.ok(missingRequired(form, short).some((m) => m.block === "compare_cod@15" && m.item === "pairs"));
});

test("judgePairs is exported for the parity test and takes rows by role", () => {
  const j = judgePairs(
    { key: "k", section: "s", kind: "comparison_pairs", pairs: "p", inputs: { instrument: "i", lab: "l" }, min_pairs: 3 },
    [{ instrument: 7.5, lab: 7 }, { instrument: 7.6, lab: 7 }, { instrument: 7, lab: 7 }],
    {},
    limitsOf("hj355_real_sample_ph"),
  );
  assert.deepEqual(j.pairs.map((p) => p.passed), [true, false, true]);
  assert.deepEqual([j.pairs_passed, j.pairs_required, j.passed], [2, 2, true]);
});
