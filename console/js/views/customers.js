// Customers: search (id, e-mail, phone, name prefix), results linking to the customer page;
// admins can also add a customer here.
import * as api from "../api.js";
import * as auth from "../auth.js";
import { clear, field, fmtPoints, formAlert, h, heading, showErrors, table } from "../dom.js";
import { go, hashParams } from "../main.js";

export async function render(view, _params, alive) {
  const q = hashParams().get("q") || "";
  const search = field({ label: "Search customers", name: "q", kind: "search", value: q,
    hint: "Customer id, e-mail, phone (+44…) or the first letters of a name", attrs: { autocomplete: "off", "data-autofocus": q ? undefined : true } });
  const form = h("form", { class: "search", role: "search" }, formAlert(), search,
    h("button", { type: "submit", text: "Search" }));
  const results = h("section", { "aria-live": "polite", "aria-label": "Search results" });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = search.control.value.trim();
    go(`#/customers${api.query({ q: value })}`);
  });
  view.append(heading("Customers"), form, results);
  if (auth.can("admin")) view.append(addCustomer());
  if (q) await runSearch(results, form, q, alive);
  else results.append(h("p", { class: "empty", text: "Search for the customer to start a piece of goodwill." }));
}

async function runSearch(results, form, q, alive) {
  const rows = [];
  const more = h("button", { type: "button", class: "secondary", text: "Load more", hidden: true });
  const list = h("div");
  clear(results, h("h2", { text: "Results" }), list, more);
  let token = null;
  const load = async () => {
    more.disabled = true;
    try {
      const page = await api.get(`/customers${api.query({ q, limit: 20, next_token: token })}`);
      if (!alive()) return;
      token = page.next_token;
      rows.push(...page.items.map(row));
      clear(list, table(["Customer", "E-mail", "Phone", "Balance"], rows, { caption: "Customers found", empty: `No customer matches “${q}”.` }));
      more.hidden = !token;
    } catch (error) {
      showErrors(form, error);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", load);
  await load();
}

function row(c) {
  const balances = Object.entries(c.balances || {});
  return [
    h("span", {}, h("a", { href: `#/customers/${api.enc(c.customer_id)}`, text: c.name || c.customer_id }),
      c.name ? h("span", { class: "muted block small", text: c.customer_id }) : null),
    c.email || "–",
    c.phone || "–",
    balances.map(([program, b]) => h("div", { text: `${fmtPoints(b.current)} pts${balances.length > 1 ? ` (${program})` : ""}` })),
  ];
}

function addCustomer() {
  const fields = [
    field({ label: "Customer id", name: "customer_id", attrs: { required: true } }),
    field({ label: "Name", name: "name" }),
    field({ label: "E-mail", name: "email", kind: "email" }),
    field({ label: "Phone", name: "phone", hint: "E.164, e.g. +447700900123", attrs: { type: "tel" } }),
  ];
  const form = h("form", { class: "card grid-2", novalidate: true }, formAlert(), fields,
    h("div", { class: "actions" }, h("button", { type: "submit", text: "Add customer" })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [id, ...rest] = fields;
    const body = {};
    for (const f of rest) if (f.control.value.trim()) body[f.control.name] = f.control.value.trim();
    const customerId = id.control.value.trim();
    if (!customerId) return showErrors(form, { message: "Please correct the marked field.", details: [{ field: "customer_id", message: "Enter an id for the customer." }] });
    try {
      // PUT replaces a profile whole: adding must never overwrite a customer who exists. The search
      // finds an exact id without the 404 (a console error) a GET of a new id would answer;
      // If-None-Match: * makes the PUT create only, so one added since the search is a 412.
      const found = await api.get(`/customers${api.query({ q: customerId, limit: 5 })}`);
      if (found.items.some((c) => c.customer_id === customerId)) return showExists(form, customerId);
      await api.put(`/customers/${api.enc(customerId)}`, body, { "If-None-Match": "*" });
      go(`#/customers/${api.enc(customerId)}`, { kind: "success", text: "Customer added." });
    } catch (error) {
      if (error.status === 412) return showExists(form, customerId);
      showErrors(form, error);
    }
  });
  return h("details", { class: "add-customer" }, h("summary", { text: "Add a customer (admin)" }), form);
}

function showExists(form, customerId) {
  showErrors(form, { message: "This customer already exists.", details: [
    { field: "customer_id", message: `A customer with the id ${customerId} already exists: nothing was changed.` }] });
  form.querySelector(".alert").append(" ", h("a", { href: `#/customers/${api.enc(customerId)}`, text: `Open customer ${customerId}` }));
}
