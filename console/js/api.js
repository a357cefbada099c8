// Calls to the Goodwill API: JSON in and out, the signed-in user's credentials on every call,
// errors turned into ApiError (the contract's {error: {code, message, details}}), 401 = signed out.
import * as auth from "./auth.js";

let baseUrl = "";
export const setBaseUrl = (url) => { baseUrl = String(url || "").replace(/\/$/, ""); };

export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error || {};
    super(error.message || defaultMessage(status));
    this.status = status;
    this.code = error.code || `HTTP_${status}`;
    this.details = Array.isArray(error.details) ? error.details : [];
  }
}

function defaultMessage(status) {
  if (status === 0) return "The service could not be reached. Check your connection and try again.";
  if (status === 403) return "You do not have permission to do this.";
  if (status === 404) return "Not found.";
  return `The service answered with an error (${status}). Please try again.`;
}

export async function call(method, path, body, headers = {}) {
  // A page still loading when its user signs out must not call on without credentials.
  const caller = auth.session();
  if (!caller) throw new ApiError(401, { error: { message: "You are signed out." } });
  const init = { method, headers: { ...(await auth.headers()), ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let reply;
  try {
    reply = await fetch(baseUrl + path, init);
  } catch {
    throw new ApiError(0, null);
  }
  const text = await reply.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  const current = auth.session();
  if (reply.status === 401 && current && current.user === caller.user && current.org === caller.org) {
    auth.signOut("Your session has ended. Please sign in again.");
  }
  if (!reply.ok) throw new ApiError(reply.status, data);
  return { status: reply.status, data };
}

export const get = async (path) => (await call("GET", path)).data;
export const post = (path, body, headers) => call("POST", path, body, headers);
export const put = (path, body, headers) => call("PUT", path, body, headers);

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export const enc = encodeURIComponent;

// PUT a file to a presigned URL with upload progress (fetch has none): resolves on 2xx.
export function upload(url, file, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers || {})) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); });
    xhr.addEventListener("load", () => (xhr.status >= 200 && xhr.status < 300
      ? resolve()
      : reject(new ApiError(xhr.status, { error: { message: `The upload was refused (${xhr.status}).` } }))));
    xhr.addEventListener("error", () => reject(new ApiError(0, null)));
    xhr.send(file);
  });
}
