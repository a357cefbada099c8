// Deployed sign-in: one button to the Cognito hosted UI (authorization code + PKCE).
import * as auth from "../auth.js";
import { h, heading } from "../dom.js";

export async function render(view) {
  view.append(
    h("div", { class: "signin" },
      heading("Sign in"),
      h("p", { class: "lead", text: "Sign in with your organisation account to work on customers' goodwill." }),
      h("div", { class: "card narrow" },
        h("button", { type: "button", text: "Sign in", onclick: () => auth.startHostedSignIn() }))),
  );
}
