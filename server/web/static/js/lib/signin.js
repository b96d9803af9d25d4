// Signing a staff member in on a shared screen: tap your name, type your PIN on the keypad.
// POST /api/sign-in gives a staff session token (ss_…), kept until it expires or "Sign out".

import { config, contract, deviceToken, stored } from "./config.js";
import { $, el, flash } from "./dom.js";
import { buildKeys } from "./keypad.js";

const PIN_MAX = contract.limits.max_pin;
const PIN_MIN = contract.limits.min_pin;

/** The page's saved session, if it has not expired. */
export function savedSession(page) {
  const session = stored.get(page, "session");
  if (!session || typeof session.token !== "string") return null;
  if (session.expires_at && Date.parse(session.expires_at) <= Date.now()) {
    stored.set(page, "session", null);
    return null;
  }
  return session;
}

export function saveSession(page, session) {
  stored.set(page, "session", session);
}

/** Forgets the session here and on the server. */
export function signOut(page, session) {
  stored.set(page, "session", null);
  if (session) revokeToken(session.token);
}

/** Ends a staff session on the server; best effort, as it expires anyway. */
export function revokeToken(token) {
  if (!token) return;
  fetch("/api/sign-out", { method: "POST", headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
}

export class SignIn {
  /**
   * root: an empty element to build into. roles: who may sign in here (["therapist", "admin"]).
   * onSignedIn(session), onCancel() (optional: shows a Cancel button), allowToken: also offer
   * a pasted staff token, given to onToken(token).
   */
  constructor(root, { t, roles, onSignedIn, onCancel = null, allowToken = false, onToken = null }) {
    this.root = root;
    this.t = t;
    this.roles = roles;
    this.onSignedIn = onSignedIn;
    this.onCancel = onCancel;
    this.onToken = onToken;
    this.staff = null;
    this.pin = "";
    this.busy = false;
    root.replaceChildren(
      el(
        "div",
        { class: "signin-step signin-names" },
        el("h2", { class: "signin-title", text: t("signin_title") }),
        el("div", { class: "signin-list", role: "list" }),
        el("p", { class: "signin-empty", hidden: true, text: t("signin_no_staff") }),
        allowToken
          ? el(
              "form",
              { class: "signin-token" },
              el("label", { for: `${root.id}-token`, text: t("signin_token_label") }),
              el("input", {
                id: `${root.id}-token`,
                name: "token",
                autocomplete: "off",
                spellcheck: "false",
                placeholder: t("signin_token_placeholder"),
              }),
              el("button", { type: "submit", text: t("signin_token_use") }),
            )
          : null,
        onCancel ? el("button", { type: "button", class: "signin-cancel", dataset: { do: "cancel" }, text: t("cancel") }) : null,
      ),
      el(
        "div",
        { class: "signin-step signin-pin", hidden: true },
        el("h2", { class: "signin-pin-title" }),
        el("div", { class: "signin-dots", "aria-live": "polite" }),
        el("div", { class: "keys signin-keys" }),
      ),
      el("p", { class: "error signin-error", role: "alert", hidden: true }),
    );
    root.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button || button.disabled) return;
      if (button.dataset.staffId) this._choose(Number(button.dataset.staffId));
      else if (button.dataset.do === "cancel" && this.onCancel) this.onCancel();
    });
    const form = $(".signin-token", root);
    if (form) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const token = form.elements.token.value.trim();
        if (token && this.onToken) {
          form.elements.token.value = "";
          this.onToken(token);
        }
      });
    }
    buildKeys(
      $(".signin-keys", root),
      [
        ["1", "2", "3"],
        ["4", "5", "6"],
        ["7", "8", "9"],
        ["back", "0", { key: "ok", class: "key-primary" }],
      ],
      { back: t("back"), ok: t("signin_ok") },
      (key) => this._key(key),
    );
  }

  /** Shows the list of names (fetched each time: staff change). */
  async open() {
    this._step("names");
    const list = $(".signin-list", this.root);
    let staff = [];
    try {
      // The server lists ids and first names of the roles asked for, to this screen's device
      // token; a therapist's own tablet has none and gets the same short list (docs/SECURITY.md).
      const token = deviceToken(config.page);
      const headers = token ? { Authorization: `Bearer ${token}` } : {};
      const roles = encodeURIComponent(this.roles.join(","));
      const response = await fetch(`/api/staff?roles=${roles}`, { cache: "no-store", headers });
      if (response.ok) staff = (await response.json()).staff || [];
    } catch (err) {
      staff = [];
    }
    this.people = staff;
    list.replaceChildren(
      ...this.people.map((s) =>
        el("button", { type: "button", class: "signin-person", role: "listitem", dataset: { staffId: s.id } }, s.name),
      ),
    );
    $(".signin-empty", this.root).hidden = this.people.length > 0;
  }

  _step(which) {
    $(".signin-names", this.root).hidden = which !== "names";
    $(".signin-pin", this.root).hidden = which !== "pin";
  }

  _choose(staffId) {
    this.staff = this.people.find((s) => s.id === staffId);
    if (!this.staff) return;
    this.pin = "";
    $(".signin-pin-title", this.root).textContent = this.t("signin_pin_title", { name: this.staff.name });
    flash($(".signin-error", this.root), "", 0);
    this._dots();
    this._step("pin");
  }

  _key(key) {
    if (this.busy) return;
    if (key === "back") {
      if (this.pin) this.pin = this.pin.slice(0, -1);
      else this._step("names");
    } else if (key === "ok") {
      if (this.pin.length >= PIN_MIN) this._submit();
    } else if (this.pin.length < PIN_MAX) {
      this.pin += key;
    }
    this._dots();
  }

  _dots() {
    $(".signin-dots", this.root).textContent = "●".repeat(this.pin.length) || "\u00a0";
    const ok = $('[data-key="ok"]', this.root);
    if (ok) ok.disabled = this.pin.length < PIN_MIN || this.busy;
  }

  async _submit() {
    this.busy = true;
    this._dots();
    const error = $(".signin-error", this.root);
    try {
      const response = await fetch("/api/sign-in", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ staff_id: this.staff.id, pin: this.pin }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok && body.ok) {
        this.pin = "";
        this.onSignedIn({ token: body.token, staff: body.staff, expires_at: body.expires_at });
        return;
      }
      this.pin = "";
      const code = body.error && body.error.code;
      flash(error, code === "forbidden" ? this.t("wrong_pin") : this.t(code || "busy", body.error || {}), 8000);
    } catch (err) {
      flash(error, this.t("offline"), 8000);
    } finally {
      this.busy = false;
      this._dots();
    }
  }
}
