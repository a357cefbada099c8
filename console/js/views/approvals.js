// Approvals: pending requests newest first, each with a checkbox and Approve / Reject; batch
// decisions for the selected ones with a result per request. Agents see the queue, no buttons.
import * as api from "../api.js";
import * as auth from "../auth.js";
import { decideMany, decideOne } from "../decide.js";
import { badge, clear, describeRequest, fmtTime, h, heading, message } from "../dom.js";

export async function render(view, _params, alive) {
  const queue = { items: [], token: null, results: new Map(), decider: auth.can("approver") };
  const list = h("div", { class: "queue" });
  const more = h("button", { type: "button", class: "secondary", text: "Load more", hidden: true });
  const status = h("div", { "aria-live": "polite" });
  queue.draw = () => clear(list, queue.items.length
    ? queue.items.map((r) => card(r, queue))
    : h("p", { class: "empty", text: "Nothing is waiting for approval." }));
  const batch = (decision) => {
    const ids = [...list.querySelectorAll("input[type=checkbox]:checked")].map((c) => c.value);
    if (!ids.length) return clear(status, message("error", "Select at least one request first."));
    decideMany(ids, decision, (results) => {
      for (const r of results) queue.results.set(r.request_id, r);
      const ok = results.filter((r) => r.status === 200).length;
      clear(status, message(ok === results.length ? "success" : "warning",
        `${ok} of ${results.length} ${decision === "APPROVE" ? "approved" : "rejected"}; ${results.length - ok} refused (see each request below).`));
      queue.draw();
    });
  };
  const toolbar = queue.decider
    ? h("div", { class: "actions toolbar" },
        h("button", { type: "button", text: "Approve selected", onclick: () => batch("APPROVE") }),
        h("button", { type: "button", class: "secondary", text: "Reject selected", onclick: () => batch("REJECT") }))
    : h("p", { class: "notice notice-info", text: "You can follow pending requests here; deciding them needs the approver role." });
  const load = async () => {
    more.disabled = true;
    try {
      const page = await api.get(`/goodwill/requests${api.query({ status: "PENDING_APPROVAL", limit: 20, next_token: queue.token })}`);
      if (!alive()) return;
      queue.items.push(...page.items);
      queue.token = page.next_token;
      more.hidden = !queue.token;
      queue.draw();
    } catch (error) {
      clear(list, message("error", error.message));
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", load);
  view.append(heading("Approvals"), h("p", { class: "lead", text: "Requests waiting for a decision, newest first. Nobody decides their own request." }),
    toolbar, status, list, more);
  await load();
}

// One pending request: what, for whom, why, by whom; its outcome once decided here.
function card(r, queue) {
  const result = queue.results.get(r.request_id);
  const decided = result?.status === 200 ? result.request : null;
  const open = queue.decider && !decided;
  const summary = describeRequest(r);
  const settle = (request) => { queue.results.set(r.request_id, { status: 200, request }); queue.draw(); };
  const checkboxId = `sel-${r.request_id}`;
  return h("article", { class: "card request-card", "data-request-id": r.request_id, "aria-label": `${summary} for ${r.customer_id}` },
    h("div", { class: "request-head" },
      open ? h("input", { type: "checkbox", id: checkboxId, value: r.request_id }) : null,
      h("label", { for: open ? checkboxId : undefined, class: "request-title" }, h("strong", { text: summary }), " for ",
        h("a", { href: `#/customers/${api.enc(r.customer_id)}`, text: r.customer_id })),
      badge(decided ? decided.status : r.status)),
    h("p", { class: "muted" }, `${r.reason}${r.comment ? ` – ${r.comment}` : ""} · asked by ${r.requested_by} · ${fmtTime(r.created_at)} · `,
      h("a", { href: `#/requests/${api.enc(r.request_id)}`, text: "Details and history" })),
    result && result.status !== 200 ? message("error", `Refused: ${result.error?.message || result.error || `status ${result.status}`}`) : null,
    decided ? message("success", `Decided: ${decided.status === "REJECTED" ? "rejected" : "approved"}.`) : null,
    open
      ? h("div", { class: "actions" },
          h("button", { type: "button", text: "Approve", onclick: () => decideOne(r, "approve", settle) }),
          h("button", { type: "button", class: "secondary", text: "Reject", onclick: () => decideOne(r, "reject", settle) }))
      : null);
}
