// Reason codes for the forms. The org's list comes from GET /config, which only admins may read;
// everyone else is offered the contract's default reasons (the API still checks the code).
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
  const config = await orgConfig();
  const reasons = config?.reasons?.map((r) => [r.code, r.label]) || DEFAULTS;
  return reasons.map(([value, label]) => ({ value, label: `${label} (${value})` }));
}
