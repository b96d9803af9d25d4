// The back office's sign-in, the same on /office and /office/reports: an admin's name + PIN, kept
// for the tab by api.js's session, so that a sign-in on one page holds on the other.

import { $, flash } from "../lib/dom.js";
import { SignIn, revokeToken } from "../lib/signin.js";
import { session } from "./api.js";

/**
 * Builds the sign-in into #signin and wires the page's sign-out button. While someone is signed
 * in, their name shows in `who`; onSignedIn() shows the page, onSignedOut() hides it.
 * Returns {begin(), signedOut(message)}: begin() shows the page or the sign-in, as the tab's
 * session says; signedOut() goes back to the sign-in, `message` (why) in `error`.
 */
export function adminSignIn({ t, who, signOutButton, error, onSignedIn, onSignedOut }) {
  const root = $("#signin");
  const signIn = new SignIn(root, {
    t,
    roles: ["admin"],
    onSignedIn: ({ token, staff }) => {
      session.save(token, staff ? staff.name : "");
      signedIn();
    },
  });

  function signedIn() {
    root.hidden = true;
    signOutButton.hidden = false;
    who.textContent = session.who();
    onSignedIn();
  }

  function signedOut(message = "") {
    session.forget();
    onSignedOut();
    signOutButton.hidden = true;
    who.textContent = "";
    root.hidden = false;
    signIn.open();
    if (message) flash(error, message, 12000);
  }

  signOutButton.addEventListener("click", () => {
    revokeToken(session.token());
    signedOut();
  });

  return {
    begin: () => (session.token() ? signedIn() : signedOut()),
    signedOut,
  };
}
