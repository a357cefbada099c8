// The customer page: profile, balances per programme (current, lifetime, expiring), the ledger
// (newest first, "Load more", "Reverse" per reversible entry), coupons and goodwill requests.
import * as api from "../api.js";
import { badge, clear, describeRequest, field, fmtDate, fmtPoints, fmtSigned, fmtTime, formAlert, h, heading, message, pair, showErrors, table } from "../dom.js";
import { go } from "../main.js";
import { reasonOptions } from "../reasons.js";

const NOT_REVERSIBLE = new Set(["REVERSAL", "EXPIRY"]);
const IN_FLIGHT = new Set(["APPROVED"]);

export async function render(view, { id }, alive) {
  const base = `/customers/${api.enc(id)}`;
  const customer = await api.get(base);
  if (!alive()) return;
  const balances = h("section", { class: "balances", "aria-label": "Balances" }, balanceCards(customer));
  const actions = h("div", { class: "actions" },
    h("button", { type: "button", text: "Give points", onclick: () => go(`#/customers/${api.enc(id)}/points`) }),
    h("button", { type: "button", class: "secondary", text: "Give coupon", onclick: () => go(`#/customers/${api.enc(id)}/coupon`) }));
  const contact = [customer.email, customer.phone].filter(Boolean).join(" · ") || "No contact details";
  view.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/customers", text: "Customers" }), " / ", customer.customer_id),
    h("div", { class: "title-row" }, heading(customer.name || customer.customer_id), actions),
    h("p", { class: "muted", text: `${customer.customer_id} · ${contact}${customer.opted_out_channels?.length ? ` · opted out of ${customer.opted_out_channels.join(", ")}` : ""}` }),
    balances,
  );
  // Entries with a reversal waiting for an approver (all of the customer's, not only the requests
  // shown): no second "Reverse".
  let pending = new Set();
  const waiting = () => pending;
  const requests = pagedSection("Goodwill requests", (token) => `/goodwill/requests${api.query({ customer_id: id, limit: 10, next_token: token })}`,
    ["Request", "Status", "Requested"], requestRow, "No goodwill requests yet.", alive);
  const ledger = pagedSection("Ledger", (token) => `${base}/transactions${api.query({ limit: 10, next_token: token })}`,
    ["When", "Change", "Balance after", "Type", "Reason", "By", ""], (t) => ledgerRow(t, id, waiting), "No ledger entries yet.", alive);
  const coupons = pagedSection("Coupons", (token) => `${base}/coupons${api.query({ next_token: token })}`,
    ["Code", "Series", "Issued", "Expires"], couponRow, "No coupons yet.", alive);
  view.append(ledger.section, h("div", { class: "columns" }, requests.section, coupons.section));
  // Requests first: one fulfilled by now is then also in the balance and ledger read after it;
  // one still being applied is followed below.
  await requests.load();
  pending = await pendingReversals(id);
  await Promise.all([ledger.load(), coupons.load(), api.get(base).then((fresh) => clear(balances, balanceCards(fresh)))]);
  // A request just approved is applied by the workflow within seconds: follow it until it lands.
  for (let round = 0; round < 30 && alive() && requests.items.some((r) => IN_FLIGHT.has(r.status)); round++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (!alive()) return;
    await requests.reload();
    pending = await pendingReversals(id);
    const fresh = await api.get(base);
    clear(balances, balanceCards(fresh));
    await Promise.all([ledger.reload(), coupons.reload()]);
  }
}

// The entries whose reversal waits for an approver: every page of the customer's waiting requests.
async function pendingReversals(customerId) {
  const found = new Set();
  let token = null;
  do {
    const page = await api.get(`/goodwill/requests${api.query({ customer_id: customerId, status: "PENDING_APPROVAL", limit: 100, next_token: token })}`);
    for (const r of page.items) if (r.type === "REVERSAL") found.add(r.reverses);
    token = page.next_token;
  } while (token);
  return found;
}

function balanceCards(customer) {
  const entries = Object.entries(customer.balances || {});
  if (!entries.length) return h("p", { class: "empty", text: "No programmes configured." });
  return entries.map(([program, b]) => h("div", { class: "balance card", "data-program": program },
    h("h2", { text: `Programme ${program}` }),
    h("dl", {}, pair("Current", h("span", { class: "big", "data-testid": `current-${program}`, text: fmtPoints(b.current) })), pair("Lifetime", fmtPoints(b.lifetime))),
    (b.expiring || []).length
      ? h("div", { class: "expiring" }, h("h3", { text: "Expiring soon" }), h("ul", {}, b.expiring.map((e) => h("li", { text: `${fmtPoints(e.points)} points on ${fmtDate(e.expires_at)}` }))))
      : h("p", { class: "muted small", text: "No points expiring." })));
}

function pagedSection(title, url, columns, toRow, empty, alive) {
  const state = { items: [], token: null };
  const body = h("div");
  const more = h("button", { type: "button", class: "secondary", text: "Load more", hidden: true });
  const section = h("section", { class: "card", "aria-label": title }, h("h2", { text: title }), body, more);
  const draw = () => {
    clear(body, table(columns, state.items.map(toRow), { caption: title, empty }));
    more.hidden = !state.token;
  };
  const fetchPage = async (token) => {
    try {
      return await api.get(url(token));
    } catch (error) {
      clear(body, message("error", error.message));
      return null;
    }
  };
  const load = async () => {
    more.disabled = true;
    const page = await fetchPage(state.token);
    more.disabled = false;
    if (!page || !alive()) return;
    state.items.push(...page.items);
    state.token = page.next_token;
    draw();
  };
  const reload = async () => {
    const page = await fetchPage(null);
    if (!page || !alive()) return;
    state.items = page.items;
    state.token = page.next_token;
    draw();
  };
  more.addEventListener("click", load);
  return { section, load, reload, get items() { return state.items; } };
}

function requestRow(r) {
  return [h("a", { href: `#/requests/${api.enc(r.request_id)}`, text: describeRequest(r) }), badge(r.status), fmtTime(r.created_at)];
}

function couponRow(c) {
  return [h("code", { text: c.code }), c.series_id, fmtDate(c.issued_at), fmtDate(c.expires_at)];
}

function ledgerRow(t, customerId, waiting) {
  const pending = waiting().has(t.transaction_id);
  const reversible = !NOT_REVERSIBLE.has(t.type) && t.points !== 0 && !t.reversed_by && !pending;
  const note = t.reversed_by ? h("span", { class: "muted small", text: "Reversed" })
    : pending ? h("span", { class: "muted small", text: "Reversal waiting for approval" }) : null;
  const button = reversible
    ? h("button", { type: "button", class: "secondary small", text: "Reverse", "aria-label": "Reverse",
        title: `Reverse ${fmtSigned(t.points)} points of ${fmtDate(t.created_at)}`, onclick: () => reverseDialog(t, customerId) })
    : note;
  return [
    fmtTime(t.created_at),
    h("span", { class: t.points < 0 ? "neg" : "pos", text: fmtSigned(t.points) }),
    fmtPoints(t.current_after),
    h("span", { text: t.type.replaceAll("_", " ").toLowerCase() }, t.program_id !== "default" ? ` · ${t.program_id}` : ""),
    h("span", {}, t.reason, t.comment ? h("span", { class: "muted block", text: t.comment }) : null),
    h("span", {}, t.actor, h("span", { class: "muted block", text: t.source })),
    button,
  ];
}

// Reversal (CONTRACT.md 13): {reason, comment?}; 201 applied, 202 waiting for an approver. Either
// way the page is drawn again (balance, ledger, requests), with the outcome said above it. One
// Idempotency-Key per dialog, as Give points: a retry after a lost answer gets the first answer.
async function reverseDialog(t, customerId) {
  const reason = field({ label: "Reason", name: "reason", kind: "select", value: "CORRECTION", options: await reasonOptions() });
  const comment = field({ label: "Comment", name: "comment", kind: "textarea" });
  const dialog = h("dialog", { class: "dialog", "aria-labelledby": "reverse-title" });
  const submit = h("button", { type: "submit", text: "Confirm reversal" });
  let key = crypto.randomUUID();
  const form = h("form", { novalidate: true }, h("h2", { id: "reverse-title", text: `Reverse ${fmtSigned(t.points)} points` }),
    h("p", { class: "muted", text: `${t.type.replaceAll("_", " ").toLowerCase()} of ${fmtTime(t.created_at)}, ${t.reason}` }),
    formAlert(), reason, comment,
    h("div", { class: "actions" }, submit,
      h("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => dialog.close() })));
  dialog.append(form);
  dialog.addEventListener("close", () => dialog.remove());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { reason: reason.control.value };
    if (comment.control.value.trim()) body.comment = comment.control.value;
    submit.disabled = true;
    try {
      const reply = await api.post(`/customers/${api.enc(customerId)}/transactions/${api.enc(t.transaction_id)}/reverse`, body, { "Idempotency-Key": key });
      key = crypto.randomUUID();
      dialog.close();
      go(`#/customers/${api.enc(customerId)}`, reply.status === 202
        ? { kind: "warning", text: "The reversal is waiting for approval." }
        : { kind: "success", text: "The entry was reversed." });
    } catch (error) {
      showErrors(form, error);
    } finally {
      submit.disabled = false;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
}
