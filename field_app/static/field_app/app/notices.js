// 消息通知 on the home screen: the user's notifications (GET /api/v1/notifications, newest first, with
// the unread count), kept on the phone at each sync so that the home shows them offline too; opened
// (marked read) and 全部已读 when there is signal. `noticeList` is pure (tests/js/field_app/).

export const NOTICES = "app:notices"; // {unread_count, results: [...]}, as the server last answered

/** What the home's card shows: the unread count, the newest few, each with where it leads. */
export function noticeList(kept, { root = "/app/", limit = 5 } = {}) {
  const items = (kept?.results ?? []).slice(0, limit).map((n) => ({
    id: n.id,
    title: n.title,
    body: n.body,
    at: n.created_at,
    read: Boolean(n.read),
    href: link(n.subject, root),
  }));
  return { unread: kept?.unread_count ?? items.filter((i) => !i.read).length, items };
}

// Where a notification's subject is on the phone: a task's page, an O&M day to confirm ("<enterprise
// id>:<date>", the reminder of remind_unconfirmed_days); others are the workspace's.
function link(subject, root) {
  if (subject?.type === "task") return `${root}tasks/${encodeURIComponent(subject.id)}`;
  if (subject?.type === "om_day") return `${root}confirm/${encodeURIComponent(String(subject.id).split(":").pop())}`;
  return "";
}

export function createNotices({ client, ui, ROOT, e, formatTime, scheduleRender }) {
  async function refresh(user) {
    if (!user) return;
    const body = await client.api("GET", "/api/v1/notifications", { query: { page_size: "20" } });
    await client.storage.set(NOTICES, { unread_count: body.unread_count ?? 0, results: body.results ?? [] });
  }

  async function card() {
    const { unread, items } = noticeList(await client.storage.get(NOTICES), { root: ROOT });
    const rows = items
      .map(
        (n) => `<li class="notice-item ${n.read ? "read" : "unread"}" data-notice="${n.id}">
          <b>${e(n.title)}</b> <span class="hint">${e(formatTime(n.at))}</span><br>${e(n.body)}
          ${n.href ? `<br><a href="${e(n.href)}" data-link>查看</a>` : ""}
          ${n.read ? "" : ` <button class="link" data-action="notice-read" data-id="${n.id}">标为已读</button>`}</li>`,
      )
      .join("");
    return `<section class="card notices" id="notices">
      <h2>消息通知${unread ? ` <span class="req" id="notice-unread">${unread} 条未读</span>` : ""}</h2>
      ${rows ? `<ul class="items">${rows}</ul>` : `<p class="hint">暂无消息。</p>`}
      ${unread ? `<button class="button link" data-action="notice-read-all" ${navigator.onLine ? "" : "disabled"}>全部已读</button>${navigator.onLine ? "" : `<p class="hint">有网络时才能标为已读。</p>`}` : ""}
    </section>`;
  }

  async function read(path) {
    if (!navigator.onLine) {
      ui.flash = "有网络时才能标为已读。";
      return scheduleRender();
    }
    try {
      await client.api("POST", path);
      await refresh(client.state().user);
    } catch (error) {
      ui.flash = error.message || "未能标为已读。";
    }
    scheduleRender();
  }

  function onAction(action, button) {
    if (action === "notice-read") read(`/api/v1/notifications/${button.dataset.id}/read`);
    else if (action === "notice-read-all") read("/api/v1/notifications/read-all");
    else return false;
    return true;
  }

  return { refresh, card, onAction };
}
