// Fieldtrace 外业端: the screens. Everything the user does is written to the phone first (the sync
// client's queue, IndexedDB) and sent when there is signal; the screens read what the phone holds.
import { createSyncClient, describeWait, ApiError, NetworkError } from "../sync/index.js";
import { browserAdapter } from "../sync/adapters/browser.js";
import { guard, parseRoute, routePath } from "./router.js";
import {
  STATUS_LABELS,
  POST_LABELS,
  escapeHtml as e,
  filterTasks,
  formatFix,
  formatTime,
  localTasks,
  parseCodes,
  photoState,
  photoVerdict,
  postsOn,
  syncSummary,
  taskChanges,
  taskCounts,
  taskEdits,
  taskStages,
  transitionsFor,
} from "./model.js";
import { TrackRecorder, onProject, pointsInQueue, shouldRecord, trackSummary } from "./track.js";
import * as checkins from "./checkin.js";
import { createOm } from "./om.js";
import { createNotices } from "./notices.js";

const ROOT = document.body.dataset.appRoot || "/app/";
const view = document.getElementById("view");
const net = document.getElementById("net");
const adapter = browserAdapter({ dbName: "fieldtrace-app" });
const client = createSyncClient({ baseUrl: location.origin, adapter, appVersion: "app-1" });

// --- 监测航迹 (track.js): recorded while a task of the user's runs -----------------------------------
const recorder = new TrackRecorder({
  storage: client.storage,
  watch: watchPositions,
  enqueue: (type, id, payload) => client.enqueue(type, id, payload),
  // A batch queued while a sync runs is sent by the sync that follows it (syncNow).
  onQueued: () => navigator.onLine && syncNow(),
  onChange: () => updateTrackCard(),
});
const currentFix = adapter.location.current;
adapter.location.current = () => recorder.withoutWatch(currentFix);

function watchPositions(onFix, onError) {
  if (adapter.location.watch) return adapter.location.watch(onFix, onError);
  if (!navigator.geolocation) {
    onError(new Error("本机不能定位"));
    return () => {};
  }
  const id = navigator.geolocation.watchPosition(onFix, onError, { enableHighAccuracy: true, maximumAge: 0 });
  return () => navigator.geolocation.clearWatch(id);
}

async function followTracks(state) {
  if (!state.signedIn) return recorder.setActive([]);
  const all = await projects();
  const running = (await tasks()).filter((t) => shouldRecord(t, onProject(all.find((p) => p.id === t.project), state.user)));
  return recorder.setActive(running.map((t) => t.id));
}

async function trackCard(task) {
  const s = trackSummary(await recorder.track(task.id), pointsInQueue(client.queue.all(), task.id), recorder.recording(task.id));
  return `<section class="card track" id="track" data-recorded="${s.recorded}" data-waiting="${s.waiting}">
    <h2>监测航迹</h2>
    <p class="${s.recording ? "recording" : "hint"}">${s.recording ? "正在记录位置" : "未在记录：任务进行中时记录"}</p>
    <p id="track-state">${e(s.text)}</p>
    ${s.recording && recorder.error ? `<p class="notice">无法定位：${e(recorder.error)}</p>` : ""}
  </section>`;
}
// A new fix redraws the track's card only: the rest of the page (a form, a photo input) stays as it is.
async function updateTrackCard() {
  const route = parseRoute(location.pathname, ROOT);
  if (route.name !== "task" || !document.getElementById("track")) return;
  const html = await trackCard({ id: route.id });
  const card = document.getElementById("track"); // again: a render may have replaced it meanwhile
  if (card && parseRoute(location.pathname, ROOT).id === route.id) card.outerHTML = html;
}
// --- end 监测航迹 ------------------------------------------------------------------------------------

// --- 打卡签到 (checkin.js): the fix now, a checkin.record operation, the verdict read back --------------
const OUTLETS = "app:outlets";

async function keepOutlets() {
  const list = [];
  for (let page = 1; page <= 10; page += 1) {
    const body = await client.api("GET", "/api/v1/outlets", { query: { page: String(page), page_size: "200" } });
    list.push(...(body.results ?? body));
    if (!body.next) break;
  }
  await client.storage.set(OUTLETS, list);
}

async function storedCheckins() {
  const out = [];
  for (const key of await client.storage.keys(checkins.KEY)) out.push(await client.storage.get(key));
  return out;
}

const checkinRecord = (c) => client.queue.all().find((r) => r.op.type === "checkin.record" && r.op.entity_id === c.id) ?? null;

async function checkinCard(task, project) {
  const outlets = checkins.outletsOf(await client.storage.get(OUTLETS), project);
  const list = checkins.checkinsOf(await storedCheckins(), task.id);
  return `<section class="card checkin" id="checkin">
    <h2>打卡签到</h2>
    ${outlets.length ? `<label>排口<select id="checkin-outlet"><option value="">不选排口（只记录位置）</option>${outlets.map((o) => `<option value="${o.id}">${e(o.name)}</option>`).join("")}</select></label>` : ""}
    <button class="button primary" data-action="checkin">打卡签到</button>
    <ul class="items" id="checkins">${list
      .map((c) => {
        const st = checkins.checkinState(c, checkinRecord(c));
        return `<li class="checkin-item v-${e(st.key)}" data-checkin="${e(c.id)}">${e(formatTime(c.at))} · <b>${e(st.label)}</b>${st.findings.map((f) => `<br><span class="why">${e(f)}</span>`).join("")}</li>`;
      })
      .join("")}</ul>
  </section>`;
}

async function checkIn(button) {
  const route = parseRoute(location.pathname, ROOT);
  const outlet = document.getElementById("checkin-outlet")?.value ?? "";
  button.disabled = true;
  let fix;
  try {
    fix = await client.captureFix();
  } catch (error) {
    ui.flash = `无法定位，未签到：${error.message || error}`;
    return render();
  }
  const id = crypto.randomUUID();
  const payload = checkins.checkinPayload({ task: route.id, outlet, fix });
  await client.enqueue("checkin.record", id, payload);
  await client.storage.set(checkins.KEY + id, { id, task: route.id, outlet: payload.outlet ?? null, at: fix.device_time, fix, result: null });
  ui.flash = "已签到，有网络时同步。";
  await render();
  if (navigator.onLine) syncNow();
}

const reading = new Set();
async function readVerdicts() {
  if (!navigator.onLine || !client.state().signedIn) return;
  for (const c of await storedCheckins()) {
    if (reading.has(c.id) || !checkins.needsResult(c, checkinRecord(c))) continue;
    reading.add(c.id);
    client
      .api("GET", `/api/v1/checkins/${c.id}`)
      .then((result) => client.storage.set(checkins.KEY + c.id, { ...c, result }))
      .then(scheduleRender)
      .catch(() => {})
      .finally(() => reading.delete(c.id));
  }
}
// --- end 打卡签到 ------------------------------------------------------------------------------------

const ui = { fix: null, fixError: "", located: false, search: "", finished: false, flash: "", busy: false, keepScroll: false, route: null };

// --- 运维 and 企业确认 (om.js) ---------------------------------------------------------------------
const notices = createNotices({ client, ui, ROOT, e, formatTime, scheduleRender: () => scheduleRender() });
const om = createOm({ client, ui, ROOT, e, render, scheduleRender: () => scheduleRender(), go, syncNow: () => syncNow(), makeThumbnail, formatTime, formatFix });

// --- Start ------------------------------------------------------------------------------------------

async function start() {
  await client.open();
  registerServiceWorker();
  client.subscribe(() => scheduleRender());
  client.on("answer", () => scheduleRender());
  addEventListener("online", () => {
    showNet();
    syncNow();
  });
  addEventListener("offline", showNet);
  addEventListener("popstate", render);
  document.addEventListener("click", onClick);
  document.addEventListener("submit", onSubmit);
  document.addEventListener("change", onChange);
  document.addEventListener("input", onInput);
  showNet();
  await render();
  if (client.state().signedIn && navigator.onLine) syncNow();
}

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register(document.body.dataset.sw, { scope: ROOT }).catch((error) => {
    console.warn("service worker not registered", error);
  });
}

function showNet() {
  net.textContent = navigator.onLine ? "在线" : "离线";
  net.className = `bar-net ${navigator.onLine ? "on" : "off"}`;
}

function go(route, { replace = false } = {}) {
  const path = routePath(route, ROOT);
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  ui.flash = "";
  ui.keepScroll = false;
  render().then(() => {
    window.scrollTo(0, 0);
    view.focus({ preventScroll: true });
  });
}

// --- What the phone holds -----------------------------------------------------------------------------

const PROJECTS = "app:projects";
const PHOTO_TYPES = "app:photo_types";
const PHOTO = "app:photo:";
const STAGES = "app:stages:"; // + monitoring type: the photo types its tasks take (GET /tasks/{id} stages)

async function projects() {
  return (await client.storage.get(PROJECTS)) ?? [];
}

async function photoTypes() {
  return (await client.storage.get(PHOTO_TYPES)) ?? [];
}

async function tasks() {
  return localTasks(await client.records("task"), client.queue.all());
}

async function taskPhotos(taskId) {
  const out = [];
  for (const key of await client.storage.keys(PHOTO)) {
    const photo = await client.storage.get(key);
    if (photo?.task === taskId) out.push(photo);
  }
  return out.sort((a, b) => a.taken_at.localeCompare(b.taken_at));
}

/** The projects and photo types the screens need offline, fetched while there is signal. */
async function refreshReference() {
  const list = [];
  for (let page = 1; page <= 10; page += 1) {
    const body = await client.api("GET", "/api/v1/projects", { query: { page: String(page), page_size: "200" } });
    list.push(...(body.results ?? body));
    if (!body.next) break;
  }
  await client.storage.set(PROJECTS, list);
  await client.storage.set(PHOTO_TYPES, await client.api("GET", "/api/v1/photo-types"));
  // A task of each monitoring type tells which photo types such tasks take and which are required:
  // kept per type, so that a task created offline shows its stages too.
  const byId = Object.fromEntries(list.map((p) => [p.id, p]));
  const done = new Set();
  for (const record of await client.records("task")) {
    const type = byId[record.data?.project]?.monitoring_type;
    if (!type || done.has(type)) continue;
    try {
      await keepStages(type, await client.api("GET", `/api/v1/tasks/${record.id}`));
      done.add(type);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error; // another task of the type may answer
    }
  }
}

async function keepStages(monitoringType, detail) {
  if (!Array.isArray(detail?.stages)) return;
  const catalogue = detail.stages.map((s) => ({
    stage: s.stage,
    label: s.label,
    types: s.types.map((t) => ({ code: t.code, name: t.name, hint: t.hint, required: t.required })),
  }));
  await client.storage.set(STAGES + monitoringType, catalogue);
}

let syncing = null;
let syncAgain = false;
/** One sync and the reference data after it. Asked for while one runs (something was queued after
 * its push had begun), another follows it: what the user just did is never left waiting. */
function syncNow() {
  if (syncing) {
    syncAgain = true;
    return syncing;
  }
  syncing = (async () => {
    try {
      await client.sync();
      if (client.state().signedIn && client.state().phase === "idle") {
        // Beside each other (not one after another: the sync's end would come later).
        const quietly = (promise) =>
          promise.catch((error) => {
            if (!(error instanceof ApiError)) throw error;
          });
        const user = client.state().user;
        await Promise.all([refreshReference(), quietly(keepOutlets()), quietly(om.refresh(user)), quietly(notices.refresh(user))]);
      }
    } catch (error) {
      if (!(error instanceof NetworkError || error instanceof ApiError)) console.error(error);
    } finally {
      syncing = null;
      scheduleRender();
      if (syncAgain && client.state().signedIn && navigator.onLine) {
        syncAgain = false;
        syncNow();
      }
      syncAgain = false;
    }
  })();
  return syncing;
}

// --- Rendering ------------------------------------------------------------------------------------------

let pending = false;
function scheduleRender() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    // Never re-render under the user's fingers: a form being typed in keeps its values.
    // (Only a field being typed in holds it: the page itself has the focus after each navigation.)
    const typing = document.activeElement?.closest?.("form[data-keep]");
    if (typing && view.contains(typing)) return;
    if (om.busy()) return; // a finger on the signature pad
    render();
  });
}

let rendering = Promise.resolve();
function render() {
  rendering = rendering.then(renderNow, renderNow);
  return rendering;
}

async function renderNow() {
  const state = client.state();
  const wanted = parseRoute(location.pathname, ROOT);
  const route = guard(wanted, state.signedIn);
  if (route !== wanted) history.replaceState(null, "", routePath(route, ROOT));
  ui.route = route;
  const screens = { sign_in: signInScreen, home: homeScreen, tasks: tasksScreen, task_new: newTaskScreen, task: taskScreen, ...om.screens };
  const screen = screens[route.name] ?? notFoundScreen;
  const html = await screen(route, state);
  const scroll = ui.keepScroll ? window.scrollY : 0;
  ui.keepScroll = true;
  view.innerHTML = (ui.flash ? `<p class="flash" role="alert">${e(ui.flash)}</p>` : "") + html;
  window.scrollTo(0, scroll);
  await fillThumbnails();
  om.afterRender();
  followTracks(state).catch((error) => console.error(error));
  readVerdicts().catch((error) => console.error(error));
}

function notFoundScreen() {
  return `<section class="card"><h1>找不到该页面</h1><a class="button" href="${ROOT}" data-link>回到首页</a></section>`;
}

function signInScreen(route, state) {
  // Signed out with work on the phone (the token revoked, or the user signed out): it is kept.
  const lapsed = state.phase === "signed_out" ? "登录已失效。" : "";
  const again = state.queued
    ? `<p class="notice">${lapsed}本机尚有 ${state.queued} 项未同步的记录，登录后会继续发送，不会丢失。</p>`
    : "";
  return `
  <section class="card">
    <h1>登录</h1>
    ${again}
    <form id="sign-in" data-keep>
      <label>账号<input name="username" autocomplete="username" required autocapitalize="off"></label>
      <label>密码<input name="password" type="password" autocomplete="current-password" required></label>
      <button class="button primary" type="submit" ${ui.busy ? "disabled" : ""}>登录</button>
    </form>
    <p class="hint">首次登录需要网络；之后无网络也可以记录，有网络时自动同步。</p>
  </section>`;
}

function syncPanel(state) {
  const s = syncSummary(state, describeWait);
  const list = (items, cls, dismiss) =>
    items
      .map(
        (i) =>
          `<li class="${cls}"><b>${e(i.type)}</b>：${e(i.why)}${dismiss ? ` <button class="link" data-action="dismiss" data-op="${e(i.opId)}">知道了</button>` : ""}</li>`,
      )
      .join("");
  return `
  <section class="card sync" id="sync">
    <h2>同步</h2>
    <dl class="facts">
      <div><dt>状态</dt><dd id="sync-phase">${e(s.phase)}</dd></div>
      <div><dt>待发送</dt><dd id="sync-queued">${s.queued} 项</dd></div>
      <div><dt>待上传照片</dt><dd id="sync-uploads">${s.uploadsWaiting} 张</dd></div>
      <div><dt>上次同步</dt><dd>${e(s.lastSyncAt)}</dd></div>
    </dl>
    ${s.lastError ? `<p class="notice">${e(s.lastError)}${s.retry ? `（${e(s.retry)}）` : ""}</p>` : ""}
    ${s.clock ? `<p class="notice">${e(s.clock)}</p>` : ""}
    ${s.held.length ? `<h3>等待中</h3><ul class="items">${list(s.held, "held")}</ul>` : ""}
    ${s.conflicts.length ? `<h3>冲突（已保存，待核对）</h3><ul class="items">${list(s.conflicts, "conflict", true)}</ul>` : ""}
    ${s.rejected.length ? `<h3>被拒绝</h3><ul class="items">${list(s.rejected, "rejected", true)}</ul>` : ""}
    ${s.failedUploads.length ? `<h3>照片上传失败</h3><ul class="items">${s.failedUploads.map((m) => `<li class="rejected">${e(m)}</li>`).join("")}</ul>` : ""}
    <button class="button primary" data-action="sync" ${syncing ? "disabled" : ""}>${syncing ? "同步中…" : "同步"}</button>
  </section>`;
}

async function homeScreen(route, state) {
  if (!ui.located) {
    // Where the phone is, once per opening (the 定位 button asks again).
    ui.located = true;
    setTimeout(locate, 0);
  }
  const all = await tasks();
  const counts = taskCounts(all);
  const user = state.user ?? {};
  const roles = await om.roles(user);
  const posts = (user.posts ?? []).map((p) => POST_LABELS[p] ?? p).join("、");
  return `
  <section class="card who">
    <h1>${e(user.name || user.person?.name || user.username || "")}</h1>
    <p>${e(user.agency?.name ?? "")}${posts ? ` · ${e(posts)}` : ""}</p>
  </section>
  <section class="card">
    <h2>当前位置</h2>
    <p id="fix">${e(ui.fix ? `${formatFix(ui.fix)} · ${formatTime(ui.fix.device_time)}` : ui.fixError || "尚未定位")}</p>
    <button class="button" data-action="locate">定位</button>
  </section>
  ${roles.field ? `<section class="card counts">
    <a class="count" href="${ROOT}tasks" data-link data-finished="0"><b id="count-running">${counts.running}</b><span>在行任务</span></a>
    <a class="count" href="${ROOT}tasks" data-link data-finished="1"><b id="count-finished">${counts.finished}</b><span>已结束</span></a>
  </section>
  <a class="button primary block" href="${ROOT}tasks/new" data-link>添加监测任务</a>` : ""}
  ${roles.om ? `<a class="button primary block" href="${ROOT}om" data-link>运维任务</a>` : ""}
  ${roles.confirm ? `<a class="button primary block" href="${ROOT}confirm" data-link>待确认运维记录</a>` : ""}
  ${await notices.card()}
  ${syncPanel(state)}
  <button class="button link block" data-action="sign-out">退出登录</button>`;
}

async function tasksScreen() {
  const list = await tasks();
  const byId = Object.fromEntries((await projects()).map((p) => [p.id, p]));
  const shown = filterTasks(list, { finished: ui.finished, query: ui.search, projects: byId });
  const items = shown
    .map(
      (t) => `
      <li><a class="task" href="${ROOT}tasks/${encodeURIComponent(t.id)}" data-link>
        <b>${e(t.name)}</b>
        <span>${e(byId[t.project]?.name ?? `项目 ${t.project}`)}</span>
        <span class="status s-${e(t.status)}">${e(STATUS_LABELS[t.status] ?? t.status)}${t.pending ? ` · 待同步 ${t.pending} 项` : ""}</span>
      </a></li>`,
    )
    .join("");
  return `
  <section class="card">
    <h1>监测任务</h1>
    <div class="tabs" role="tablist">
      <button role="tab" aria-selected="${!ui.finished}" data-action="tab" data-finished="0">在行</button>
      <button role="tab" aria-selected="${ui.finished}" data-action="tab" data-finished="1">已结束</button>
    </div>
    <input type="search" id="search" placeholder="搜索任务名称、样品编号、项目" value="${e(ui.search)}" aria-label="搜索">
  </section>
  <ul class="tasks">${items || `<li class="empty">${ui.finished ? "没有已结束的任务" : "没有在行的任务"}</li>`}</ul>
  <a class="button primary block" href="${ROOT}tasks/new" data-link>添加监测任务</a>`;
}

async function newTaskScreen() {
  const open = (await projects()).filter((p) => p.status === "unfinished" || p.status === "returned");
  if (!open.length) {
    return `<section class="card"><h1>添加监测任务</h1><p class="notice">本机还没有可选的项目。请在有网络时同步一次，项目会保存在本机，之后离线也能添加任务。</p>
    <button class="button primary" data-action="sync">同步</button></section>`;
  }
  const options = open.map((p) => `<option value="${p.id}">${e(p.name)}（${e(p.number)}）</option>`).join("");
  return `
  <section class="card">
    <h1>添加监测任务</h1>
    <form id="task-new" data-keep>
      <label>监测项目<select name="project" required>${options}</select></label>
      <label>任务名称<input name="name" required maxlength="200" placeholder="如：1 号排口采样"></label>
      <label>样品编号<input name="sample_codes" placeholder="多个编号用逗号分隔（可不填）"></label>
      <label>备注<textarea name="note" rows="2" maxlength="5000"></textarea></label>
      <button class="button primary" type="submit">保存任务</button>
      <p class="hint">保存在本机，有网络时同步到服务器。</p>
    </form>
  </section>`;
}

async function taskScreen(route, state) {
  const task = (await tasks()).find((t) => t.id === route.id);
  if (!task) return `<section class="card"><h1>找不到该任务</h1><p>它可能已被删除，或尚未同步到本机。</p><a class="button" href="${ROOT}tasks" data-link>任务列表</a></section>`;
  const project = (await projects()).find((p) => p.id === task.project);
  const posts = postsOn(project, state.user);
  if (project && !task.local && navigator.onLine && ui.detailFor !== task.id) {
    // The task's own catalogue, fresh (in the background: the page shows what the phone holds).
    ui.detailFor = task.id;
    client
      .api("GET", `/api/v1/tasks/${task.id}`)
      .then((detail) => keepStages(project.monitoring_type, detail))
      .then(scheduleRender)
      .catch(() => {});
  }
  const moves = transitionsFor(task.status, posts)
    .map(
      (m) => `<div class="move">
        <button class="button ${m.to === "ended" ? "danger" : "primary"}" data-action="move" data-to="${m.to}" ${m.allowed ? "" : "disabled"}>${e(m.label)}</button>
        ${m.rule ? `<p class="rule">${e(m.rule)}</p>` : ""}</div>`,
    )
    .join("");
  const photos = await taskPhotos(task.id);
  const pulledPhotos = (await client.records("photo")).filter((p) => p.data?.task === task.id);
  const mine = new Set(photos.map((p) => p.id));
  const counts = {};
  for (const p of photos) counts[p.photo_type] = (counts[p.photo_type] ?? 0) + 1;
  for (const p of pulledPhotos) if (!mine.has(p.id)) counts[p.data.photo_type] = (counts[p.data.photo_type] ?? 0) + 1;
  const catalogue = project ? await client.storage.get(STAGES + project.monitoring_type) : null;
  const stages = taskStages(catalogue, await photoTypes(), counts);
  const canShoot = task.status !== "ended";
  const stageHtml = stages
    .map(
      (stage) => `
    <section class="card stage" data-stage="${e(stage.stage)}">
      <h2>${e(stage.label)}照片${stage.complete && catalogue ? ` <span class="ok">必传照片已齐</span>` : ""}</h2>
      ${stage.open ? "" : `<p class="notice">前一环节的必传照片尚缺：${e(stage.waitsFor.join("、"))}。其他人拍的照片同步后即可；现在拍的照片会在服务器上等待。</p>`}
      ${stage.types
        .map((type) => {
          const shots = photos.filter((p) => p.photo_type === type.code);
          const others = (counts[type.code] ?? 0) - shots.length;
          return `<div class="ptype">
            <h3>${e(type.name)}${type.required ? ` <span class="req">必传</span>` : ""}</h3>
            ${type.hint ? `<p class="hint">${e(type.hint)}</p>` : ""}
            <div class="thumbs">${shots.map((p) => thumb(p, pulledPhotos)).join("")}</div>
            ${others > 0 ? `<p class="hint">另有 ${others} 张由他人拍摄</p>` : ""}
            ${canShoot ? `<label class="button shoot">拍照<input type="file" accept="image/*" capture="environment" data-photo-type="${e(type.code)}" class="file"></label>` : ""}
          </div>`;
        })
        .join("")}
    </section>`,
    )
    .join("");
  return `
  <section class="card">
    <p class="crumb"><a href="${ROOT}tasks" data-link>任务列表</a></p>
    <h1>${e(task.name)}</h1>
    <p>${e(project?.name ?? `项目 ${task.project}`)}</p>
    <p class="status s-${e(task.status)}" id="task-status">${e(STATUS_LABELS[task.status] ?? task.status)}${task.pending ? ` · 待同步 ${task.pending} 项` : ""}${task.local ? " · 仅在本机" : ""}</p>
    ${task.sample_codes?.length ? `<p>样品编号：${e(task.sample_codes.join("、"))}</p>` : ""}
    <p class="hint">我的岗位：${e(posts.map((p) => POST_LABELS[p] ?? p).join("、") || "未在该项目任职")}</p>
    ${problems(state, task.id)}
    <div class="moves">${moves || `<p class="hint">任务已结束。</p>`}</div>
  </section>
  ${editCard(task, state.user)}
  ${await trackCard(task)}
  ${await checkinCard(task, project)}
  ${stageHtml || `<section class="card"><p class="notice">本机还没有照片类型，请在有网络时同步一次。</p></section>`}
  <p class="hint">拍照时记录当时的位置；各环节须按顺序：采样照片齐全后才能拍送样照片，送样后才能拍实验室分析照片。</p>`;
}

/** 修改 (name, sample codes, note) while the task runs; 删除 while it is only created, by its creator. */
function editCard(task, user) {
  const may = taskEdits(task, user);
  if (!may.edit) return "";
  return `<details class="card edit"><summary>修改任务信息</summary>
    <form id="task-edit" data-keep>
      <label>任务名称<input name="name" required maxlength="200" value="${e(task.name)}"></label>
      <label>样品编号<input name="sample_codes" value="${e((task.sample_codes ?? []).join(", "))}"></label>
      <label>备注<textarea name="note" rows="2" maxlength="5000">${e(task.note ?? "")}</textarea></label>
      <button class="button primary" type="submit">保存修改</button>
    </form>
    ${may.remove ? `<button class="button danger" data-action="task-delete">删除任务</button>` : `<p class="hint">${e(may.why)}</p>`}
  </details>`;
}

/** This task's operations the server refused or found in conflict, with its words. */
function problems(state, taskId) {
  const s = syncSummary(
    { ...state, held: [], rejected: state.rejected.filter((r) => r.entity_id === taskId), conflicts: state.conflicts.filter((c) => c.entity_id === taskId) },
    describeWait,
  );
  const items = [...s.rejected.map((r) => ["rejected", r]), ...s.conflicts.map((c) => ["conflict", c])];
  if (!items.length) return "";
  return `<ul class="items">${items
    .map(([cls, i]) => `<li class="${cls}"><b>${e(i.type)}</b>：${e(i.why)} <button class="link" data-action="dismiss" data-op="${e(i.opId)}">知道了</button></li>`)
    .join("")}</ul>`;
}

function thumb(photo, pulledPhotos) {
  const record = client.queue.byOpId(photo.op_id);
  const upload = client.uploads.get(photo.sha256);
  const st = photoState(record?.state ?? "applied", upload?.state ?? (record ? "waiting" : "done"));
  const verdict = st.key === "done" ? photoVerdict(pulledPhotos.find((p) => p.id === photo.id)) : null;
  const why = record?.answer?.message ?? "";
  return `<figure class="thumb p-${st.key}${verdict ? ` v-${verdict.key}` : ""}" data-photo="${e(photo.id)}">
    <img alt="${e(photo.photo_type_name)}" data-thumb="${e(photo.id)}">
    <figcaption>${e(st.label)}${verdict ? ` · <b>${e(verdict.label)}</b>` : ""}<br>${e(formatTime(photo.taken_at))}
    ${why ? `<br><span class="why">${e(why)}</span>` : ""}
    ${(verdict?.findings ?? []).map((f) => `<br><span class="why">${e(f)}</span>`).join("")}</figcaption></figure>`;
}

async function fillThumbnails() {
  for (const img of view.querySelectorAll("img[data-thumb]")) {
    const photo = await client.storage.get(PHOTO + img.dataset.thumb);
    if (photo?.thumb) img.src = photo.thumb;
  }
}

// --- Actions -----------------------------------------------------------------------------------------

function onClick(event) {
  const link = event.target.closest("a[data-link]");
  if (link && link.origin === location.origin) {
    event.preventDefault();
    if (link.dataset.finished) ui.finished = link.dataset.finished === "1";
    go(parseRoute(link.pathname, ROOT));
    return;
  }
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const action = button.dataset.action;
  if (om.onAction(action, button) || notices.onAction(action, button)) return;
  if (action === "sync") {
    syncNow();
    scheduleRender();
  } else if (action === "locate") locate();
  else if (action === "tab") {
    ui.finished = button.dataset.finished === "1";
    render();
  } else if (action === "dismiss") client.dismiss(button.dataset.op);
  else if (action === "move") move(button.dataset.to);
  else if (action === "checkin") checkIn(button);
  else if (action === "task-delete") deleteTask();
  else if (action === "sign-out") signOut();
}

async function locate() {
  ui.fixError = "正在定位…";
  try {
    ui.fix = await client.captureFix();
    ui.fixError = "";
  } catch (error) {
    ui.fixError = `无法定位：${error.message || error}`;
  }
  scheduleRender();
}

async function onSubmit(event) {
  event.preventDefault();
  const form = event.target;
  const data = Object.fromEntries(new FormData(form));
  if (form.id === "sign-in") {
    ui.busy = true;
    ui.flash = "";
    render();
    try {
      await client.signIn({ username: data.username.trim(), password: data.password });
      ui.busy = false;
      go({ name: "home" }, { replace: true });
      await syncNow();
    } catch (error) {
      ui.busy = false;
      ui.flash = error instanceof NetworkError ? "无法连接服务器，登录需要网络。" : error.message || "登录失败。";
      render();
    }
  } else if (form.id === "task-edit") {
    const route = parseRoute(location.pathname, ROOT);
    const task = (await tasks()).find((t) => t.id === route.id);
    const changes = task ? taskChanges(task, data) : {};
    if (!Object.keys(changes).length) {
      ui.flash = "没有修改。";
      return render();
    }
    // The base is the version the phone saw: the server merges field by field with others' edits.
    await client.enqueue("task.update", route.id, changes, { baseVersion: task.version ?? 0 });
    ui.flash = "已保存修改，有网络时同步。";
    document.activeElement?.blur();
    await render();
    if (navigator.onLine) syncNow();
  } else if (form.id === "task-new") {
    const id = crypto.randomUUID();
    await client.enqueue("task.create", id, {
      project: Number(data.project),
      name: data.name.trim(),
      sample_codes: parseCodes(data.sample_codes),
      note: data.note ?? "",
    });
    go({ name: "task", id }, { replace: true });
    if (navigator.onLine) syncNow();
  }
}

async function deleteTask() {
  if (!confirm("删除这个任务？删除后不能恢复。")) return;
  const route = parseRoute(location.pathname, ROOT);
  await client.enqueue("task.delete", route.id, {});
  go({ name: "tasks" }, { replace: true });
  ui.flash = "任务已删除，有网络时同步。";
  if (navigator.onLine) syncNow();
}

async function move(to) {
  const route = parseRoute(location.pathname, ROOT);
  await client.enqueue("task.transition", route.id, { to });
  ui.flash = "已记录，有网络时同步。";
  await render();
  if (navigator.onLine) syncNow();
}

async function onChange(event) {
  if (om.onChange(event)) return;
  const input = event.target;
  if (!input.matches("input[type=file][data-photo-type]") || !input.files?.length) return;
  const file = input.files[0];
  const route = parseRoute(location.pathname, ROOT);
  const code = input.dataset.photoType;
  ui.flash = "";
  // The fix at the shutter: asked for as soon as the photo arrives.
  let fix = null;
  try {
    fix = await client.captureFix();
  } catch (error) {
    ui.flash = `未能定位（${error.message || error}），照片仍会保存，但没有拍摄位置。`;
  }
  const photoId = crypto.randomUUID();
  try {
    const thumbnail = await makeThumbnail(file);
    const record = await client.recordPhoto({
      photoId,
      file,
      manifest: { photo_type: code, task: route.id, ...(fix ?? { device_time: new Date().toISOString() }) },
    });
    const type = (await photoTypes()).find((t) => t.code === code);
    await client.storage.set(PHOTO + photoId, {
      id: photoId,
      task: route.id,
      photo_type: code,
      photo_type_name: type?.name ?? code,
      sha256: record.op.payload.sha256,
      op_id: record.op.op_id,
      taken_at: new Date().toISOString(),
      fix,
      thumb: thumbnail,
    });
    if (!ui.flash) ui.flash = `照片已保存在本机（${formatFix(fix)}），有网络时上传。`;
  } catch (error) {
    ui.flash = error.message || "照片未能保存。";
  }
  await render();
  if (navigator.onLine) syncNow();
}

async function makeThumbnail(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = 240 / Math.max(bitmap.width, bitmap.height);
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close?.();
    return canvas.toDataURL("image/jpeg", 0.7);
  } catch {
    return "";
  }
}

function onInput(event) {
  if (om.onInput(event)) return;
  if (event.target.id === "search") {
    ui.search = event.target.value;
    const position = event.target.selectionStart;
    render().then(() => {
      const search = document.getElementById("search");
      search?.focus();
      search?.setSelectionRange(position, position);
    });
  }
}

async function signOut() {
  if (client.state().queued && !confirm("本机还有未同步的记录，退出后重新登录会继续发送。确定退出？")) return;
  await client.signOut();
  go({ name: "sign_in" }, { replace: true });
}

start().catch((error) => {
  console.error(error);
  view.innerHTML = `<p class="notice">外业端无法启动：${e(error.message || error)}</p>`;
});
