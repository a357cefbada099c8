// Who is signed in. Two modes, chosen by config.json:
// - "local": the sign-in form picks organisation, user and roles, sent as the local claim headers
//   (X-Goodwill-Org/-Actor/-Roles/-Email) that only the local run accepts.
// - "cognito": the Cognito hosted UI with the authorization-code grant and PKCE. The code
//   verifier and the tokens live in sessionStorage (gone with the tab; never localStorage); the
//   ID token goes in the Authorization header (verified by the API's Lambda authorizer); tokens are
//   refreshed a minute before they expire; a 401 signs out.
const KEY = "goodwill.session";
const PKCE_KEY = "goodwill.pkce";
let settings = { mode: "local" };
let refreshTimer = null;
const listeners = new Set();

export const onChange = (fn) => listeners.add(fn);
const changed = (notice) => listeners.forEach((fn) => fn(notice));

export function configure(config) { settings = config; }
export const mode = () => settings.mode;

export function session() {
  try { return JSON.parse(sessionStorage.getItem(KEY)); } catch { return null; }
}

function save(value) {
  if (value) sessionStorage.setItem(KEY, JSON.stringify(value));
  else sessionStorage.removeItem(KEY);
}

// Roles are cumulative in the contract: an approver may do what an agent may, an admin everything.
export function can(role) {
  const roles = session()?.roles || [];
  if (roles.includes("admin")) return true;
  if (role === "agent") return roles.includes("agent") || roles.includes("approver");
  return roles.includes(role);
}

export function signInLocal({ org, user, roles, email }) {
  save({ mode: "local", org, user, roles, email: email || null });
  changed();
}

export async function headers() {
  const s = session();
  if (!s) return {};
  if (s.mode === "local") {
    const out = { "X-Goodwill-Org": s.org, "X-Goodwill-Actor": s.user, "X-Goodwill-Roles": s.roles.join(",") };
    if (s.email) out["X-Goodwill-Email"] = s.email;
    return out;
  }
  if (s.expires_at - Date.now() < 30_000) await refresh();
  const current = session();
  return current ? { Authorization: current.id_token } : {};
}

export function signOut(notice) {
  const s = session();
  save(null);
  clearTimeout(refreshTimer);
  if (s?.mode === "cognito" && settings.cognito_domain && !notice) {
    const params = new URLSearchParams({ client_id: settings.client_id, logout_uri: redirectUri() });
    window.location.assign(`${domain()}/logout?${params}`);
    return;
  }
  changed(notice);
}

// ---- Cognito hosted UI (authorization code + PKCE) -------------------------------------------
const domain = () => String(settings.cognito_domain || "").replace(/\/$/, "");
const redirectUri = () => settings.redirect_uri || `${window.location.origin}${window.location.pathname}`;

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function startHostedSignIn() {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  // The hosted UI returns to redirect_uri without the hash: keep where the person was going.
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, hash: window.location.hash }));
  const params = new URLSearchParams({
    response_type: "code", client_id: settings.client_id, redirect_uri: redirectUri(),
    scope: settings.scope || "openid email profile", state, code_challenge: challenge, code_challenge_method: "S256",
  });
  window.location.assign(`${domain()}/oauth2/authorize?${params}`);
}

// On return from the hosted UI (?code=&state=): swap the code for tokens, then clean the URL.
export async function completeHostedSignIn() {
  const params = new URLSearchParams(window.location.search);
  const code = params.get("code");
  if (!code) return false;
  const pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  window.history.replaceState(null, "", redirectUri() + (pending?.hash || ""));
  if (!pending || pending.state !== params.get("state")) throw new Error("The sign-in could not be completed (state mismatch). Please sign in again.");
  await tokenRequest({ grant_type: "authorization_code", code, redirect_uri: redirectUri(), code_verifier: pending.verifier });
  return true;
}

// One refresh at a time, however many calls are waiting for it.
let refreshing = null;
function refresh() {
  refreshing ||= (async () => {
    const s = session();
    if (!s?.refresh_token) return signOut("Your session has ended. Please sign in again.");
    try {
      await tokenRequest({ grant_type: "refresh_token", refresh_token: s.refresh_token });
    } catch {
      signOut("Your session has ended. Please sign in again.");
    }
  })().finally(() => { refreshing = null; });
  return refreshing;
}

async function tokenRequest(form) {
  const reply = await fetch(`${domain()}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: settings.client_id, ...form }),
  });
  if (!reply.ok) throw new Error("The sign-in service refused the request. Please sign in again.");
  const tokens = await reply.json();
  const claims = JSON.parse(atob(tokens.id_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  const groups = claims["cognito:groups"] || [];
  save({
    mode: "cognito",
    org: claims["custom:org_id"],
    user: claims.email || claims["cognito:username"] || claims.sub,
    roles: Array.isArray(groups) ? groups : String(groups).split(","),
    id_token: tokens.id_token,
    refresh_token: tokens.refresh_token || session()?.refresh_token,
    expires_at: Date.now() + tokens.expires_in * 1000,
  });
  scheduleRefresh();
  if (form.grant_type === "authorization_code") changed();  // a refresh changes nobody's view
}

export function scheduleRefresh() {
  const s = session();
  clearTimeout(refreshTimer);
  if (s?.mode !== "cognito") return;
  refreshTimer = setTimeout(refresh, Math.max(5_000, s.expires_at - Date.now() - 60_000));
}
