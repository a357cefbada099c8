// Settings (admins): the org configuration of CONTRACT.md 3 as a form. PUT /config replaces the
// whole document, so the form starts from what GET /config answered and changes only what it
// shows: keys it does not know (added by later features) are sent back untouched.
import * as api from "../api.js";
import { clear, clearErrors, field, formAlert, h, heading, message, showErrors } from "../dom.js";

const CHANNELS = ["SMS", "EMAIL", "PUSH"];
const LABELS = {
  "points.auto_approve": "Auto-approve points requests (up to the threshold)",
  "coupons.auto_approve": "Auto-approve coupon requests",
  approval_threshold: "Approval threshold (points)",
  max_per_request: "Maximum points per request",
  allow_negative_balance: "Allow negative balances",
  default_expiry_days: "Default expiry (days)",
  expiry_reminder_days: "Expiry reminder (days before)",
  notify_on_expiry: "Notify on expiry",
  agent_daily_limit: "Agent daily limit (points)",
};
const humanize = (key) => LABELS[key] || LABELS[key.split(".").pop()] || key.split(".").pop().replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());

export async function render(view, _params, alive) {
  const config = await api.get("/config");
  if (!alive()) return;
  const parts = fields(config);
  const status = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", text: "Save settings" });
  const form = h("form", { class: "settings", novalidate: true }, formAlert(),
    h("section", { class: "card" }, h("h2", { text: "Programmes and reasons" }), parts.programs, h("h3", { text: "Reasons" }), parts.reasons.box),
    h("section", { class: "card form-grid" }, h("h2", { text: "Points rules" }), parts.points, h("h2", { text: "Coupons and approvals" }), parts.coupons, parts.timeout),
    h("section", { class: "card" }, h("h2", { text: "Channels" }), parts.mandatory, parts.priority),
    h("section", { class: "card" }, h("h2", { text: "Templates" }), parts.templates),
    h("div", { class: "actions sticky" }, submit), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    clear(status);
    submit.disabled = true;
    try {
      const { data } = await api.put("/config", collect(config, parts));
      Object.assign(config, data);
      clear(status, message("success", "Settings saved."));
    } catch (error) {
      showErrors(form, error);
    } finally {
      submit.disabled = false;
    }
  });
  view.append(heading("Settings"), h("p", { class: "lead", text: "How goodwill works in your organisation. Saving replaces the whole configuration." }), form);
}

// The form's fields, named by the API's field paths so that errors land next to them.
function fields(config) {
  const rules = (group) => Object.entries(config[group] || {}).map(([key, value]) => typeof value === "boolean"
    ? field({ label: humanize(`${group}.${key}`), name: `${group}.${key}`, kind: "checkbox", value })
    : field({ label: humanize(`${group}.${key}`), name: `${group}.${key}`, kind: "number", value: value ?? "",
        hint: value === null || /(_days|threshold|limit)$/.test(key) ? "Empty: none" : undefined, attrs: { step: 1, min: 0 } }));
  return {
    programs: field({ label: "Programmes", name: "programs", value: config.programs.join(", "), hint: "Comma-separated programme ids" }),
    reasons: reasonEditor(config.reasons),
    points: rules("points"),
    coupons: rules("coupons"),
    timeout: field({ label: "Approval timeout (hours)", name: "approval_timeout_hours", kind: "number", value: config.approval_timeout_hours, attrs: { step: 1, min: 1 } }),
    mandatory: h("fieldset", { class: "field", "data-field": "channels.mandatory" }, h("legend", { text: "Mandatory channels" }),
      CHANNELS.map((c) => field({ label: c, name: `mandatory-${c}`, kind: "checkbox", value: config.channels.mandatory.includes(c) })),
      h("p", { class: "field-error", hidden: true })),
    priority: field({ label: "Channel priority", name: "channels.priority", value: config.channels.priority.join(", "), hint: "First reachable channel wins, e.g. SMS, EMAIL, PUSH" }),
    templates: Object.entries(config.templates).map(([key, value]) =>
      field({ label: humanize(key.toLowerCase()), name: `templates.${key}`, kind: "textarea", value, hint: "Placeholders in braces, e.g. {customer_name}, {abs_points}, {balance}" })),
  };
}

// Reasons as rows of code + label; rows are renumbered on save so "reasons.2.code" errors find theirs.
function reasonEditor(reasons) {
  const rows = h("div");
  const add = (r = { code: "", label: "" }) => {
    const row = h("div", { class: "reason-row" },
      field({ label: "Code", name: "code", value: r.code }),
      field({ label: "Label", name: "label", value: r.label }),
      h("button", { type: "button", class: "secondary small", text: "Remove", "aria-label": `Remove reason ${r.code || "(new)"}`, onclick: () => row.remove() }));
    rows.append(row);
  };
  reasons.forEach(add);
  const box = h("div", { class: "reasons", "data-field": "reasons" }, h("p", { class: "field-error", hidden: true }), rows,
    h("button", { type: "button", class: "secondary small", text: "Add reason", onclick: () => add() }));
  const values = () => [...rows.children].map((row, i) => {
    const [code, label] = row.querySelectorAll(".field");
    code.dataset.field = `reasons.${i}.code`;
    label.dataset.field = `reasons.${i}.label`;
    return { code: code.control.value.trim(), label: label.control.value.trim() };
  });
  return { box, values };
}

// The body for PUT /config: what was loaded (keys this form does not show stay as they were),
// with the form's values over it.
function collect(config, parts) {
  const body = structuredClone(config);
  body.programs = list(parts.programs.control.value);
  body.reasons = parts.reasons.values();
  for (const f of [...parts.points, ...parts.coupons, parts.timeout]) {
    const [group, key] = f.control.name.includes(".") ? f.control.name.split(".") : [null, f.control.name];
    const value = f.control.type === "checkbox" ? f.control.checked : number(f.control.value);
    if (group) body[group][key] = value; else body[key] = value;
  }
  body.channels = { ...body.channels,
    mandatory: CHANNELS.filter((c) => parts.mandatory.querySelector(`[name=mandatory-${c}]`).checked),
    priority: list(parts.priority.control.value).map((c) => c.toUpperCase()) };
  for (const t of parts.templates) body.templates[t.control.name.split(".")[1]] = t.control.value;
  return body;
}

const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
const number = (text) => (text.trim() === "" ? null : /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text.trim());
