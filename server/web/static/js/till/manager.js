// A manager's approval at the till: tap the manager's name, type their PIN. The PIN goes along
// with the one command that needs it ({staff_id, pin}); nothing is kept, no session is made.

import { config, contract, deviceToken } from "../lib/config.js";
import { $, el, flash } from "../lib/dom.js";
import { buildKeys } from "../lib/keypad.js";

const PIN_MAX = contract.limits.max_pin;
const PIN_MIN = contract.limits.min_pin;

export class ManagerPrompt {
  constructor(overlay, { t }) {
    this.overlay = overlay;
    this.t = t;
    this.resolve = null;
    this.manager = null;
    this.pin = "";
    overlay.replaceChildren(
      el(
        "section",
        { class: "dialog manager", role: "dialog", "aria-modal": "true", "aria-labelledby": "manager-title" },
        el("h2", { id: "manager-title", text: t("manager_title") }),
        el("p", { id: "manager-why", class: "muted" }),
        el("div", { id: "manager-list", class: "manager-list" }),
        el("p", { id: "manager-who", class: "manager-who", hidden: true }),
        el("div", { id: "manager-dots", class: "signin-dots", "aria-live": "polite" }),
        el("div", { id: "manager-keys", class: "keys manager-keys", hidden: true }),
        el("p", { id: "manager-error", class: "error", role: "alert", hidden: true }),
        el(
          "div",
          { class: "dialog-buttons" },
          el("button", { type: "button", id: "manager-cancel", dataset: { do: "cancel" }, text: t("cancel") }),
          el("button", {
            type: "button",
            id: "manager-ok",
            class: "primary",
            dataset: { do: "ok" },
            text: t("manager_approve"),
          }),
        ),
      ),
    );
    overlay.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button || button.disabled) return;
      if (button.dataset.managerId) this._choose(Number(button.dataset.managerId), button.textContent);
      else if (button.dataset.do === "cancel") this._finish(null);
      else if (button.dataset.do === "ok") this._ok();
    });
    buildKeys(
      $("#manager-keys", overlay),
      [
        ["1", "2", "3"],
        ["4", "5", "6"],
        ["7", "8", "9"],
        ["back", "0", "clear"],
      ],
      { back: t("backspace"), clear: t("clear") },
      (key) => this._key(key),
    );
  }

  /** Asks for a manager's approval; resolves with {staff_id, pin}, or null when cancelled. */
  async ask(why, error = "") {
    if (this.resolve) this._finish(null);
    this.pin = "";
    const done = new Promise((resolve) => {
      this.resolve = resolve;
    });
    // The names first, then the dialog: keys pressed once it shows are never lost to a redraw.
    const none = await this._list();
    $("#manager-why", this.overlay).textContent = why || "";
    flash($("#manager-error", this.overlay), none || error, 0);
    this._dots();
    this.overlay.hidden = false;
    return done;
  }

  get open() {
    return !this.overlay.hidden;
  }

  /** Fills the list of managers; the error to show (none when there are some). */
  async _list() {
    let error = "";
    let staff = [];
    try {
      const token = deviceToken(config.page);
      const response = await fetch("/api/staff?roles=admin", {
        cache: "no-store",
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      });
      if (response.ok) staff = (await response.json()).staff || [];
    } catch (err) {
      staff = [];
    }
    $("#manager-list", this.overlay).replaceChildren(
      ...staff.map((s) =>
        el("button", { type: "button", class: "signin-person", dataset: { managerId: s.id }, "aria-pressed": "false" }, s.name),
      ),
    );
    if (!staff.length) error = this.t("manager_none");
    // The one who approved last time is the likely one again.
    const again = this.manager && staff.find((s) => s.id === this.manager.id);
    if (again) this._choose(again.id, again.name);
    else if (staff.length === 1) this._choose(staff[0].id, staff[0].name);
    else this._choose(null, "");
    return error;
  }

  _choose(id, name) {
    this.manager = id === null ? null : { id, name };
    this.pin = "";
    for (const button of this.overlay.querySelectorAll("[data-manager-id]")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.managerId) === id));
    }
    $("#manager-who", this.overlay).textContent = name ? this.t("manager_pin_for", { name }) : "";
    $("#manager-who", this.overlay).hidden = !name;
    $("#manager-keys", this.overlay).hidden = id === null;
    this._dots();
  }

  _key(key) {
    if (key === "back") this.pin = this.pin.slice(0, -1);
    else if (key === "clear") this.pin = "";
    else if (this.pin.length < PIN_MAX) this.pin += key;
    this._dots();
  }

  _dots() {
    $("#manager-dots", this.overlay).textContent = "●".repeat(this.pin.length) || "\u00a0";
    $("#manager-ok", this.overlay).disabled = !this.manager || this.pin.length < PIN_MIN;
  }

  _ok() {
    if (!this.manager || this.pin.length < PIN_MIN) return;
    this._finish({ staff_id: this.manager.id, pin: this.pin });
  }

  _finish(value) {
    const resolve = this.resolve;
    this.resolve = null;
    this.pin = "";
    this._dots();
    this.overlay.hidden = true;
    if (resolve) resolve(value);
  }
}

/**
 * Sends a command that may need a manager: `send(manager)` → ack. With `always`, the manager is
 * asked first (a void, a refund); otherwise only when the server answers manager_needed (a big
 * discount). A wrong PIN asks again; cancelling resolves null.
 */
export async function withManager(prompt, t, send, { always = false, why = "" } = {}) {
  let manager = null;
  if (always) {
    manager = await prompt.ask(why);
    if (!manager) return null;
  }
  for (;;) {
    const ack = await send(manager);
    if (ack.ok || !ack.error || ack.error.code !== "manager_needed") return ack;
    const error = manager ? t("manager_wrong") : "";
    manager = await prompt.ask(why || ack.error.message, error);
    if (!manager) return null;
  }
}
