// The app's routes: one page (the shell) at every address under the app's root, read here.
// Pure: no DOM, tested with node --test (tests/js/field_app/).

/** "/app/tasks/abc" under root "/app/" -> {name: "task", id: "abc"}; unknown -> {name: "not_found"}. */
export function parseRoute(pathname, root = "/app/") {
  if (!pathname.startsWith(root)) return { name: "not_found" };
  const parts = pathname.slice(root.length).split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { name: "home" };
  if (parts.length === 1 && parts[0] === "sign-in") return { name: "sign_in" };
  if (parts[0] === "tasks") {
    if (parts.length === 1) return { name: "tasks" };
    if (parts.length === 2 && parts[1] === "new") return { name: "task_new" };
    if (parts.length === 2) return { name: "task", id: parts[1] };
  }
  if (parts[0] === "om") {
    if (parts.length === 1) return { name: "om_tasks" };
    if (parts.length === 3 && parts[1] === "records") return { name: "om_record", id: parts[2] };
    if (parts.length === 2) return { name: "om_task", id: parts[1] };
  }
  if (parts[0] === "confirm") {
    if (parts.length === 1) return { name: "confirm_days" };
    if (parts.length === 2) return { name: "confirm_day", id: parts[1] };
  }
  return { name: "not_found" };
}

/** The address of a route: the inverse of parseRoute. */
export function routePath(route, root = "/app/") {
  switch (route.name) {
    case "home":
      return root;
    case "sign_in":
      return `${root}sign-in`;
    case "tasks":
      return `${root}tasks`;
    case "task_new":
      return `${root}tasks/new`;
    case "task":
      return `${root}tasks/${encodeURIComponent(route.id)}`;
    case "om_tasks":
      return `${root}om`;
    case "om_task":
      return `${root}om/${encodeURIComponent(route.id)}`;
    case "om_record":
      return `${root}om/records/${encodeURIComponent(route.id)}`;
    case "confirm_days":
      return `${root}confirm`;
    case "confirm_day":
      return `${root}confirm/${encodeURIComponent(route.id)}`;
    default:
      return root;
  }
}

/** Signed out, every route but sign-in leads to sign-in; signed in, sign-in leads home. */
export function guard(route, signedIn) {
  if (!signedIn && route.name !== "sign_in") return { name: "sign_in" };
  if (signedIn && route.name === "sign_in") return { name: "home" };
  return route;
}
