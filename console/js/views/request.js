// A request: what was asked, its status, its whole history and every notification attempt.
import * as api from "../api.js";
import * as auth from "../auth.js";
import { decideOne } from "../decide.js";
import { append, badge, describeRequest, fmtPoints, fmtTime, h, heading, humanStatus, message, pair, table } from "../dom.js";
import { go } from "../main.js";

export async function render(view, { id }, alive) {
  let r = await api.get(`/goodwill/requests/${api.enc(id)}`);
  // An approved request is applied by the workflow within seconds: follow it to its end.
  for (let i = 0; i < 20 && r.status === "APPROVED" && alive(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    r = await api.get(`/goodwill/requests/${api.enc(id)}`);
  }
  if (!alive()) return;
  const what = describeRequest(r);
  const decisions = r.status === "PENDING_APPROVAL" && auth.can("approver")
    ? h("div", { class: "actions" },
        h("button", { type: "button", text: "Approve", onclick: () => decideOne(r, "approve", () => go(`#/requests/${api.enc(id)}`)) }),
        h("button", { type: "button", class: "secondary", text: "Reject", onclick: () => decideOne(r, "reject", () => go(`#/requests/${api.enc(id)}`)) }))
    : null;
  append(view, [
    h("p", { class: "crumbs" }, h("a", { href: "#/approvals", text: "Approvals" }), " / Request ", r.request_id),
    h("div", { class: "title-row" }, heading(what), badge(r.status)),
    decisions,
    h("section", { class: "card" }, h("dl", { class: "summary" },
      pair("Customer", h("a", { href: `#/customers/${api.enc(r.customer_id)}`, text: r.customer_id })),
      r.program_id ? pair("Programme", r.program_id) : null,
      r.type !== "COUPON" ? pair("Points asked", fmtPoints(r.points)) : null,
      r.reverses ? pair("Reverses", h("code", { text: r.reverses })) : null,
      r.approved_points !== undefined && r.approved_points !== null ? pair("Points approved", fmtPoints(r.approved_points)) : null,
      r.coupon ? pair("Coupon", h("code", { text: r.coupon.code })) : null,
      pair("Reason", r.reason),
      pair("Comment", r.comment || "–"),
      pair("Requested by", `${r.requested_by} · ${fmtTime(r.created_at)}`),
      r.decided_by ? pair("Decided by", `${r.decided_by} · ${fmtTime(r.decided_at)}`) : null,
      r.decision_comment ? pair("Decision comment", r.decision_comment) : null,
      r.transaction_id ? pair("Ledger entry", h("code", { text: r.transaction_id })) : null)),
    h("div", { class: "columns" },
      h("section", { class: "card", "aria-label": "History" }, h("h2", { text: "History" }),
        h("ol", { class: "timeline" }, (r.history || []).map(step))),
      h("section", { class: "card", "aria-label": "Notifications" }, h("h2", { text: "Notification attempts" }),
        table(["Channel", "Result", "To", "When", "Detail"], (r.notifications || []).map((n) => [
          n.channel, badge(n.status), n.to || "–", fmtTime(n.at), n.error || (n.message_id ? h("span", { class: "muted small", text: `message ${n.message_id}` }) : "–"),
        ]), { caption: "Notification attempts", empty: r.status === "FULFILLED" ? "No notification was sent." : "None yet: the customer is told once the request is done." }))),
  ]);
  if (r.status === "APPROVED") view.append(message("info", "Still being applied: reload in a moment."));
}

function step(s) {
  const event = s.event || "step";
  const detail = [
    s.approved_points !== undefined && `points ${fmtPoints(s.approved_points)}`, s.coupon_code && `coupon ${s.coupon_code}`,
    s.comment, s.detail, s.error, s.reason, s.channel && `${s.channel} ${humanStatus(s.status || "").toLowerCase()}`,
  ].filter(Boolean).join(" · ");
  return h("li", {}, h("strong", { text: String(event).replaceAll("_", " ").toLowerCase() }),
    ` · ${s.actor || "system"} · ${fmtTime(s.at)}`, detail ? h("span", { class: "muted block", text: detail }) : null);
}
