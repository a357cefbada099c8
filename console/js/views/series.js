// Coupon series (admins): the list (codes left for pools), a form to create a series, and
// "Add codes" to a pool (PUT with `codes` appends them).
import * as api from "../api.js";
import { clear, clearErrors, field, fmtPoints, formAlert, h, heading, showErrors, table } from "../dom.js";
import { go } from "../main.js";

export async function render(view, _params, alive) {
  const list = h("div");
  const more = h("button", { type: "button", class: "secondary", text: "Load more", hidden: true });
  const state = { items: [], token: null };
  const draw = () => clear(list, table(["Series", "Discount", "Kind", "Issued", "Codes left", ""], state.items.map((s) => [
    h("span", { "data-series": s.series_id, tabindex: "-1" }, h("strong", { text: s.name }), h("span", { class: "muted block", text: s.series_id })),
    s.discount.type === "PERCENT" ? `${s.discount.value}%` : `${s.discount.value} off`,
    s.kind === "POOL" ? "Pool of codes" : "Generated codes",
    fmtPoints(s.issued),
    s.kind === "POOL" ? fmtPoints(s.available) : "unlimited",
    s.kind === "POOL" ? h("button", { type: "button", class: "secondary small", text: "Add codes", "aria-label": `Add codes to ${s.name}`, onclick: () => addCodes(s) }) : "",
  ]), { caption: "Coupon series", empty: "No coupon series yet." }));
  const load = async () => {
    const page = await api.get(`/coupon-series${api.query({ limit: 20, next_token: state.token })}`);
    if (!alive()) return;
    state.items.push(...page.items);
    state.token = page.next_token;
    more.hidden = !state.token;
    draw();
  };
  more.addEventListener("click", load);
  view.append(heading("Coupon series"), h("section", { class: "card", "aria-label": "Series" }, list, more), createForm());
  await load();
}

function seriesFields(s = {}) {
  return {
    id: field({ label: "Series id", name: "series_id", value: s.series_id, attrs: { required: true } }),
    name: field({ label: "Name", name: "name", value: s.name }),
    description: field({ label: "Description", name: "description", value: s.description }),
    type: field({ label: "Discount type", name: "discount.type", kind: "select", value: s.discount?.type || "PERCENT",
      options: [{ value: "PERCENT", label: "Percent" }, { value: "AMOUNT", label: "Amount" }] }),
    value: field({ label: "Discount value", name: "discount.value", kind: "number", value: s.discount?.value, attrs: { step: 1, min: 1 } }),
    days: field({ label: "Valid days", name: "valid_days", kind: "number", value: s.valid_days ?? 30, attrs: { step: 1, min: 1 } }),
    codes: field({ label: "Codes", name: "codes", kind: "textarea", hint: "One per line. Leave empty and the series generates its own codes." }),
  };
}

function body(f) {
  const int = (v) => (/^\d+$/.test(v.trim()) ? Number(v.trim()) : v.trim());
  const out = { name: f.name.control.value.trim(), discount: { type: f.type.control.value, value: int(f.value.control.value) }, valid_days: int(f.days.control.value) };
  if (f.description.control.value.trim()) out.description = f.description.control.value.trim();
  const codes = f.codes.control.value.split(/\r?\n/).map((c) => c.trim()).filter(Boolean);
  if (codes.length) out.codes = codes;
  return out;
}

function createForm() {
  const f = seriesFields();
  const submit = h("button", { type: "submit", text: "Create series" });
  const form = h("form", { class: "card form-grid", novalidate: true, "aria-label": "Create a coupon series" },
    h("h2", { text: "Create a series" }), formAlert(), Object.values(f), h("div", { class: "actions" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const id = f.id.control.value.trim();
    if (!id) return showErrors(form, { message: "Please correct the marked field.", details: [{ field: "series_id", message: "Enter an id for the series." }] });
    submit.disabled = true;
    try {
      // Create only: PUT is create-or-update, so an id that exists (also one created since this
      // page was read) is a 412 with If-None-Match: *, and that series stays as it is.
      await api.put(`/coupon-series/${api.enc(id)}`, body(f), { "If-None-Match": "*" });
      go("#/series");
    } catch (error) {
      if (error.status === 412) showExists(form, id);
      else showErrors(form, error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function showExists(form, id) {
  showErrors(form, { message: `The series ${id} already exists.`, details: [
    { field: "series_id", message: "A series with this id already exists: nothing was changed." }] });
  form.querySelector(".alert").append(" ", h("a", { href: "#/series", text: `Show series ${id}`, onclick: (e) => showInList(e, id) }));
}

// The link to a series that exists: its row in the list (loaded or not, the list read afresh).
function showInList(event, id) {
  const row = document.querySelector(`[data-series="${CSS.escape(id)}"]`);
  if (!row) return go("#/series");
  event.preventDefault();
  row.scrollIntoView({ block: "center" });
  row.focus();
}

function addCodes(s) {
  const codes = field({ label: "Codes", name: "codes", kind: "textarea", hint: "One per line; each is handed out once." });
  const dialog = h("dialog", { class: "dialog", "aria-label": `Add codes to ${s.name}` });
  const form = h("form", { novalidate: true }, h("h2", { text: `Add codes to ${s.name}` }), formAlert(), codes,
    h("div", { class: "actions" }, h("button", { type: "submit", text: "Add codes" }),
      h("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => dialog.close() })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const list = codes.control.value.split(/\r?\n/).map((c) => c.trim()).filter(Boolean);
    if (!list.length) return showErrors(form, { message: "Please correct the marked field.", details: [{ field: "codes", message: "Enter at least one code." }] });
    try {
      const next = { name: s.name, discount: s.discount, valid_days: s.valid_days, codes: list };
      if (s.description) next.description = s.description;
      await api.put(`/coupon-series/${api.enc(s.series_id)}`, next);
      dialog.close();
      go("#/series");
    } catch (error) {
      showErrors(form, error);
    }
  });
  dialog.append(form);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}


