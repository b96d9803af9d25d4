// An amount typed on an on-screen keypad inside a dialog (a float, cash in or out, a discount):
// its display and keys, the value as integer cents.

import { el } from "../lib/dom.js";
import { buildKeys } from "../lib/keypad.js";
import { money } from "../lib/money.js";
import { centsText, typeAmount, typedCents } from "./amount.js";

export class AmountPad {
  /** label: the words above the amount; format(cents): how the amount shows (money by default). */
  constructor({ t, id, label, onChange = null, format = money, max = undefined }) {
    this.text = "";
    this.onChange = onChange;
    this.format = format;
    this.max = max;
    this.output = el("output", { id: `${id}-value`, class: "pad-value" });
    this.label = el("span", { class: "pad-label", text: label });
    this.keys = el("div", { id: `${id}-keys`, class: "keys pad-keys" });
    this.element = el("div", { id, class: "amount-pad" }, el("div", { class: "pad-display" }, this.label, this.output), this.keys);
    buildKeys(
      this.keys,
      [
        ["7", "8", "9", "back"],
        ["4", "5", "6", "clear"],
        ["1", "2", "3", "."],
        [{ key: "0", class: "key-wide" }, "00"],
      ],
      { back: t("backspace"), clear: t("clear") },
      (key) => this.press(key),
    );
    this._show();
  }

  get cents() {
    return typedCents(this.text);
  }

  set(cents) {
    this.text = centsText(cents);
    this._show();
  }

  setLabel(text) {
    this.label.textContent = text;
  }

  press(key) {
    this.text = typeAmount(this.text, key, this.max);
    this._show();
    if (this.onChange) this.onChange(this.cents);
  }

  _show() {
    const cents = this.cents;
    this.output.textContent = cents === null ? "—" : this.format(cents);
  }
}
