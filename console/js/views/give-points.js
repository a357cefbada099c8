// Give points: the form of CONTRACT.md 16; the answer says whether the points were added (with the
// new balance) or wait for approval. One Idempotency-Key per intended grant: a retry after a lost
// answer cannot grant twice; a new key only after a success.
import * as api from "../api.js";
import { clearErrors, field, fmtPoints, formAlert, h, heading, showErrors } from "../dom.js";
import { reasonOptions } from "../reasons.js";

export async function render(view, { id }, alive) {
  const [customer, reasons] = await Promise.all([api.get(`/customers/${api.enc(id)}`), reasonOptions()]);
  if (!alive()) return;
  const programs = Object.keys(customer.balances || {}).map((p) => ({ value: p, label: p }));
  const f = {
    points: field({ label: "Points", name: "points", kind: "number", hint: "Negative to take points away", attrs: { step: 1, required: true, inputmode: "numeric" } }),
    program: field({ label: "Program", name: "program_id", kind: "select", options: programs, value: programs[0]?.value }),
    reason: field({ label: "Reason", name: "reason", kind: "select", options: reasons, value: "SERVICE_RECOVERY" }),
    comment: field({ label: "Comment", name: "comment", kind: "textarea", hint: "Internal note, up to 500 characters" }),
    message: field({ label: "Message to customer", name: "customer_message", kind: "textarea", hint: "Shown to the customer in the notification, up to 300 characters" }),
    expires: field({ label: "Expires on", name: "expires_at", kind: "date", hint: "Optional: the points expire at the end of this day (UTC)" }),
    tier: field({ label: "Counts towards tier", name: "affects_tier", kind: "checkbox", value: true }),
    notify: field({ label: "Notify customer", name: "notify", kind: "checkbox", value: true }),
  };
  const result = h("div", { class: "result", "aria-live": "polite" });
  const submit = h("button", { type: "submit", text: "Send request" });
  const form = h("form", { class: "card form-grid", novalidate: true }, formAlert(), Object.values(f),
    h("div", { class: "actions" }, submit, h("a", { class: "button secondary", href: `#/customers/${api.enc(id)}`, text: "Cancel" })));
  let key = crypto.randomUUID();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = bodyOf(f, customer);
    if (body.points === "") return showErrors(form, { message: "Please correct the marked field.", details: [{ field: "points", message: "Enter the number of points." }] });
    submit.disabled = true;
    try {
      const reply = await api.post("/goodwill/points", body, { "Idempotency-Key": key });
      key = crypto.randomUUID();
      clear(result, outcome(reply, customer));
      form.reset();
      result.focus();
    } catch (error) {
      showErrors(form, error);
    } finally {
      submit.disabled = false;
    }
  });
  view.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/customers", text: "Customers" }), " / ",
      h("a", { href: `#/customers/${api.enc(id)}`, text: customer.name || customer.customer_id }), " / Give points"),
    heading(`Give points to ${customer.name || customer.customer_id}`), result, form);
  result.tabIndex = -1;
}

function clear(el, child) { el.replaceChildren(child); }

// What the form asks for, as POST /goodwill/points takes it (a non-integer goes as typed: the API
// names the field).
function bodyOf(f, customer) {
  const raw = f.points.control.value.trim();
  const body = {
    customer_id: customer.customer_id,
    program_id: f.program.control.value,
    points: /^-?\d+$/.test(raw) ? Number(raw) : raw,
    reason: f.reason.control.value,
    affects_tier: f.tier.control.checked,
    notify: f.notify.control.checked,
  };
  if (f.comment.control.value.trim()) body.comment = f.comment.control.value;
  if (f.message.control.value.trim()) body.customer_message = f.message.control.value;
  if (f.expires.control.value) body.expires_at = `${f.expires.control.value}T23:59:59Z`;
  return body;
}

function outcome({ status, data }, customer) {
  const link = h("a", { href: `#/customers/${api.enc(customer.customer_id)}`, text: "Back to the customer" });
  const req = h("a", { href: `#/requests/${api.enc(data.request.request_id)}`, text: "See the request" });
  if (status === 202) {
    return h("div", { class: "notice notice-warning", role: "status" },
      h("strong", { text: "Waiting for approval. " }),
      `${fmtPoints(Math.abs(data.request.points))} points need an approver before they are ${data.request.points < 0 ? "taken" : "added"}. `, req, " · ", link);
  }
  const b = data.balance;
  return h("div", { class: "notice notice-success", role: "status" },
    h("strong", { text: data.request.points < 0 ? "Points taken. " : "Points added. " }),
    `New balance: ${fmtPoints(b.current)} points (lifetime ${fmtPoints(b.lifetime)}). `, req, " · ", link);
}


