// One dialog over the till at a time (a question, a discount, the drawer): built from nodes,
// closed by its own buttons. Clicks inside are the caller's (data-action, see onAction).

import { el } from "../lib/dom.js";

export class TaskDialog {
  constructor(overlay) {
    this.overlay = overlay;
    this.onClose = null;
    this.name = null;
  }

  get open() {
    return !this.overlay.hidden;
  }

  /** Shows a dialog called `name` (data-dialog, for styles and tests) holding `children`. */
  show(name, children, onClose = null) {
    if (this.open && this.onClose) this.onClose();
    this.name = name;
    this.onClose = onClose;
    this.overlay.replaceChildren(
      el("section", { class: `dialog dialog-${name}`, role: "dialog", "aria-modal": "true", dataset: { dialog: name } }, ...children),
    );
    this.overlay.hidden = false;
    return this.overlay.firstElementChild;
  }

  close() {
    const onClose = this.onClose;
    this.onClose = null;
    this.name = null;
    this.overlay.hidden = true;
    this.overlay.replaceChildren();
    if (onClose) onClose();
  }

  /** A yes/no question; resolves true for yes. */
  ask(name, { title, text, yes, no, danger = false }) {
    return new Promise((resolve) => {
      let answered = false;
      const answer = (value) => {
        if (answered) return;
        answered = true;
        this.onClose = null;
        this.close();
        resolve(value);
      };
      const box = this.show(
        name,
        [
          el("h2", { class: "dialog-title", text: title }),
          text ? el("p", { class: "dialog-text", text }) : null,
          el(
            "div",
            { class: "dialog-buttons" },
            el("button", { type: "button", class: "dialog-no", text: no }),
            el("button", { type: "button", class: danger ? "dialog-yes danger" : "dialog-yes primary", text: yes }),
          ),
        ],
        () => answer(false),
      );
      box.querySelector(".dialog-no").addEventListener("click", () => answer(false));
      box.querySelector(".dialog-yes").addEventListener("click", () => answer(true));
    });
  }
}

/** A reason: a few taps for the usual ones (presets "a|b|c" from the strings), or typed. */
export function reasonPicker(t, id, presetsKey) {
  const input = el("input", {
    id,
    class: "reason-input",
    maxlength: "80",
    autocomplete: "off",
    placeholder: t("reason_placeholder"),
    "aria-label": t("reason"),
  });
  const chips = t(presetsKey)
    .split("|")
    .map((r) => el("button", { type: "button", class: "chip", dataset: { reason: r }, text: r }));
  for (const chip of chips) {
    chip.addEventListener("click", () => {
      input.value = chip.dataset.reason;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }
  const box = el(
    "div",
    { class: "reason-box" },
    el("span", { class: "pad-label", text: t("reason") }),
    el("div", { class: "chips" }, ...chips),
    input,
  );
  return { box, input };
}

/** A "−" or "+" button for a count (notes in the drawer, items refunded); data goes to dataset. */
export function stepButton(t, step, data) {
  const less = step < 0;
  return el("button", {
    type: "button",
    class: less ? "denom-less" : "denom-more",
    dataset: { step: String(step), ...data },
    "aria-label": t(less ? "drawer_one_less" : "drawer_one_more"),
    text: less ? "−" : "+",
  });
}

/** "over", "short" or "0": how an amount off (counted − expected, in cents) is coloured. */
export function signOf(cents) {
  return cents === 0 ? "0" : cents > 0 ? "over" : "short";
}
