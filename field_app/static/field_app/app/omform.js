// O&M (运维) forms on the phone, offline: a cached template drawn as HTML, what was typed read back in
// the server's answer format, and the computed judgements (零点漂移、量程漂移、相对误差、比对误差, and
// HJ 355-2019's 实际水样比对 over several pairs: 2 of 3, 3 of 4, 4 of 5 or more within the limit).
//
// The server stays authoritative: it validates the answers again and computes the judgements itself
// (server/om/forms.py, server/om/judgements.py). This module mirrors them so that a technician sees
// the same layout and the same 合格/不合格 before sending; tests/field_app/test_omform_parity.py checks
// the parity with Python on every computation of every template.
//
// Plain ES module, no DOM access: HTML is built as strings (every text escaped), answers are read from
// `[...new FormData(form)]` entries.

export const TEXT_MAX = 2000;
export const NOTE_MAX = 1000;
export const CELL_MAX = 200;
export const EMPTY_TABLE_ROWS = 3;

export const GROUP_LABELS = {
  daily: "日检查维护",
  weekly: "周检查维护",
  monthly: "月检查维护",
  quarterly: "季检查维护",
};

const STATUS_LABELS = { normal: "正常", abnormal: "不正常" };
const SIGNIFICANT = 10; // judgements.SIGNIFICANT
const PRECISION = 28; // Python's default decimal context

// role -> [reading judged, baseline] (judgements.ROLES); drift falls back to `reference`.
const ROLES = {
  zero_drift: ["before", "previous_after"],
  span_drift: ["before", "previous_after"],
  relative_error: ["measured", "reference"],
  comparison_error: ["instrument", "lab"],
};
const DRIFT_KINDS = new Set(["zero_drift", "span_drift"]);
const PAIRS_KIND = "comparison_pairs"; // judgements.PAIRS_KIND

const REASONS = {
  zero_reference: "参考值为 0",
  zero_span: "量程为 0",
  no_band: "没有适用的限值区间",
  no_limits: "限值未载入，请在联网时刷新表单",
  not_computable: "可判定的比对数据不足",
};

// --- The form's layout (forms.shown_blocks) ---------------------------------------------------------
function applies(section, instrument) {
  const analytes = section.analytes;
  if (analytes == null) return true;
  const own = new Set(instrument.analytes || []);
  return analytes.some((a) => own.has(a));
}

function inGroups(section, groups) {
  return groups == null || section.group == null || groups.includes(section.group);
}

function answerable(item) {
  return item.kind !== "signature" && !item.choices_from;
}

/** The form as the phone draws it: shown blocks (groups filtered, instrument sections repeated per
 * chosen instrument they apply to) and the computations, once per block of their section. */
export function buildForm(template, { instruments = [], groups = [] } = {}) {
  const definition = template.definition;
  const chosen = [...new Set(groups || [])];
  const bySection = new Map();
  for (const comp of definition.computations || []) {
    if (!bySection.has(comp.section)) bySection.set(comp.section, []);
    bySection.get(comp.section).push(comp);
  }
  const blocks = [];
  const computations = [];
  for (const section of definition.sections) {
    if (!inGroups(section, chosen)) continue;
    const copies =
      section.repeat === "instrument" ? instruments.filter((i) => applies(section, i)) : [null];
    for (const instrument of copies) {
      const key = instrument ? `${section.key}@${instrument.id}` : section.key;
      blocks.push({
        key,
        section: section.key,
        title: section.title,
        group: section.group ?? null,
        instrument,
        items: section.items.filter(answerable),
      });
      for (const comp of bySection.get(section.key) || []) {
        computations.push({
          ...comp,
          block: key,
          instrument: instrument ? instrument.id : null,
          limits: (template.limit_sets || {})[comp.limit_set],
        });
      }
    }
  }
  return {
    code: template.code,
    version: template.version,
    name: template.name,
    outlet_kind: template.outlet_kind,
    groups: (definition.groups || []).map((g) => ({
      key: g,
      label: GROUP_LABELS[g] || g,
      chosen: chosen.includes(g),
    })),
    blocks,
    computations,
  };
}

// --- Decimal arithmetic (judgements.decimal and Python's decimal module) ----------------------------
// A decimal is {m: BigInt, e: int} = m × 10^e. Readings enter through their shortest representation
// (String(x) here, repr(x) in Python: the same digits), so 110 − 100 is exactly 10, and the error is
// rounded as Python rounds it: the quotient to 28 significant digits, then to 10, both half-even.

function decimalOf(x) {
  if (typeof x !== "number" || !Number.isFinite(x)) return null;
  const [mantissa, exponent] = String(x).split("e");
  let e = exponent ? Number(exponent) : 0;
  let digits = mantissa.replace("-", "");
  const dot = digits.indexOf(".");
  if (dot >= 0) {
    e -= digits.length - dot - 1;
    digits = digits.replace(".", "");
  }
  const m = BigInt(digits);
  return { m: mantissa.startsWith("-") ? -m : m, e };
}

const TEN = 10n;
const abs = (m) => (m < 0n ? -m : m);
const pow10 = (n) => TEN ** BigInt(n);

function align(a, b) {
  const e = Math.min(a.e, b.e);
  return [a.m * pow10(a.e - e), b.m * pow10(b.e - e), e];
}

function compare(a, b) {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Round to `sig` significant digits, half-even; `sticky`: nonzero digits beyond m were cut off. */
function roundSig({ m, e }, sig, sticky = false) {
  const negative = m < 0n;
  let q = abs(m);
  const digits = q.toString().length;
  if (q === 0n || digits <= sig) return { m, e };
  const drop = digits - sig;
  const p = pow10(drop);
  const r = q % p;
  q /= p;
  const half = p / 2n;
  if (r > half || (r === half && (sticky || q % 2n === 1n))) q += 1n;
  return { m: negative ? -q : q, e: e + drop };
}

function subtract(a, b) {
  const [x, y, e] = align(a, b);
  return roundSig({ m: x - y, e }, PRECISION);
}

function divide(a, b) {
  let num = abs(a.m);
  const den = abs(b.m);
  const k = Math.max(0, PRECISION + 2 + den.toString().length - num.toString().length);
  num *= pow10(k);
  const q = num / den;
  const sticky = num % den !== 0n;
  const negative = a.m < 0n !== b.m < 0n;
  return roundSig({ m: negative ? -q : q, e: a.e - b.e - k }, PRECISION, sticky);
}

const toNumber = ({ m, e }) => (m === 0n ? 0 : Number(`${m}e${e}`));

// --- Judgements (judgements.judge) ------------------------------------------------------------------
function selectBand(bands, x) {
  if (bands.length === 1 && bands[0].min == null && bands[0].max == null) return bands[0];
  if (x == null) return null;
  for (const band of bands) {
    const low = band.min == null ? null : decimalOf(band.min);
    const high = band.max == null ? null : decimalOf(band.max);
    if ((low == null || compare(x, low) >= 0) && (high == null || compare(x, high) < 0)) return band;
  }
  return null;
}

const numeric = (v) => typeof v === "number" && Number.isFinite(v);

/** One computation judged with its inputs' values by role (numbers or null), as judgements.judge. */
export function judge(computation, values, limits) {
  const kind = computation.kind;
  const [readingRole, baselineRole] = ROLES[kind];
  const numbers = {};
  for (const role of Object.keys(computation.inputs)) numbers[role] = decimalOf(values?.[role]);
  const a = numbers[readingRole] ?? null;
  let b = numbers[baselineRole] ?? null;
  let baseline = baselineRole;
  const missing = [];
  if (a == null) missing.push(readingRole);
  if (DRIFT_KINDS.has(kind) && b == null) {
    b = numbers.reference ?? null;
    baseline = "reference";
    if (b == null) missing.push("previous_after", "reference");
  } else if (b == null) {
    missing.push(baselineRole);
  }
  const bandOnValue = numbers[limits.band_on] ?? null;
  const band = selectBand(limits.bands || [], bandOnValue);
  if (band == null && bandOnValue == null && !missing.includes(limits.band_on)) missing.push(limits.band_on);
  const limit = (band && band.limit) || {};
  const limitType = limit.type ?? null;
  if (limitType === "full_scale" && numbers.span == null && !missing.includes("span")) missing.push("span");

  let value = null;
  let reason = missing.length ? "missing_inputs" : null;
  if (band == null && !missing.length) reason = "no_band";
  if (!reason && a != null && b != null) {
    const delta = subtract(a, b);
    if (limitType === "absolute") {
      value = delta;
    } else {
      const denominator = limitType === "full_scale" ? numbers.span : bandOnValue;
      if (denominator && denominator.m !== 0n) value = divide(delta, denominator);
      else reason = limitType === "full_scale" ? "zero_span" : "zero_reference";
    }
  }
  if (value != null) value = roundSig(value, SIGNIFICANT);
  const passed =
    value == null ? null : compare({ m: abs(value.m), e: value.e }, decimalOf(limit.value)) <= 0;
  const inputs = {};
  for (const role of Object.keys(computation.inputs)) inputs[role] = values?.[role] ?? null;
  return {
    key: computation.key,
    label: computation.label || "",
    kind,
    section: computation.section,
    instrument: computation.instrument ?? null,
    value: value == null ? null : toNumber(value),
    value_type: !limitType ? null : limitType === "absolute" ? "absolute" : "fraction",
    limit: limit.value ?? null,
    limit_type: limitType,
    limit_unit: limitType === "absolute" ? (limit.unit ?? null) : null,
    band: band == null ? null : { min: band.min ?? null, max: band.max ?? null },
    passed,
    provisional: !limits.confirmed,
    limit_set: limits.key,
    source: limits.source || "",
    missing,
    baseline: DRIFT_KINDS.has(kind) ? baseline : baselineRole,
    inputs,
    reason,
  };
}

// --- Pairs of a comparison (judgements.judge_pairs) -------------------------------------------------
/** HJ 355-2019: 3 pairs need 2 within the limit, 4 need 3, 5 or more need 4 (a count, not a
 * proportion: 4 of 6 passes); rule "all" (the flowmeter's 6 level readings): every one. */
export function pairsRequired(count, rule) {
  if (rule === "all") return count;
  return count === 3 ? 2 : count === 4 ? 3 : 4;
}

const numberOf = (value) => {
  if (value && typeof value === "object" && !Array.isArray(value)) value = value.value;
  return numeric(value) ? value : null;
};

function inRange(x, substitute) {
  const low = substitute.min == null ? null : decimalOf(substitute.min);
  const high = substitute.max == null ? null : decimalOf(substitute.max);
  return (low == null || compare(x, low) >= 0) && (high == null || compare(x, high) <= 0);
}

/** A standard sample replacing a real sample below the band, judged against that band's limit. */
function standardCheck(computation, standard, band, limits) {
  const substitute = band.substitute || {};
  const spec = {
    ...limits,
    measure: "relative_error",
    bands: [{ min: null, max: null, limit: band.limit }],
    band_on: "reference",
  };
  const single = {
    key: computation.key,
    kind: "relative_error",
    section: computation.section,
    inputs: { measured: "measured", reference: "reference" },
  };
  const j = judge(single, { measured: standard.measured ?? null, reference: standard.reference ?? null }, spec);
  const reference = standard.reference == null ? null : decimalOf(standard.reference);
  let passed = j.passed;
  let reason = j.reason;
  const missing = j.missing.map((role) => `standard_${role}`);
  if (missing.length) {
    reason = "standard_sample_required";
  } else if (reference != null && !inRange(reference, substitute)) {
    passed = null;
    reason = "standard_out_of_range";
  }
  return {
    mode: "standard_sample",
    value: passed != null ? j.value : null,
    value_type: j.value_type,
    limit: j.limit,
    limit_type: j.limit_type,
    limit_unit: j.limit_unit,
    band: { min: band.min ?? null, max: band.max ?? null },
    passed,
    missing,
    reason,
    standard: {
      measured: standard.measured ?? null,
      reference: standard.reference ?? null,
      range: { min: substitute.min ?? null, max: substitute.max ?? null },
    },
  };
}

/** One comparison_pairs computation (judgements.judge_pairs): `rows` as {instrument, lab} values,
 * `standard` the substitute standard sample's {measured, reference}. */
export function judgePairs(computation, rows, standard, limits, instrument = null) {
  const rule = computation.rule || "hj355_real_sample";
  const minPairs = Number(computation.min_pairs || 3);
  const single = {
    key: computation.key,
    kind: "comparison_error",
    section: computation.section,
    inputs: { instrument: "instrument", lab: "lab" },
  };
  const pairs = [];
  let belowBand = null;
  (rows || []).forEach((row, n) => {
    const a = numberOf(row?.instrument);
    const b = numberOf(row?.lab);
    const pair = { row: n + 1, instrument: a, lab: b };
    const band = selectBand(limits.bands || [], b == null ? null : decimalOf(b));
    if (a == null || b == null) {
      Object.assign(pair, { value: null, limit: null, limit_type: null, band: null, passed: null, reason: "missing_inputs" });
    } else if (band != null && band.substitute) {
      belowBand = belowBand || band;
      Object.assign(pair, {
        value: null,
        limit: null,
        limit_type: null,
        band: { min: band.min ?? null, max: band.max ?? null },
        passed: null,
        reason: "below_band",
      });
    } else {
      const j = judge(single, { instrument: a, lab: b }, limits);
      Object.assign(pair, {
        value: j.value,
        limit: j.limit,
        limit_type: j.limit_type,
        band: j.band,
        passed: j.passed,
        reason: j.reason,
      });
    }
    pairs.push(pair);
  });
  const complete = pairs.filter((p) => p.reason !== "missing_inputs");
  const judged = pairs.filter((p) => p.passed != null);
  const within = judged.filter((p) => p.passed).length;
  const inputs = {};
  for (const role of Object.keys(standard || {}).sort()) inputs[role] = standard[role] ?? null;
  const out = {
    key: computation.key,
    label: computation.label || "",
    kind: PAIRS_KIND,
    section: computation.section,
    instrument,
    value: null,
    value_type: null,
    limit: null,
    limit_type: null,
    limit_unit: null,
    band: null,
    passed: null,
    provisional: !limits.confirmed,
    limit_set: limits.key,
    source: limits.source || "",
    missing: [],
    baseline: "lab",
    inputs,
    reason: null,
    mode: "real_sample",
    rule,
    min_pairs: minPairs,
    pairs,
    pairs_total: judged.length,
    pairs_passed: within,
    pairs_required: null,
    standard: null,
  };
  if (belowBand != null && judged.length < minPairs) {
    return Object.assign(out, standardCheck(computation, standard || {}, belowBand, limits));
  }
  if (complete.length < minPairs || judged.length < minPairs) {
    out.reason = complete.length < minPairs ? "too_few_pairs" : "not_computable";
    if (complete.length < minPairs) out.missing = ["pairs"];
    return out;
  }
  const required = pairsRequired(judged.length, rule);
  out.pairs_required = required;
  out.passed = within >= required;
  if (rule === "all") {
    let worst = judged[0];
    for (const p of judged.slice(1)) {
      const x = decimalOf(p.value);
      const w = decimalOf(worst.value);
      if (compare({ m: abs(x.m), e: x.e }, { m: abs(w.m), e: w.e }) > 0) worst = p;
    }
    const band = selectBand(limits.bands || [], decimalOf(worst.lab)) || {};
    const limit = band.limit || {};
    Object.assign(out, {
      value: worst.value,
      value_type: limit.type === "absolute" ? "absolute" : "fraction",
      limit: limit.value ?? null,
      limit_type: limit.type ?? null,
      limit_unit: limit.type === "absolute" ? (limit.unit ?? null) : null,
      band: worst.band,
    });
  }
  return out;
}

function pairRows(block, computation) {
  const table = block?.[computation.pairs];
  const rows = (Array.isArray(table) ? table : [])
    .filter((row) => row && typeof row === "object" && !Array.isArray(row))
    .map((row) => {
      const out = {};
      for (const [role, column] of Object.entries(computation.inputs)) out[role] = numberOf(row[column]);
      return out;
    });
  const standard = {};
  for (const [role, item] of Object.entries(computation.standard || {})) standard[role] = numberOf(block?.[item]);
  return [rows, standard];
}

function sectionValues(block, computation) {
  const values = {};
  for (const [role, itemKey] of Object.entries(computation.inputs)) {
    let value = block?.[itemKey];
    if (value && typeof value === "object" && !Array.isArray(value)) value = value.value;
    values[role] = numeric(value) ? value : null;
  }
  return values;
}

/** A computation whose limit set is not in the cached template (an old cache): not judged. */
function unjudged(comp, values) {
  return {
    key: comp.key,
    label: comp.label || "",
    kind: comp.kind,
    section: comp.section,
    instrument: comp.instrument ?? null,
    value: null,
    value_type: null,
    limit: null,
    limit_type: null,
    limit_unit: null,
    band: null,
    passed: null,
    provisional: true,
    limit_set: comp.limit_set,
    source: "",
    missing: [],
    baseline: ROLES[comp.kind]?.[1] ?? null,
    inputs: values,
    reason: "no_limits",
  };
}

function blockAnswers(form, answers, blockKey) {
  const block = form.blocks.find((b) => b.key === blockKey);
  const sectionAnswers = answers?.[block.section] || {};
  return block.instrument ? sectionAnswers[String(block.instrument.id)] || {} : sectionAnswers;
}

/** Every computation of the form, once per block of its section (judgements.evaluate), each with
 * its `block` and `missingLabels` (the missing inputs named by their items' labels). */
export function judgeForm(form, answers) {
  return form.computations.map((comp) => {
    const block = form.blocks.find((b) => b.key === comp.block);
    const answered = blockAnswers(form, answers, comp.block);
    const labels = new Map(block.items.map((i) => [i.key, i.label]));
    if (comp.kind === PAIRS_KIND) {
      const [rows, standard] = pairRows(answered, comp);
      const j = comp.limits
        ? judgePairs(comp, rows, standard, comp.limits, comp.instrument ?? null)
        : unjudged(comp, standard);
      const item = (role) =>
        role === "pairs" ? comp.pairs : (comp.standard || {})[role.replace(/^standard_/, "")];
      const missingLabels = j.missing.map((role) => labels.get(item(role)) || role);
      return { ...j, block: comp.block, label: comp.label || "", missingLabels, filled: rows.length };
    }
    const values = sectionValues(answered, comp);
    const j = comp.limits ? judge(comp, values, comp.limits) : unjudged(comp, values);
    const missingLabels = j.missing.map((role) => labels.get(comp.inputs[role]) || role);
    return { ...j, block: comp.block, label: comp.label || "", missingLabels };
  });
}

// --- Words ------------------------------------------------------------------------------------------
function fmt(x) {
  return String(Number(x.toPrecision(10)));
}

function percent(x) {
  return `${Number((x * 100).toPrecision(6))}%`;
}

const signed = (x, text) => (x > 0 ? `+${text}` : text);

/** A judgement in words: 零点漂移 +1.2% F.S.（限值 ±5% F.S.）合格, with 待核实 when its limit set is
 * not confirmed, 缺少：… when inputs are missing, 无法计算：… when it cannot be computed. */
export function judgementText(j) {
  if (j.kind === PAIRS_KIND) return pairsText(j);
  const label = j.label ? `${j.label} ` : "";
  if (j.missing && j.missing.length) {
    return `${label}缺少：${(j.missingLabels || j.missing).join("、")}`;
  }
  if (j.value == null) {
    return `${label}无法计算：${REASONS[j.reason] || "未判定"}`;
  }
  const kind = j.limit_type;
  const fs = kind === "full_scale" ? " F.S." : "";
  const unit = kind === "absolute" && j.limit_unit ? ` ${j.limit_unit}` : "";
  const valueText = kind === "absolute" ? signed(j.value, fmt(j.value)) : signed(j.value, percent(j.value));
  const limitText = kind === "absolute" ? `±${fmt(j.limit)}` : `±${percent(j.limit)}`;
  const result = j.passed ? "合格" : "不合格";
  return `${label}${valueText}${unit}${fs}（限值 ${limitText}${unit}${fs}）${result}${
    j.provisional ? "（限值待核实）" : ""
  }`;
}

function valueWords(j, value, limit) {
  const kind = j.limit_type;
  const unit = kind === "absolute" && j.limit_unit ? ` ${j.limit_unit}` : "";
  const valueText = kind === "absolute" ? signed(value, fmt(value)) : signed(value, percent(value));
  const limitText = kind === "absolute" ? `±${fmt(limit)}` : `±${percent(limit)}`;
  return [`${valueText}${unit}`, `${limitText}${unit}`];
}

/** A comparison of pairs in words: 3/4 对合格（4 对中至少 3 对在限值内）合格; below the band, the
 * standard sample that replaced the real sample; what is still missing. */
function pairsText(j) {
  const label = j.label ? `${j.label} ` : "";
  const result = j.passed ? "合格" : "不合格";
  const flag = j.provisional ? "（限值待核实）" : "";
  if (j.reason === "no_limits") return `${label}无法计算：${REASONS.no_limits}`;
  if (j.mode === "standard_sample") {
    const below = j.band?.max != null ? `实际水样低于 ${fmt(j.band.max)}${j.limit_unit ? ` ${j.limit_unit}` : ""}，` : "";
    if (j.reason === "standard_sample_required") {
      return `${label}${below}须以标准样品代替：请填写${(j.missingLabels || j.missing).join("、")}`;
    }
    if (j.reason === "standard_out_of_range") {
      const r = j.standard?.range || {};
      return `${label}${below}代替用标准样品浓度须在 ${fmt(r.min)}–${fmt(r.max)}${j.limit_unit ? ` ${j.limit_unit}` : ""}`;
    }
    if (j.value == null) return `${label}无法计算：${REASONS[j.reason] || "未判定"}`;
    const [valueText, limitText] = valueWords(j, j.value, j.limit);
    return `${label}${below}以标准样品代替：${valueText}（限值 ${limitText}）${result}${flag}`;
  }
  if (j.pairs_required == null) {
    if (j.reason === "not_computable") return `${label}无法计算：${REASONS.not_computable}`;
    return `${label}比对数据不足：已填 ${j.filled ?? j.pairs_total} 组，至少 ${j.min_pairs} 组`;
  }
  const counts = `${j.pairs_passed}/${j.pairs_total} 对合格`;
  if (j.rule === "all") {
    const [valueText, limitText] = valueWords(j, j.value, j.limit);
    return `${label}${counts}，最大误差 ${valueText}（限值 ${limitText}）${result}${flag}`;
  }
  return `${label}${counts}（${j.pairs_total} 对中至少 ${j.pairs_required} 对在限值内）${result}${flag}`;
}

const judgementClass = (j) => (j.passed === true ? "pass" : j.passed === false ? "fail" : "unknown");

// --- Times ------------------------------------------------------------------------------------------
const pad = (n, w = 2) => String(Math.abs(n)).padStart(w, "0");

/** `offsetMinutes` is as Date#getTimezoneOffset gives it: UTC − local (−480 in China). */
function isoWithOffset(y, mo, d, h, mi, s, offsetMinutes) {
  const east = -offsetMinutes;
  const sign = east < 0 ? "-" : "+";
  const zone = `${sign}${pad(Math.trunc(Math.abs(east) / 60))}:${pad(Math.abs(east) % 60)}`;
  return `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${zone}`;
}

function localToIso(value, offsetMinutes) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?$/.exec(value.trim());
  if (!m) return value.trim(); // not a datetime-local value: the server says what is wrong
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v || 0));
  const offset = offsetMinutes ?? new Date(y, mo - 1, d, h, mi, s).getTimezoneOffset();
  return isoWithOffset(y, mo, d, h, mi, s, offset);
}

function isoToLocal(value, offsetMinutes) {
  if (typeof value !== "string") return "";
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return "";
  const offset = offsetMinutes ?? new Date(ms).getTimezoneOffset();
  const t = new Date(ms - offset * 60_000);
  const seconds = t.getUTCSeconds() ? `:${pad(t.getUTCSeconds())}` : "";
  return (
    `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}` +
    `T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}${seconds}`
  );
}

/** Answers a new record starts with: the first plain section's required datetime (运维时间) = now. */
export function defaultAnswers(form, now = new Date(), { offsetMinutes } = {}) {
  const block = form.blocks.find((b) => !b.instrument);
  if (!block) return {};
  const datetimes = block.items.filter((i) => i.kind === "datetime" && i.required);
  const item = datetimes.find((i) => i.key === "om_time") || datetimes[0];
  if (!item) return {};
  const offset = offsetMinutes ?? now.getTimezoneOffset();
  const t = new Date(now.getTime() - offset * 60_000);
  const iso = isoWithOffset(
    t.getUTCFullYear(),
    t.getUTCMonth() + 1,
    t.getUTCDate(),
    t.getUTCHours(),
    t.getUTCMinutes(),
    0, // to the minute, as a technician would type it
    offset,
  );
  return { [block.section]: { [item.key]: iso } };
}

// --- HTML -------------------------------------------------------------------------------------------
const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);

function blank(value) {
  return (
    value == null ||
    value === "" ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0)
  );
}

function answered(value) {
  if (value && typeof value === "object" && !Array.isArray(value) && "status" in value) {
    return Boolean(value.status); // normal_abnormal: a note alone is not an answer
  }
  return !blank(value);
}

function numberValue(value) {
  if (value && typeof value === "object") value = value.value;
  return numeric(value) ? String(value) : typeof value === "string" ? value : "";
}

function sectionUnit(block, answers) {
  const unitItem = block.items.find((i) => i.key === "unit" && i.kind === "choice");
  const chosen = answers?.unit;
  if (!unitItem || typeof chosen !== "string" || chosen === "other") return "";
  return (unitItem.choices || []).find((c) => c.value === chosen)?.label || "";
}

function itemHead(item) {
  const required = item.required ? ' <span class="om-required">必填</span>' : "";
  return `<span class="om-label">${esc(item.label)}</span>${required}`;
}

function hint(item) {
  return item.hint ? `<small class="om-hint">${esc(item.hint)}</small>` : "";
}

// A datetime-local value with seconds is a "step mismatch" under the default step of 60 s.
const secondsStep = (local) => (local.length > 16 ? ' step="1"' : "");

function bounds(item) {
  return (
    (item.min != null ? ` min="${esc(item.min)}"` : "") + (item.max != null ? ` max="${esc(item.max)}"` : "")
  );
}

function cellControl(column, name, value, offsetMinutes) {
  const label = `${column.label}${column.unit ? `（${column.unit}）` : ""}`;
  const aria = ` aria-label="${esc(label)}"`;
  if (column.kind === "number") {
    return `<input type="number" inputmode="decimal" step="any" name="${esc(name)}" value="${esc(
      numberValue(value),
    )}"${aria}>`;
  }
  if (column.kind === "datetime") {
    const local = isoToLocal(value, offsetMinutes);
    return `<input type="datetime-local" name="${esc(name)}" value="${esc(local)}"${secondsStep(local)}${aria}>`;
  }
  return `<input type="text" maxlength="${CELL_MAX}" name="${esc(name)}" value="${esc(value ?? "")}"${aria}>`;
}

function itemHtml(block, item, blockAnswersValue, offsetMinutes) {
  const name = `a|${block.key}|${item.key}`;
  const value = blockAnswersValue[item.key];
  const attrs = `class="om-item om-${esc(item.kind)}" data-item="${esc(item.key)}"`;
  switch (item.kind) {
    case "normal_abnormal": {
      const status = value?.status;
      const radios = Object.entries(STATUS_LABELS)
        .map(
          ([v, label]) =>
            `<label><input type="radio" name="${esc(`${name}|status`)}" value="${v}"${
              status === v ? " checked" : ""
            }> ${label}</label>`,
        )
        .join(" ");
      return (
        `<div ${attrs} role="group" aria-label="${esc(item.label)}">${itemHead(item)} ${radios}` +
        `<label class="om-note">说明（不正常时必填）<input type="text" maxlength="${NOTE_MAX}" name="${esc(
          `${name}|note`,
        )}" value="${esc(value?.note ?? "")}"></label>${hint(item)}</div>`
      );
    }
    case "number": {
      const unit = item.unit || sectionUnit(block, blockAnswersValue);
      return (
        `<label ${attrs}>${itemHead(item)} <input type="number" inputmode="decimal" step="any" name="${esc(
          name,
        )}" value="${esc(numberValue(value))}"${bounds(item)}${item.required ? ' aria-required="true"' : ""}>` +
        `${unit ? ` <span class="om-unit">${esc(unit)}</span>` : ""}${hint(item)}</label>`
      );
    }
    case "text":
      return (
        `<label ${attrs}>${itemHead(item)} <textarea name="${esc(name)}" maxlength="${TEXT_MAX}"${
          item.required ? ' aria-required="true"' : ""
        }>${esc(typeof value === "string" ? value : "")}</textarea>${hint(item)}</label>`
      );
    case "choice": {
      const choices = item.choices || [];
      if (item.multiple) {
        const picked = new Set(Array.isArray(value) ? value : []);
        const boxes = choices
          .map(
            (c) =>
              `<label><input type="checkbox" name="${esc(name)}" value="${esc(c.value)}"${
                picked.has(c.value) ? " checked" : ""
              }> ${esc(c.label)}</label>`,
          )
          .join(" ");
        return `<div ${attrs} role="group" aria-label="${esc(item.label)}">${itemHead(item)} ${boxes}${hint(
          item,
        )}</div>`;
      }
      const options = choices
        .map(
          (c) =>
            `<option value="${esc(c.value)}"${c.value === value ? " selected" : ""}>${esc(c.label)}</option>`,
        )
        .join("");
      return `<label ${attrs}>${itemHead(item)} <select name="${esc(name)}"${
        item.required ? ' aria-required="true"' : ""
      }><option value=""></option>${options}</select>${hint(item)}</label>`;
    }
    case "datetime": {
      const local = isoToLocal(value, offsetMinutes);
      return (
        `<label ${attrs}>${itemHead(item)} <input type="datetime-local" name="${esc(name)}" value="${esc(
          local,
        )}"${secondsStep(local)}${item.required ? ' aria-required="true"' : ""}>${hint(item)}</label>`
      );
    }
    case "table": {
      const columns = item.columns || [];
      // A comparison needs at least min_rows pairs (HJ 355-2019: 3; level: 6) and may take more:
      // enough empty rows are drawn for them and two more (blank rows are not sent).
      const filled = Array.isArray(value) ? value : [];
      const empties = Math.max(EMPTY_TABLE_ROWS, (item.min_rows || 0) + 2 - filled.length);
      const rows = [...filled, ...Array(empties).fill({})];
      const head = columns
        .map((c) => `<th scope="col">${esc(c.label)}${c.unit ? `（${esc(c.unit)}）` : ""}</th>`)
        .join("");
      const body = rows
        .map(
          (row, n) =>
            `<tr>${columns
              .map((c) => `<td>${cellControl(c, `${name}|${n}|${c.key}`, row?.[c.key], offsetMinutes)}</td>`)
              .join("")}</tr>`,
        )
        .join("");
      return (
        `<div ${attrs} role="group" aria-label="${esc(item.label)}">${itemHead(item)}` +
        `<table class="om-table"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>` +
        `<small class="om-hint">${item.min_rows ? `至少填写 ${esc(item.min_rows)} 组；` : ""}整行留空的行不会提交；填写的行须各列填全。</small>${hint(item)}</div>`
      );
    }
    case "photo":
      return `<div ${attrs}>${itemHead(item)} <small class="om-hint">手机端暂不支持在表单中附照片</small></div>`;
    default:
      return `<div ${attrs}>${itemHead(item)}</div>`;
  }
}

function instrumentName(instrument) {
  const name = instrument.name || instrument.kind_label || instrument.kind || "";
  const detail = [instrument.model, instrument.serial_number ? `（${instrument.serial_number}）` : ""]
    .filter(Boolean)
    .join("");
  return detail ? `${name} ${detail}` : name;
}

/** The form's fields as HTML: a fieldset per block, controls named `a|<block>|<item>[|…]`, values
 * pre-filled from `answers`, and after each block its judgements in words. */
export function formHtml(form, answers, { judgements = [], offsetMinutes } = {}) {
  return form.blocks
    .map((block) => {
      const values = blockAnswers(form, answers, block.key);
      const group = block.group ? ` <small class="om-group">${esc(GROUP_LABELS[block.group] || block.group)}</small>` : "";
      const instrument = block.instrument
        ? ` <span class="om-instrument">${esc(instrumentName(block.instrument))}</span>`
        : "";
      const items = block.items.map((item) => itemHtml(block, item, values, offsetMinutes)).join("");
      const results = form.computations
        .filter((c) => c.block === block.key)
        .map((c) => {
          const j = judgements.find((x) => x.key === c.key && x.block === block.key);
          if (!j) return "";
          return `<p class="om-judgement ${judgementClass(j)}" data-judgement="${esc(
            `${c.key}@${block.key}`,
          )}">${esc(judgementText(j))}</p>`;
        })
        .join("");
      return (
        `<fieldset class="om-block" data-block="${esc(block.key)}"><legend>${esc(block.title)}${instrument}${group}</legend>` +
        `${items}${results}</fieldset>`
      );
    })
    .join("");
}

// --- Reading the answers back -----------------------------------------------------------------------
function parseNumber(text) {
  const s = text.trim();
  if (/^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s.replace(",", "."));
  return s; // kept as typed: the server answers 须为数字 rather than the value vanishing
}

function cellValue(column, text, offsetMinutes) {
  if (column.kind === "number") return parseNumber(text);
  if (column.kind === "datetime") return localToIso(text, offsetMinutes);
  return text.trim();
}

/** The answers in the server's format from `[name, value]` entries (`[...new FormData(form)]`).
 * Blanks are left out, an untouched block entirely. `offsetMinutes` as Date#getTimezoneOffset
 * (default: the phone's own offset at the moment typed). */
export function readAnswers(form, entries, { offsetMinutes } = {}) {
  const raw = new Map(); // block key -> item key -> [rest of name, value][]
  for (const [name, value] of entries) {
    if (typeof name !== "string" || typeof value !== "string" || !name.startsWith("a|")) continue;
    const [, blockKey, itemKey, ...rest] = name.split("|");
    if (!raw.has(blockKey)) raw.set(blockKey, new Map());
    const items = raw.get(blockKey);
    if (!items.has(itemKey)) items.set(itemKey, []);
    items.get(itemKey).push([rest, value]);
  }
  const answers = {};
  for (const block of form.blocks) {
    const typed = raw.get(block.key);
    if (!typed) continue;
    const out = {};
    for (const item of block.items) {
      const parts = typed.get(item.key);
      if (!parts) continue;
      const value = readItem(item, parts, offsetMinutes);
      if (!blank(value)) out[item.key] = value;
    }
    if (blank(out)) continue;
    if (block.instrument) {
      answers[block.section] ??= {};
      answers[block.section][String(block.instrument.id)] = out;
    } else {
      answers[block.section] = out;
    }
  }
  return answers;
}

function readItem(item, parts, offsetMinutes) {
  const first = parts.length ? parts[0][1] : "";
  switch (item.kind) {
    case "normal_abnormal": {
      const status = parts.find(([rest]) => rest[0] === "status")?.[1] || null;
      const note = (parts.find(([rest]) => rest[0] === "note")?.[1] || "").trim();
      if (!status && !note) return null;
      return { status, note };
    }
    case "number":
      return first.trim() === "" ? null : parseNumber(first);
    case "text":
      return first.trim();
    case "choice": {
      if (item.multiple) return [...new Set(parts.map(([, v]) => v).filter((v) => v !== ""))];
      return first === "" ? null : first;
    }
    case "datetime":
      return first.trim() === "" ? null : localToIso(first, offsetMinutes);
    case "table": {
      const columns = new Map((item.columns || []).map((c) => [c.key, c]));
      const rows = new Map();
      for (const [[index, key], text] of parts) {
        const column = columns.get(key);
        if (!column || !/^\d+$/.test(index ?? "") || text.trim() === "") continue;
        const n = Number(index);
        if (!rows.has(n)) rows.set(n, {});
        rows.get(n)[key] = cellValue(column, text, offsetMinutes);
      }
      return [...rows.entries()].sort((x, y) => x[0] - y[0]).map(([, row]) => row);
    }
    default:
      return null; // photo: not answered on the phone yet
  }
}

/** Required items of the shown blocks that are unanswered (a hint; the server decides). */
export function missingRequired(form, answers) {
  const out = [];
  for (const block of form.blocks) {
    const values = blockAnswers(form, answers, block.key);
    for (const item of block.items) {
      const short = item.min_rows && Array.isArray(values[item.key]) && values[item.key].length < item.min_rows;
      if ((item.required && !answered(values[item.key])) || short) {
        out.push({ block: block.key, item: item.key, label: item.label, blockTitle: block.title });
      }
    }
  }
  return out;
}
