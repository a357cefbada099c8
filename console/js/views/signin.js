// Local sign-in: who you are is what you say (the local API takes the claim headers as given).
import * as auth from "../auth.js";
import { clearErrors, field, formAlert, h, heading, showErrors } from "../dom.js";

const ROLE_OPTIONS = [
  { value: "agent", label: "Agent" },
  { value: "approver", label: "Approver (and agent)" },
  { value: "admin", label: "Admin (everything)" },
];

export async function render(view) {
  const org = field({ label: "Organisation", name: "org", value: "acme", attrs: { autocomplete: "organization", required: true } });
  const user = field({ label: "User", name: "user", value: "", hint: "Recorded as the actor of everything you do, e.g. alice", attrs: { autocomplete: "username", required: true } });
  const roles = field({ label: "Roles", name: "roles", kind: "select", value: "agent", options: ROLE_OPTIONS });
  const form = h("form", { class: "card narrow", novalidate: true }, formAlert(), org, user, roles,
    h("div", { class: "actions" }, h("button", { type: "submit", text: "Sign in" })));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(form);
    const details = [];
    const values = { org: org.control.value.trim(), user: user.control.value.trim() };
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(values.org)) details.push({ field: "org", message: "Enter an organisation id (letters, digits, - and _)." });
    if (!values.user) details.push({ field: "user", message: "Enter a user name." });
    if (details.length) return showErrors(form, { message: "Please correct the marked fields.", details });
    const role = roles.control.value;
    const chosen = role === "admin" ? ["agent", "approver", "admin"] : role === "approver" ? ["agent", "approver"] : ["agent"];
    auth.signInLocal({ org: values.org, user: values.user, roles: chosen });
  });
  view.append(
    h("div", { class: "signin" },
      heading("Sign in"),
      h("p", { class: "lead", text: "Local run: choose the organisation, your user name and your roles. The deployed console signs in through Cognito instead." }),
      form),
  );
}
