// Start-up and navigation: read config.json, sign in (local form or Cognito hosted UI), then
// route by the URL's hash (#/customers, #/customers/ID, #/approvals, ...) so the static site needs
// no server-side rewrites. Each view is a module exporting render(main, params) -> Promise.
import * as api from "./api.js";
import * as auth from "./auth.js";
import { clear, h, heading, message } from "./dom.js";

const ROUTES = [
  [/^\/customers\/([^/]+)\/points$/, "give-points", (m) => ({ id: m[1] })],
  [/^\/customers\/([^/]+)\/coupon$/, "give-coupon", (m) => ({ id: m[1] })],
  [/^\/customers\/([^/]+)$/, "customer", (m) => ({ id: m[1] })],
  [/^\/customers$/, "customers", () => ({})],
  [/^\/approvals$/, "approvals", () => ({})],
  [/^\/requests\/([^/]+)$/, "request", (m) => ({ id: m[1] })],
  [/^\/imports$/, "imports", () => ({})],
  [/^\/settings$/, "settings", () => ({})],
  [/^\/series$/, "series", () => ({})],
];

const NAV = [
  ["#/customers", "Customers", "agent"],
  ["#/approvals", "Approvals", "agent"],
  ["#/imports", "Bulk import", "admin"],
  ["#/series", "Coupon series", "admin"],
  ["#/settings", "Settings", "admin"],
];

const main = document.getElementById("main");
let notice = null;
let rendering = 0;

async function boot() {
  let config = { mode: "local", api_url: "" };
  try {
    const reply = await fetch("config.json", { cache: "no-store" });
    if (reply.ok) config = await reply.json();
  } catch { /* no config.json: the local defaults */ }
  auth.configure(config);
  api.setBaseUrl(config.api_url);
  auth.onChange((text) => { notice = text ? { kind: "info", text } : null; route(); });
  window.addEventListener("hashchange", route);
  if (config.mode !== "local") {
    try { await auth.completeHostedSignIn(); } catch (error) { notice = { kind: "info", text: error.message }; }
    auth.scheduleRefresh();
  }
  route();
}

function chrome() {
  const s = auth.session();
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  nav.hidden = !s;
  clear(nav);
  clear(who);
  if (!s) return;
  const here = `#${currentPath()}`;
  for (const [href, label, role] of NAV) {
    if (!auth.can(role)) continue;
    const active = here === href || here.startsWith(`${href}/`) || (href === "#/approvals" && here.startsWith("#/requests"));
    nav.append(h("a", { href, text: label, "aria-current": active ? "page" : undefined }));
  }
  who.append(
    h("span", { class: "who-name" }, h("strong", { text: s.user }), ` · ${s.org} · ${s.roles.join(", ")}`),
    h("button", { type: "button", class: "secondary small", text: "Sign out", onclick: () => auth.signOut() }),
  );
}

function currentPath() {
  const raw = window.location.hash.replace(/^#/, "").split("?")[0];
  return raw || "/customers";
}

export function hashParams() {
  return new URLSearchParams(window.location.hash.split("?")[1] || "");
}

async function route() {
  const ticket = ++rendering;
  chrome();
  const s = auth.session();
  const container = h("div", { class: "view", "aria-busy": "true" });
  if (notice) container.append(message(notice.kind, notice.text));
  notice = null;
  clear(main, container);
  let name = "signin";
  let params = {};
  if (s) {
    const path = currentPath();
    const found = ROUTES.find(([pattern]) => pattern.test(path));
    if (!found) return notFound(container);
    name = found[1];
    params = found[2](path.match(found[0]));
    try {
      params.id = params.id && decodeURIComponent(params.id);
    } catch {
      return notFound(container); // a malformed % escape (#/customers/100%) names no page
    }
  } else if (auth.mode() !== "local") {
    name = "hosted-signin";
  }
  try {
    const view = await import(`./views/${name}.js`);
    if (ticket !== rendering) return;
    await view.render(container, params, () => ticket === rendering);
  } catch (error) {
    if (ticket !== rendering) return;
    if (!container.querySelector("h1")) {
      container.append(heading(error.status === 404 ? "Not found" : error.status === 403 ? "Not allowed" : "Something went wrong"));
    }
    container.append(message("error", error.message || "Something went wrong."),
      h("p", {}, h("a", { href: "#/customers", text: "Back to customers" })));
  }
  if (ticket !== rendering) return;
  container.removeAttribute("aria-busy");
  (container.querySelector("[data-autofocus]") || container.querySelector("h1") || main).focus({ preventScroll: false });
}

function notFound(container) {
  container.removeAttribute("aria-busy");
  container.append(heading("Page not found"), h("p", {}, h("a", { href: "#/customers", text: "Go to customers" })));
  container.querySelector("h1").focus();
}

// Navigate (or draw the same screen again); `said`, if given, is shown at the top of the screen
// drawn next, so an outcome survives the re-render that shows its effect.
export function go(hash, said) {
  if (said) notice = { kind: said.kind || "info", text: said.text };
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

boot();
