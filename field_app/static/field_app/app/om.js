// 运维 and 企业确认 on the phone: the screens (DOM). What they compute is in om_model.js and
// omform.js (pure, tested with node --test); this file draws and wires them to the sync client.
//
// Technician: 运维任务 → a task's points → 开始运维 (开始签到 at the point) → the record's page: the
// form chosen for the point's kind, its instruments and check groups, the items (instrument blocks
// repeated per instrument, each computed judgement shown as the numbers are typed), 签字, 工作照,
// 结束签到, 暂存 / 提交. Enterprise confirmer: 待确认 → a day's records → 签字, 工作照, 确认.
// Everything is kept on the phone (IndexedDB) and queued; nothing needs signal but fetching the
// reference data (tasks, outlets, instruments, templates) once.
import * as omform from "./omform.js";
import * as m from "./om_model.js";
import { KEY as CHECKIN, checkinState } from "./checkin.js";
import { signaturePad } from "./signature.js";

const OM_TASKS = "app:om_tasks";
const INSTRUMENTS = "app:instruments";
const TEMPLATES = "app:om_templates";
const OUTLETS = "app:outlets";
const DAY = "app:omday:"; // + date: GET /om/days/{date}, kept for reading offline

const KIND_LABELS = { wastewater: "废水", waste_gas: "废气" };

export function createOm({ client, ui, ROOT, e, render, scheduleRender, go, syncNow, makeThumbnail, formatTime, formatFix }) {
  let drawing = false; // a finger on the signature pad: no re-render under it
  const get = (key, fallback) => client.storage.get(key).then((v) => v ?? fallback);

  // --- Reference data, fetched while there is signal ---------------------------------------------
  async function pages(path, query = {}) {
    const list = [];
    for (let page = 1; page <= 20; page += 1) {
      const body = await client.api("GET", path, { query: { ...query, page: String(page), page_size: "200" } });
      list.push(...(body.results ?? body));
      if (!body.next) break;
    }
    return list;
  }

  async function refresh(user) {
    if (user?.role === "enterprise") return;
    // A finished task (已完结) takes no new records: the phone lists the running ones only (issue F13).
    const tasks = await pages("/api/v1/om-tasks", { status: "active" });
    await client.storage.set(OM_TASKS, tasks);
    if (!tasks.length) return;
    const [instruments, templates] = await Promise.all([pages("/api/v1/instruments"), client.api("GET", "/api/v1/om/templates")]);
    await client.storage.set(INSTRUMENTS, instruments);
    await client.storage.set(TEMPLATES, templates);
  }

  async function roles(user) {
    return m.rolesOf(user, await get(OM_TASKS, []));
  }

  // --- Records on this phone -----------------------------------------------------------------------
  async function records() {
    const out = [];
    for (const key of await client.storage.keys(m.RECORD)) out.push(await client.storage.get(key));
    return out.filter(Boolean).sort((a, b) => b.started_at.localeCompare(a.started_at));
  }
  const saveRecord = (record) => client.storage.set(m.RECORD + record.id, record);
  const opsOf = (id) => client.queue.all().filter((r) => r.op.entity_id === id);

  async function pulledRecords() {
    return client.records("om_record");
  }

  async function checkIn(kind, task, outlet) {
    const fix = await client.captureFix();
    const id = crypto.randomUUID();
    await client.enqueue("checkin.record", id, m.omCheckinPayload({ kind, task, outlet, fix }));
    await client.storage.set(CHECKIN + id, { id, task: null, om_task: Number(task), outlet: Number(outlet), kind, at: fix.device_time, fix, result: null });
    return id;
  }

  async function checkinLine(id, label) {
    if (!id) return `<li class="step">${e(label)}：<span class="hint">未签到</span></li>`;
    const c = await client.storage.get(CHECKIN + id);
    if (!c) return `<li class="step done">${e(label)}：已签到</li>`;
    const record = client.queue.all().find((r) => r.op.entity_id === id) ?? null;
    const st = checkinState(c, record);
    return `<li class="step done checkin-item v-${e(st.key)}" data-checkin="${e(id)}">${e(label)}：${e(formatTime(c.at))} · <b>${e(st.label)}</b>${st.findings.map((f) => `<br><span class="why">${e(f)}</span>`).join("")}</li>`;
  }

  // --- Screens: technician ----------------------------------------------------------------------------
  async function tasksScreen() {
    const tasks = await get(OM_TASKS, []);
    const outlets = Object.fromEntries((await get(OUTLETS, [])).map((o) => [o.id, o]));
    const items = tasks
      .map((t) => {
        const points = (t.points ?? []).map((id) => outlets[id]?.name ?? `点位 ${id}`);
        const enterprise = outlets[t.points?.[0]]?.enterprise_name ?? "";
        return `<li><a class="task" href="${ROOT}om/${t.id}" data-link>
          <b>${e(t.name)}</b><span>${e(t.number)}${enterprise ? ` · ${e(enterprise)}` : ""}</span>
          <span class="status">${e(points.join("、"))}</span></a></li>`;
      })
      .join("");
    return `<section class="card"><h1>运维任务</h1>
      <p class="hint">到点位后点“开始运维”签到，再填写当天的表单。</p></section>
      <ul class="tasks">${items || `<li class="empty">没有运维任务。请在有网络时同步一次。</li>`}</ul>`;
  }

  async function taskScreen(route) {
    const task = (await get(OM_TASKS, [])).find((t) => String(t.id) === route.id);
    if (!task) return `<section class="card"><h1>找不到该运维任务</h1><a class="button" href="${ROOT}om" data-link>运维任务</a></section>`;
    const outlets = await get(OUTLETS, []);
    const mine = (await records()).filter((r) => r.task === task.id);
    const pulled = await pulledRecords();
    const points = (task.points ?? []).map((id) => {
      const outlet = outlets.find((o) => o.id === id);
      const here = mine.filter((r) => r.outlet === id);
      const list = here
        .map((r) => {
          const st = m.recordState(r, pulled.find((p) => p.id === r.id), opsOf(r.id));
          const template = r.template ? r.template_name || r.template : "未选表单";
          return `<li><a href="${ROOT}om/records/${e(r.id)}" data-link>${e(template)}</a> · ${e(formatTime(r.started_at))} · <b class="r-${e(st.key)}">${e(st.label)}</b></li>`;
        })
        .join("");
      return `<section class="card point" data-outlet="${id}">
        <h2>${e(outlet?.name ?? `点位 ${id}`)}</h2>
        <p class="hint">${e(KIND_LABELS[outlet?.kind] ?? "")}${outlet?.geofence_radius_m ? ` · 电子围栏 ${Math.round(outlet.geofence_radius_m)} 米` : ""}</p>
        ${list ? `<ul class="items">${list}</ul>` : ""}
        <button class="button primary" data-action="om-start" data-outlet="${id}">开始运维（开始签到）</button>
      </section>`;
    });
    return `<section class="card">
      <p class="crumb"><a href="${ROOT}om" data-link>运维任务</a></p>
      <h1>${e(task.name)}</h1><p>${e(task.number)}</p>
      <p class="hint">开始运维时记录开始签到的位置；签到、表单、签字、工作照和结束签到都先保存在本机，有网络时同步。</p>
    </section>${points.join("")}`;
  }

  async function recordScreen(route) {
    const record = await client.storage.get(m.RECORD + route.id);
    if (!record) return `<section class="card"><h1>找不到该运维记录</h1><a class="button" href="${ROOT}om" data-link>运维任务</a></section>`;
    const outlet = (await get(OUTLETS, [])).find((o) => o.id === record.outlet);
    const templates = m.templatesFor(await get(TEMPLATES, []), outlet);
    const template = templates.find((t) => t.code === record.template);
    const atPoint = m.instrumentsAt(await get(INSTRUMENTS, []), record.outlet);
    const chosen = atPoint.filter((i) => record.instruments.includes(i.id));
    const form = template ? omform.buildForm(template, { instruments: chosen, groups: record.groups }) : null;
    const missing = form ? omform.missingRequired(form, record.answers) : [];
    const { steps, blockers, canSubmit } = m.recordSteps(record, { missing });
    const pulled = (await pulledRecords()).find((p) => p.id === record.id);
    const st = m.recordState(record, pulled, opsOf(record.id));
    const locked = record.submitted;
    const options = templates
      .map((t) => `<option value="${e(t.code)}" ${t.code === record.template ? "selected" : ""}>${e(t.name)}</option>`)
      .join("");
    const instrumentBoxes = atPoint
      .map(
        (i) => `<label class="check"><input type="checkbox" data-om="instrument" value="${i.id}" ${record.instruments.includes(i.id) ? "checked" : ""}>
          ${e(i.name ?? i.kind)} ${e(i.model)}（${e(i.serial_number)}）</label>`,
      )
      .join("");
    const groupBoxes = (form?.groups ?? [])
      .map((g) => `<label class="check"><input type="checkbox" data-om="group" value="${e(g.key)}" ${g.chosen ? "checked" : ""}>${e(g.label)}</label>`)
      .join("");
    const judgements = form ? omform.judgeForm(form, record.answers) : [];
    return `
    <section class="card">
      <p class="crumb"><a href="${ROOT}om/${record.task}" data-link>运维任务</a></p>
      <h1>${e(template?.name ?? "运维记录")}</h1>
      <p>${e(outlet?.name ?? `点位 ${record.outlet}`)} · ${e(formatTime(record.started_at))}</p>
      <p class="status r-${e(st.key)}" id="om-state">${e(st.label)}</p>
      ${st.why ? `<p class="notice">${e(st.why)}</p>` : ""}
      <ol class="steps">${steps.map((s) => `<li class="${s.done ? "done" : ""}">${e(s.label)}</li>`).join("")}</ol>
    </section>
    <section class="card"><h2>签到</h2><ul class="items">
      ${await checkinLine(record.start_checkin, "开始签到")}
      ${await checkinLine(record.end_checkin, "结束签到")}</ul>
      ${record.end_checkin || locked ? "" : `<button class="button" data-action="om-end">结束签到</button>`}
    </section>
    <fieldset class="card" ${locked ? "disabled" : ""}>
      <h2>表单</h2>
      ${templates.length ? `<label>表单<select data-om="template"><option value="">请选择</option>${options}</select></label>` : `<p class="notice">本机还没有表单模板，请在有网络时同步一次。</p>`}
      ${template && atPoint.length ? `<div class="checks"><p>运维设备</p>${instrumentBoxes}</div>` : ""}
      ${template && !atPoint.length ? `<p class="notice">该点位没有登记的自动监控设备。</p>` : ""}
      ${groupBoxes ? `<div class="checks"><p>检查频次</p>${groupBoxes}</div>` : ""}
    </fieldset>
    ${form ? `<form id="om-form" class="card om-form" data-keep ${locked ? "inert" : ""}>${omform.formHtml(form, record.answers, { judgements })}</form>` : ""}
    <section class="card"><h2>签字</h2>
      <canvas id="signature" class="signature" aria-label="签字板" ${locked ? 'data-locked="1"' : ""}></canvas>
      ${locked ? "" : `<button class="button link" data-action="om-sign-clear">清除重签</button>`}
      <p class="hint" id="signature-state">${record.signature ? "已签字" : "请用手指在框内签名"}</p>
    </section>
    <section class="card"><h2>工作照</h2>
      <p class="hint">本人正面清晰的工作照，拍摄时记录位置。</p>
      ${record.work_photo_thumb ? `<img class="work-photo" alt="工作照" src="${e(record.work_photo_thumb)}">` : ""}
      ${photoLine(record.work_photo)}
      ${locked ? "" : `<label class="button shoot">${record.work_photo ? "重拍工作照" : "拍工作照"}<input type="file" accept="image/*" capture="user" data-om-photo="record" class="file"></label>`}
    </section>
    <section class="card">
      ${locked ? `<p class="hint">已提交；企业确认后由机构审核。</p>` : `
      <p class="hint" id="om-blockers">${canSubmit ? "可以提交。" : `提交前还需：${e(blockers.join("、"))}`}</p>
      <button class="button" data-action="om-save">暂存</button>
      <button class="button primary" data-action="om-submit" ${canSubmit ? "" : "disabled"}>提交</button>`}
    </section>`;
  }

  function photoLine(photoId) {
    if (!photoId) return "";
    const record = client.queue.all().find((r) => r.op.entity_id === photoId);
    const sha = record?.op?.payload?.sha256;
    const upload = sha ? client.uploads.get(sha) : null;
    const state = record?.state === "rejected" ? `被拒绝：${record.answer?.message ?? ""}` : upload?.state === "done" || !record ? "已上传" : "待上传";
    return `<p class="hint" id="work-photo-state">工作照：${e(state)}</p>`;
  }

  // --- Screens: enterprise confirmer -------------------------------------------------------------------
  async function daysScreen() {
    const days = m.pendingDays(await pulledRecords());
    const items = [];
    for (const d of days) {
      const mine = await client.storage.get(m.CONFIRM + d.date);
      const st = mine ? confirmState(mine) : null;
      items.push(`<li><a class="task" href="${ROOT}confirm/${d.date}" data-link><b>${e(d.date)}</b>
        <span>${d.records.length} 条运维记录待确认</span>${st ? `<span class="status">${e(st.label)}</span>` : ""}</a></li>`);
    }
    return `<section class="card"><h1>待确认运维记录</h1><p class="hint">核对运维单位当天提交的记录，签字并拍工作照后确认。</p></section>
      <ul class="tasks">${items.join("") || `<li class="empty">没有待确认的记录</li>`}</ul>`;
  }

  function confirmState(confirmation) {
    const record = client.queue.all().find((r) => r.op.entity_id === confirmation.id);
    if (!record) return { key: "done", label: "已确认" };
    if (["rejected", "expired", "too_large"].includes(record.state)) return { key: "rejected", label: `被拒绝：${record.answer?.message ?? ""}` };
    if (record.state === "conflict") return { key: "conflict", label: "部分记录在确认前已被修改，请重新确认修改后的记录" };
    if (record.state === "held") return { key: "held", label: "已确认 · 等待工作照上传" };
    if (record.state === "pending") return { key: "queued", label: "已确认 · 待同步" };
    return { key: "done", label: "已确认" };
  }

  async function dayScreen(route) {
    const date = route.id;
    const day = m.pendingDays(await pulledRecords()).find((d) => d.date === date);
    const mine = (await client.storage.get(m.CONFIRM + date)) ?? { date, signature: "", work_photo: null };
    if (navigator.onLine && ui.omDayFor !== date) {
      ui.omDayFor = date;
      client
        .api("GET", `/api/v1/om/days/${date}`)
        .then((detail) => client.storage.set(DAY + date, detail))
        .then(scheduleRender)
        .catch(() => {});
    }
    const detail = await client.storage.get(DAY + date);
    const records = day?.records ?? [];
    const rows = records
      .map((r) => {
        const d = (detail?.records ?? []).find((x) => x.id === r.id);
        const failing = (d?.sections ?? []).flatMap((s) => s.judgements ?? []).filter((j) => j.passed === false);
        const abnormal = (d?.sections ?? []).flatMap((s) => s.items ?? []).filter((i) => i.status === "abnormal");
        return `<li class="om-day-record" data-record="${e(r.id)}"><b>${e(d?.template_name ?? r.template)}</b>
          · ${e(d?.outlet_name ?? `点位 ${r.outlet}`)}${d?.filled_by_name ? ` · ${e(d.filled_by_name)}` : ""}${d?.submitted_at ? ` · ${e(formatTime(d.submitted_at))}` : ""}
          ${failing.map((j) => `<br><span class="why">${e(j.label)}：${e(j.value_text)}（限值 ${e(j.limit_text)}）${e(j.result)}${j.flag ? `（${e(j.flag)}）` : ""}</span>`).join("")}
          ${abnormal.map((i) => `<br><span class="why">${e(i.label)}：${e(i.text)}</span>`).join("")}</li>`;
      })
      .join("");
    const st = mine.id ? confirmState(mine) : null;
    const ready = records.length && mine.signature && mine.work_photo;
    return `
    <section class="card">
      <p class="crumb"><a href="${ROOT}confirm" data-link>待确认</a></p>
      <h1>${e(date)} 运维记录</h1>
      ${detail ? "" : `<p class="hint">记录详情需要网络才能读取；现在显示本机保存的摘要。</p>`}
      <ul class="items">${rows || "<li>该日没有待确认的记录</li>"}</ul>
      ${st ? `<p class="status" id="confirm-state">${e(st.label)}</p>` : ""}
    </section>
    ${st && st.key !== "rejected" && st.key !== "conflict" ? "" : `
    <section class="card"><h2>签字</h2>
      <canvas id="signature" class="signature" aria-label="签字板"></canvas>
      <button class="button link" data-action="om-sign-clear">清除重签</button>
      <p class="hint" id="signature-state">${mine.signature ? "已签字" : "请用手指在框内签名"}</p>
    </section>
    <section class="card"><h2>工作照</h2>
      ${mine.work_photo_thumb ? `<img class="work-photo" alt="工作照" src="${e(mine.work_photo_thumb)}">` : ""}
      ${photoLine(mine.work_photo)}
      <label class="button shoot">${mine.work_photo ? "重拍工作照" : "拍工作照"}<input type="file" accept="image/*" capture="user" data-om-photo="confirm" class="file"></label>
    </section>
    <section class="card">
      <button class="button primary" data-action="om-confirm" ${ready ? "" : "disabled"}>确认这 ${records.length} 条记录</button>
      ${ready ? "" : `<p class="hint">确认前请签字并拍工作照。</p>`}
    </section>`}`;
  }

  // --- Actions ------------------------------------------------------------------------------------------
  const route = () => ui.route ?? {};

  async function start(outletId) {
    const taskId = route().id;
    let checkin;
    try {
      checkin = await checkIn("start", taskId, outletId);
    } catch (error) {
      ui.flash = `无法定位，未签到：${error.message || error}`;
      return render();
    }
    const record = m.newRecord({ id: crypto.randomUUID(), task: taskId, outlet: outletId, startCheckin: checkin });
    const outlet = (await get(OUTLETS, [])).find((o) => o.id === Number(outletId));
    const templates = m.templatesFor(await get(TEMPLATES, []), outlet);
    if (templates.length === 1) record.template = templates[0].code;
    await saveRecord(record);
    go({ name: "om_record", id: record.id });
    ui.flash = "已开始签到，请填写表单。";
    if (navigator.onLine) syncNow();
  }

  async function current() {
    return client.storage.get(m.RECORD + route().id);
  }

  /** The answers as typed, read from the page into the record (before anything redraws the form). */
  async function keepAnswers(record) {
    const formEl = document.getElementById("om-form");
    if (!formEl || !record.template) return record;
    const form = await formOf(record);
    record.answers = omform.readAnswers(form, [...new FormData(formEl)]);
    return record;
  }

  async function formOf(record) {
    const template = (await get(TEMPLATES, [])).find((t) => t.code === record.template);
    if (!template) return null;
    const chosen = m.instrumentsAt(await get(INSTRUMENTS, []), record.outlet).filter((i) => record.instruments.includes(i.id));
    return omform.buildForm(template, { instruments: chosen, groups: record.groups });
  }

  async function choose(input) {
    const record = await keepAnswers(await current());
    if (input.dataset.om === "template") {
      record.template = input.value;
      const template = (await get(TEMPLATES, [])).find((t) => t.code === input.value);
      record.template_name = template?.name ?? "";
      record.template_version = template?.version;
      record.groups = [];
      record.answers = {};
      if (template) {
        const form = omform.buildForm(template, { instruments: [], groups: [] });
        record.answers = omform.defaultAnswers(form);
      }
    } else {
      const boxes = [...document.querySelectorAll(`input[data-om="${input.dataset.om}"]:checked`)].map((b) => b.value);
      if (input.dataset.om === "instrument") record.instruments = boxes.map(Number);
      else record.groups = boxes;
    }
    await saveRecord(record);
    render();
  }

  let typing = null;
  async function typed() {
    // Kept on the phone as typed (a closed app loses nothing); the judgements and what 提交 still
    // needs are redrawn in place, the inputs are not.
    clearTimeout(typing);
    typing = setTimeout(async () => {
      const record = await keepAnswers(await current());
      await saveRecord(record);
      const form = await formOf(record);
      if (!form) return;
      for (const j of omform.judgeForm(form, record.answers)) {
        const p = document.querySelector(`[data-judgement="${CSS.escape(`${j.key}@${j.block}`)}"]`);
        if (!p) continue;
        p.textContent = omform.judgementText(j);
        p.className = `om-judgement ${j.passed === true ? "pass" : j.passed === false ? "fail" : "unknown"}`;
      }
      const { blockers, canSubmit } = m.recordSteps(record, { missing: omform.missingRequired(form, record.answers) });
      const line = document.getElementById("om-blockers");
      if (line) line.textContent = canSubmit ? "可以提交。" : `提交前还需：${blockers.join("、")}`;
      const submit = document.querySelector('[data-action="om-submit"]');
      if (submit) submit.disabled = !canSubmit;
    }, 150);
  }

  async function end() {
    const record = await keepAnswers(await current());
    try {
      record.end_checkin = await checkIn("end", record.task, record.outlet);
    } catch (error) {
      ui.flash = `无法定位，未签退：${error.message || error}`;
      return render();
    }
    await saveRecord(record);
    ui.flash = "已结束签到。";
    await render();
    if (navigator.onLine) syncNow();
  }

  async function save(submit) {
    const record = await keepAnswers(await current());
    if (submit) {
      const form = await formOf(record);
      const { blockers } = m.recordSteps(record, { missing: form ? omform.missingRequired(form, record.answers) : [] });
      if (blockers.length) {
        ui.flash = `提交前还需：${blockers.join("、")}`;
        return render();
      }
    }
    await client.enqueue("om_record.save", record.id, m.recordPayload(record, { submit }));
    record.saves += 1;
    record.submitted = record.submitted || submit;
    await saveRecord(record);
    ui.flash = submit ? "已提交，有网络时同步，企业确认后由机构审核。" : "已暂存，有网络时同步。";
    await render();
    if (navigator.onLine) syncNow();
  }

  async function workPhoto(input) {
    const file = input.files[0];
    const which = input.dataset.omPhoto;
    const holder = which === "record" ? await keepAnswers(await current()) : ((await client.storage.get(m.CONFIRM + route().id)) ?? { date: route().id, signature: "" });
    const outlet = which === "record" ? holder.outlet : m.pendingDays(await pulledRecords()).find((d) => d.date === route().id)?.records[0]?.outlet;
    ui.flash = "";
    let fix = null;
    try {
      fix = await client.captureFix();
    } catch (error) {
      ui.flash = `未能定位（${error.message || error}），工作照仍会保存，但没有拍摄位置。`;
    }
    const photoId = crypto.randomUUID();
    try {
      const manifest = { photo_type: "work_photo", ...(fix ?? { device_time: new Date().toISOString() }) };
      if (outlet) manifest.outlet = Number(outlet);
      await client.recordPhoto({ photoId, file, manifest });
      holder.work_photo = photoId;
      holder.work_photo_thumb = await makeThumbnail(file);
      await client.storage.set(which === "record" ? m.RECORD + holder.id : m.CONFIRM + holder.date, holder);
      if (!ui.flash) ui.flash = `工作照已保存在本机（${formatFix(fix)}），有网络时上传。`;
    } catch (error) {
      ui.flash = error.message || "工作照未能保存。";
    }
    await render();
    if (navigator.onLine) syncNow();
  }

  async function signed(dataUrl) {
    if (ui.route?.name === "om_record") {
      const record = await keepAnswers(await current());
      record.signature = dataUrl;
      await saveRecord(record);
    } else {
      const date = route().id;
      const mine = (await client.storage.get(m.CONFIRM + date)) ?? { date, work_photo: null };
      mine.signature = dataUrl;
      await client.storage.set(m.CONFIRM + date, mine);
    }
    const state = document.getElementById("signature-state");
    if (state) state.textContent = dataUrl ? "已签字" : "请用手指在框内签名";
    if (ui.route?.name === "om_record") typed();
    else render();
  }

  async function confirm() {
    const date = route().id;
    const day = m.pendingDays(await pulledRecords()).find((d) => d.date === date);
    const mine = await client.storage.get(m.CONFIRM + date);
    const user = client.state().user;
    if (!day || !mine?.signature || !mine?.work_photo) return;
    const id = crypto.randomUUID();
    await client.enqueue("om_day.confirm", id, m.confirmPayload({ enterprise: user.enterprise.id, date, records: day.records, workPhoto: mine.work_photo, signature: mine.signature }));
    await client.storage.set(m.CONFIRM + date, { ...mine, id, records: day.records.map((r) => ({ id: r.id, version: r.version })) });
    ui.flash = "已确认，有网络时同步。";
    await render();
    if (navigator.onLine) syncNow();
  }

  // --- Wiring ---------------------------------------------------------------------------------------------
  let pad = null;
  function afterRender() {
    const canvas = document.getElementById("signature");
    if (!canvas) return;
    (async () => {
      const holder = ui.route?.name === "om_record" ? await current() : await client.storage.get(m.CONFIRM + route().id);
      if (canvas.dataset.locked) {
        if (holder?.signature) {
          const img = new Image();
          img.onload = () => canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
          img.src = holder.signature;
        }
        return;
      }
      pad = signaturePad(canvas, {
        initial: holder?.signature ?? "",
        onStart: () => (drawing = true),
        onChange: (url) => {
          drawing = false;
          signed(url);
        },
      });
    })();
  }

  function onAction(action, button) {
    const actions = {
      "om-start": () => start(button.dataset.outlet),
      "om-end": end,
      "om-save": () => save(false),
      "om-submit": () => save(true),
      "om-sign-clear": () => pad?.clear(),
      "om-confirm": confirm,
    };
    if (!actions[action]) return false;
    button.disabled = true;
    Promise.resolve(actions[action]()).catch((error) => {
      console.error(error);
      // The server's and the client's messages are Chinese; a program error is said as one.
      const said = ["ApiError", "StorageFullError"].includes(error?.name) && error.message;
      ui.flash = said || "操作未完成，请重试。";
      render();
    });
    return true;
  }

  function onChange(event) {
    const input = event.target;
    if (input.matches("input[type=file][data-om-photo]") && input.files?.length) {
      workPhoto(input);
      return true;
    }
    if (input.matches("[data-om]")) {
      choose(input);
      return true;
    }
    if (input.closest("#om-form")) {
      typed();
      return true;
    }
    return false;
  }

  function onInput(event) {
    if (!event.target.closest("#om-form")) return false;
    typed();
    return true;
  }

  return {
    screens: { om_tasks: tasksScreen, om_task: taskScreen, om_record: recordScreen, confirm_days: daysScreen, confirm_day: dayScreen },
    refresh,
    roles,
    afterRender,
    onAction,
    onChange,
    onInput,
    busy: () => drawing,
  };
}
