// Reason codes for the forms: the org's own, from GET /config/reasons, which every role may read
// (GET /config, the whole configuration, is for admins). Should that read fail, the contract's
// default reasons are offered and the API still checks the code sent.
import * as api from "./api.js";
import * as auth from "./auth.js";

const DEFAULTS = [
  ["SERVICE_RECOVERY", "Service recovery"], ["LATE_DELIVERY", "Late delivery"], ["DAMAGED_ITEM", "Damaged item"],
  ["PRICE_ADJUSTMENT", "Price adjustment"], ["CORRECTION", "Correction"], ["REWARD", "Reward"],
  ["MIGRATION", "Migration"], ["BULK_ADJUSTMENT", "Bulk adjustment"],
];

export async function orgConfig() {
  if (!auth.can("admin")) return null;
  try { return await api.get("/config"); } catch { return null; }
}

export async function reasonOptions() {
  let reasons = DEFAULTS;
  try {
    const page = await api.get("/config/reasons");
    reasons = page.items.map((r) => [r.code, r.label]);
  } catch { /* the defaults above */ }
  return reasons.map(([value, label]) => ({ value, label: `${label} (${value})` }));
}
