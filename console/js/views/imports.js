// Bulk import (admins): ask for an upload slot, PUT the file to the presigned URL with a progress
// bar, then follow the import (GET /goodwill/bulk-imports/{id}) until it ends; download its report.
// #/imports?import_id=ID (the completion mail's link) shows that import the same way.
import * as api from "../api.js";
import { clearErrors, field, fmtPoints, formAlert, h, heading, humanStatus, message, pair, showErrors } from "../dom.js";
import { hashParams } from "../main.js";
import { orgConfig } from "../reasons.js";

const DONE = new Set(["COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED"]);

export async function render(view, _params, alive) {
  const config = await orgConfig();
  const programs = (config?.programs || ["default"]).map((p) => ({ value: p, label: p }));
  const f = {
    program: field({ label: "Program", name: "program_id", kind: "select", options: programs, value: programs[0].value }),
    mode: field({ label: "Mode", name: "mode", kind: "select", value: "ADD", options: [
      { value: "ADD", label: "ADD – add (or take) the points in each row" },
      { value: "SET", label: "SET – set each balance to the row's points" }] }),
    dry: field({ label: "Dry run", name: "dry_run", kind: "checkbox", value: false }),
    file: field({ label: "CSV file", name: "file", kind: "file", hint: "Columns: customer_id or email, points; optional reason, comment, expires_at, affects_tier", attrs: { accept: ".csv,text/csv", required: true } }),
  };
  const submit = h("button", { type: "submit", text: "Upload" });
  const form = h("form", { class: "card form-grid", novalidate: true }, formAlert(), Object.values(f), h("div", { class: "actions" }, submit));
  const progress = h("section", { class: "card", "aria-label": "Import", hidden: true });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const file = f.file.control.files[0];
    if (!file) return showErrors(form, { message: "Please choose a file.", details: [{ field: "file", message: "Choose the CSV file to import." }] });
    submit.disabled = true;
    try {
      await run(progress, { program_id: f.program.control.value, mode: f.mode.control.value, dry_run: f.dry.control.checked }, file, alive);
    } catch (error) {
      showErrors(form, error);
    } finally {
      submit.disabled = false;
    }
  });
  view.append(heading("Bulk import"),
    h("p", { class: "lead", text: "Adjust many balances from a CSV file. Each row applies at most once; bad rows are reported, the good ones still apply." }),
    form, progress);
  const importId = hashParams().get("import_id");
  if (importId) show(progress, importId, alive); // followed while the screen is in use
}

// The import a link names: its status, totals and report, followed while it runs; an import
// that does not exist (or is another org's) shows the API's message.
async function show(panel, importId, alive) {
  panel.hidden = false;
  panel.replaceChildren(h("h2", { text: `Import ${importId}` }));
  try {
    await follow(panel, importId, alive);
  } catch (error) {
    panel.append(message("error", error.message));
  }
}

async function run(panel, body, file, alive) {
  const { data: slot } = await api.post("/goodwill/bulk-imports", body);
  const bar = h("progress", { id: "upload-progress", max: 100, value: 0 });
  const line = h("p", { "aria-live": "polite", text: `Uploading ${file.name}…` });
  panel.hidden = false;
  panel.replaceChildren(h("h2", { text: `Import ${slot.import_id}` }), h("label", { class: "bar-label", for: "upload-progress", text: "Upload progress" }), bar, line);
  await api.upload(slot.upload_url, file, slot.upload_headers, (loaded, total) => {
    bar.value = Math.round((loaded / total) * 100);
    line.textContent = `Uploading ${file.name}: ${Math.round(loaded / 1024)} of ${Math.round(total / 1024)} KB`;
  });
  bar.value = 100;
  line.textContent = `${file.name} uploaded.`;
  await follow(panel, slot.import_id, alive);
}

// Status and totals of the import, read every second until it ends (or the panel shows another
// import: an upload made on the screen a link opened); then its report.
async function follow(panel, importId, alive) {
  panel.dataset.following = importId;
  const importBar = h("progress", { id: "import-progress" });
  const status = h("p", { role: "status", text: "Waiting for the import to start…" });
  const totals = h("dl", { class: "summary" });
  const actions = h("div", { class: "actions" });
  panel.append(h("label", { class: "bar-label", for: "import-progress", text: "Import progress" }), importBar, status, totals, actions);
  let record = null;
  for (let i = 0; i < 600 && alive() && panel.dataset.following === importId; i++) {
    record = await api.get(`/goodwill/bulk-imports/${api.enc(importId)}`);
    const t = record.totals || {};
    status.textContent = `${humanStatus(record.status)}${record.dry_run ? " (dry run)" : ""}`;
    totals.replaceChildren(pair("Rows", fmtPoints(t.rows ?? 0)), pair(record.dry_run ? "Valid" : "Applied", fmtPoints(t.applied ?? 0)), pair("Failed", fmtPoints(t.failed ?? 0)));
    if (t.rows) { importBar.max = t.rows; importBar.value = (t.applied || 0) + (t.failed || 0); }
    if (DONE.has(record.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  if (!record || !DONE.has(record.status)) return;
  importBar.max = 1;
  importBar.value = 1;
  if (record.report_url) {
    actions.append(h("button", { type: "button", text: "Download report", onclick: (e) => download(e.currentTarget, record) }));
  } else {
    actions.append(message("info", "This import has no report."));
  }
}

// The report is a presigned GET on the bucket: fetch it and save it under a readable name.
async function download(button, record) {
  button.disabled = true;
  try {
    const reply = await fetch(record.report_url);
    if (!reply.ok) throw new Error(`The report could not be downloaded (${reply.status}).`);
    const url = URL.createObjectURL(await reply.blob());
    const link = h("a", { href: url, download: `import-${record.import_id}-report.csv`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    button.after(message("error", error.message || "The report could not be downloaded."));
  } finally {
    button.disabled = false;
  }
}
