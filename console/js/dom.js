// Tiny DOM helpers: every element is built with createElement/textContent (no HTML strings, so
// nothing a customer typed can ever run as markup), and every form field has a visible label and
// an error slot that API errors (details[].field) are written into.

let uid = 0;
export const nextId = (prefix = "f") => `${prefix}-${++uid}`;

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "selected") el.selected = el.defaultSelected = true;
    else if (["value", "checked", "disabled", "hidden", "open"].includes(key)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// A labelled control. `name` is the API's field name (dotted for nested fields): errors for it land
// in this field's error slot. kind: text|number|date|search|email|textarea|select|checkbox|file.
export function field({ label, name, kind = "text", value, options = [], hint, attrs = {} }) {
  const id = nextId(name.replace(/\W/g, "-"));
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ");
  let control;
  if (kind === "textarea") {
    control = h("textarea", { id, name, rows: 3, "aria-describedby": describedBy, ...attrs });
    control.value = control.defaultValue = value ?? "";
  } else if (kind === "select") {
    control = h("select", { id, name, "aria-describedby": describedBy, ...attrs },
      options.map((o) => h("option", { value: o.value, text: o.label, selected: String(o.value) === String(value) })));
  } else {
    control = h("input", { id, name, type: kind, "aria-describedby": describedBy, ...attrs });
    // default* too, so that form.reset() returns to these values, not to empty
    if (kind === "checkbox") control.checked = control.defaultChecked = Boolean(value);
    else if (kind !== "file" && value !== undefined && value !== null) control.value = control.defaultValue = value;
  }
  const labelEl = h("label", { for: id, text: label });
  const error = h("p", { class: "field-error", id: errorId, hidden: true });
  const wrapper = kind === "checkbox"
    ? h("div", { class: "field check", "data-field": name }, control, labelEl, error)
    : h("div", { class: "field", "data-field": name }, labelEl,
        hint ? h("p", { class: "hint", id: hintId, text: hint }) : null, control, error);
  wrapper.control = control;
  return wrapper;
}

// The alert line at the top of a form, for errors that name no field of it.
export function formAlert() {
  return h("div", { class: "alert", role: "alert", hidden: true });
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll(".field-error")) {
    slot.hidden = true;
    slot.textContent = "";
  }
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  for (const alert of form.querySelectorAll(".alert")) { alert.hidden = true; alert.textContent = ""; }
}

// Show an ApiError on a form: each detail next to its field (the nearest named ancestor field
// for "reasons.2.code" style names), the rest in the form's alert. Nothing in the form changes.
export function showErrors(form, error) {
  clearErrors(form);
  const unplaced = [];
  for (const detail of error.details || []) {
    const slot = findField(form, detail.field);
    if (!slot) { unplaced.push(`${detail.field}: ${detail.message}`); continue; }
    const text = slot.querySelector(".field-error");
    text.textContent = text.textContent ? `${text.textContent} ${detail.message}` : detail.message;
    text.hidden = false;
    slot.control?.setAttribute("aria-invalid", "true");
  }
  const alert = form.querySelector(".alert");
  const placed = (error.details || []).length - unplaced.length;
  const summary = placed ? [error.message] : [error.message, ...unplaced];
  if (placed && unplaced.length) summary.push(...unplaced);
  if (alert) {
    alert.textContent = summary.join(" ");
    alert.hidden = false;
  }
  const first = form.querySelector("[aria-invalid=true]");
  (first || alert)?.focus?.();
}

function findField(form, name) {
  const parts = String(name || "").split(".");
  while (parts.length) {
    const slot = form.querySelector(`[data-field="${CSS.escape(parts.join("."))}"]`);
    if (slot) return slot;
    parts.pop();
  }
  return null;
}

export const fmtPoints = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en-GB"));
export const fmtSigned = (n) => (n > 0 ? `+${fmtPoints(n)}` : fmtPoints(n));

export function fmtTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }) + " UTC";
}

export function fmtDate(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString("en-GB", { dateStyle: "medium", timeZone: "UTC" });
}

// What a goodwill request asks for, in a few words.
export function describeRequest(r) {
  if (r.type === "COUPON") return `Coupon ${r.series_id || ""}`.trim();
  if (r.type === "REVERSAL") return `Reversal ${fmtSigned(r.points)} points`;
  return `${fmtSigned(r.approved_points ?? r.points)} points`;
}

export const badge = (status) => h("span", { class: `badge badge-${String(status).toLowerCase()}`, text: humanStatus(status) });

export function humanStatus(status) {
  return {
    PENDING_APPROVAL: "Waiting for approval",
    APPROVED: "Approved, being applied",
    FULFILLED: "Done",
    REJECTED: "Rejected",
    EXPIRED: "Expired",
    FAILED: "Failed",
    AWAITING_UPLOAD: "Waiting for the file",
    RUNNING: "Running",
    COMPLETED: "Completed",
    COMPLETED_WITH_ERRORS: "Completed with errors",
    REVERTING: "Being reverted",
    REVERTED: "Reverted",
    REVERTED_WITH_ERRORS: "Reverted with errors",
    SENT: "Sent",
    SKIPPED: "Skipped",
  }[status] || String(status);
}

// A page heading that takes focus after navigation, so keyboard and screen-reader users land on it.
export function heading(text, level = 1) {
  return h(`h${level}`, { tabindex: level === 1 ? "-1" : undefined, text });
}

export function message(kind, text) {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status", text });
}

// A labelled value for definition-style summaries.
export const pair = (label, value) => h("div", { class: "pair" }, h("dt", { text: label }), h("dd", {}, value ?? "–"));

// A table that turns into stacked cards on narrow screens (each cell carries its column name).
export function table(columns, rows, { caption, empty = "Nothing yet." } = {}) {
  if (!rows.length) return h("p", { class: "empty", text: empty });
  return h("table", { class: "rows" },
    caption ? h("caption", { class: "visually-hidden", text: caption }) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", text: c })))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell, i) => h("td", { "data-label": columns[i] }, cell))))));
}
