// Approve / reject dialogs (one request, or a batch through POST /goodwill/request-decisions).
import * as api from "./api.js";
import { describeRequest, field, formAlert, h, showErrors } from "./dom.js";

function dialogForm(title, fields, confirmText, onSubmit) {
  const dialog = h("dialog", { class: "dialog", "aria-label": title });
  const submit = h("button", { type: "submit", text: confirmText });
  const form = h("form", { novalidate: true }, h("h2", { text: title }), formAlert(), fields,
    h("div", { class: "actions" }, submit, h("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => dialog.close() })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      await onSubmit();
      dialog.close();
    } catch (error) {
      showErrors(form, error);
    } finally {
      submit.disabled = false;
    }
  });
  dialog.append(form);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return form;
}

// One request: approving asks for Points (points requests; changeable) and Comment.
export function decideOne(request, decision, done) {
  const comment = field({ label: "Comment", name: "comment", kind: "textarea", hint: decision === "approve" ? "Optional" : "Required: tell the agent why" });
  const fields = [comment];
  let points = null;
  if (decision === "approve" && request.type === "POINTS") {
    points = field({ label: "Points", name: "points", kind: "number", value: request.points, hint: "Change it if a different amount is right (same sign)", attrs: { step: 1 } });
    fields.unshift(points);
  }
  const what = describeRequest(request).toLowerCase();
  dialogForm(`${decision === "approve" ? "Approve" : "Reject"} ${what} for ${request.customer_id}`, fields,
    decision === "approve" ? "Confirm approval" : "Confirm rejection", async () => {
      const body = {};
      if (comment.control.value.trim()) body.comment = comment.control.value;
      if (points) {
        const raw = points.control.value.trim();
        const value = /^-?\d+$/.test(raw) ? Number(raw) : raw;
        if (value !== request.points) body.points = value;
      }
      const { data } = await api.post(`/goodwill/requests/${api.enc(request.request_id)}/${decision}`, body);
      done(data);
    });
}

// A batch: one comment for all; each id is decided on its own, results come back per id.
export function decideMany(ids, decision, done) {
  const comment = field({ label: "Comment", name: "comment", kind: "textarea", hint: decision === "APPROVE" ? "Optional" : "Required: tell the agents why" });
  dialogForm(`${decision === "APPROVE" ? "Approve" : "Reject"} ${ids.length} selected request${ids.length === 1 ? "" : "s"}`, [comment],
    decision === "APPROVE" ? "Confirm approval" : "Confirm rejection", async () => {
      const body = { decision, request_ids: ids };
      if (comment.control.value.trim()) body.comment = comment.control.value;
      const { data } = await api.post("/goodwill/request-decisions", body);
      done(data.results);
    });
}
