// Give coupon: series (with the codes left in pools), reason, comment; coupons wait for approval
// unless the org auto-approves them.
import * as api from "../api.js";
import { append, clearErrors, field, formAlert, h, heading, showErrors } from "../dom.js";
import { reasonOptions } from "../reasons.js";

export async function render(view, { id }, alive) {
  const [customer, reasons, series] = await Promise.all([
    api.get(`/customers/${api.enc(id)}`), reasonOptions(), api.get("/coupon-series?limit=100")]);
  if (!alive()) return;
  const options = series.items.map(seriesOption);
  const f = {
    series: field({ label: "Coupon series", name: "series_id", kind: "select", options, value: options[0]?.value }),
    reason: field({ label: "Reason", name: "reason", kind: "select", options: reasons, value: "SERVICE_RECOVERY" }),
    comment: field({ label: "Comment", name: "comment", kind: "textarea", hint: "Internal note, up to 500 characters" }),
  };
  const result = h("div", { class: "result", "aria-live": "polite", tabindex: "-1" });
  const submit = h("button", { type: "submit", text: "Send request", disabled: !options.length });
  const form = h("form", { class: "card form-grid", novalidate: true }, formAlert(), Object.values(f),
    h("div", { class: "actions" }, submit, h("a", { class: "button secondary", href: `#/customers/${api.enc(id)}`, text: "Cancel" })));
  let key = crypto.randomUUID();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = { customer_id: customer.customer_id, series_id: f.series.control.value, reason: f.reason.control.value };
    if (f.comment.control.value.trim()) body.comment = f.comment.control.value;
    submit.disabled = true;
    try {
      const { status, data } = await api.post("/goodwill/coupons", body, { "Idempotency-Key": key });
      key = crypto.randomUUID();
      const req = h("a", { href: `#/requests/${api.enc(data.request.request_id)}`, text: "See the request" });
      const back = h("a", { href: `#/customers/${api.enc(customer.customer_id)}`, text: "Back to the customer" });
      result.replaceChildren(status === 202
        ? h("div", { class: "notice notice-warning", role: "status" }, h("strong", { text: "Waiting for approval. " }), "The coupon is issued once an approver agrees. ", req, " · ", back)
        : h("div", { class: "notice notice-success", role: "status" }, h("strong", { text: "Coupon issued: " }), h("code", { text: data.coupon.code }), ". ", req, " · ", back));
      f.comment.control.value = "";
      result.focus();
    } catch (error) {
      showErrors(form, error);
    } finally {
      await refreshSeries(f.series.control); // an issued coupon (or SERIES_EXHAUSTED) changed the counts
      submit.disabled = !options.length;
    }
  });
  append(view, [
    h("p", { class: "crumbs" }, h("a", { href: "#/customers", text: "Customers" }), " / ",
      h("a", { href: `#/customers/${api.enc(id)}`, text: customer.name || customer.customer_id }), " / Give coupon"),
    heading(`Give a coupon to ${customer.name || customer.customer_id}`), result,
    options.length ? null : h("p", { class: "notice notice-info", text: "No coupon series yet: an admin creates them under Coupon series." }),
    form]);
}

function seriesOption(s) {
  const discount = s.discount.type === "PERCENT" ? `${s.discount.value}% off` : `${s.discount.value} off`;
  const left = s.available ?? 0;
  return { value: s.series_id, label: `${s.name} (${discount}${s.kind === "POOL" ? `, ${left} code${left === 1 ? "" : "s"} left` : ""})` };
}

// The codes left after an answer (this coupon, or other agents' meanwhile): read them again.
// The list is a courtesy; if it cannot be read now, the answer above still stands.
async function refreshSeries(select) {
  let series;
  try { series = await api.get("/coupon-series?limit=100"); } catch { return; }
  for (const option of select.options) {
    const fresh = series.items.find((s) => s.series_id === option.value);
    if (fresh) option.textContent = seriesOption(fresh).label;
  }
}
