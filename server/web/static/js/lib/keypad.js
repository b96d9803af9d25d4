// On-screen keys: a numeric keypad (PINs, amounts) and a letter keyboard (names at the kiosk,
// which has no physical keyboard). Keys are buttons with data-key; one delegated listener each.

import { el } from "./dom.js";

/**
 * rows: [["7", "8", "9", "back"], ...]; labels: {back: "⌫"}; onKey(key).
 * A key may be {key, label, class} for a wide or styled key.
 */
export function buildKeys(container, rows, labels, onKey) {
  container.replaceChildren(
    ...rows.map((row) =>
      el(
        "div",
        { class: "keys-row" },
        ...row.map((spec) => {
          const key = typeof spec === "string" ? spec : spec.key;
          const label = (typeof spec === "object" && spec.label) || labels[key] || key;
          return el(
            "button",
            { type: "button", class: `key ${(typeof spec === "object" && spec.class) || ""}`.trim(), dataset: { key } },
            label,
          );
        }),
      ),
    ),
  );
  if (!container._keysBound) {
    container._keysBound = true;
    container.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-key]");
      if (button && !button.disabled) container._onKey(button.dataset.key);
    });
  }
  container._onKey = onKey;
}

const LETTERS = [
  ["q", "w", "e", "r", "t", "y", "u", "i", "o", "p"],
  ["a", "s", "d", "f", "g", "h", "j", "k", "l", "'"],
  [{ key: "shift", class: "key-wide" }, "z", "x", "c", "v", "b", "n", "m", "-", { key: "backspace", class: "key-wide" }],
  [{ key: "accents", class: "key-wide" }, { key: " ", class: "key-space" }],
];
const ACCENTS = [
  ["é", "è", "ê", "ë", "á", "à", "â", "ä", "ã", "å"],
  ["í", "ì", "î", "ï", "ó", "ò", "ô", "ö", "õ", "ø"],
  [{ key: "shift", class: "key-wide" }, "ú", "ù", "û", "ü", "ñ", "ç", "ß", "æ", { key: "backspace", class: "key-wide" }],
  [{ key: "accents", class: "key-wide" }, { key: " ", class: "key-space" }],
];

/**
 * A name keyboard: letters capitalise themselves at the start of each word; shift flips the
 * next letter. onChange(value) after every key.
 */
export class NameKeyboard {
  constructor(container, { labels, maxLength, onChange }) {
    this.container = container;
    this.labels = labels;
    this.maxLength = maxLength;
    this.onChange = onChange;
    this.value = "";
    this.shift = false;
    this.accents = false;
    this._build();
  }

  clear() {
    this.value = "";
    this.shift = false;
    if (this.accents) {
      this.accents = false;
      this._build();
    }
    this._refresh();
  }

  press(key) {
    if (key === "backspace") this.value = Array.from(this.value).slice(0, -1).join("");
    else if (key === "shift") this.shift = !this.shift;
    else if (key === "accents") {
      this.accents = !this.accents;
      this._build();
    } else if (key === " ") {
      if (this.value && !this.value.endsWith(" ") && this._fits(key)) this.value += " ";
    } else if (this._fits(key)) {
      this.value += this._upper() ? key.toLocaleUpperCase() : key;
      this.shift = false;
    }
    this._refresh();
  }

  _fits(text) {
    return Array.from(this.value + text).length <= this.maxLength;
  }

  _upper() {
    const wordStart = this.value === "" || /[\s-]$/.test(this.value);
    return wordStart !== this.shift;
  }

  _build() {
    buildKeys(this.container, this.accents ? ACCENTS : LETTERS, this.labels, (key) => this.press(key));
    this._refresh(false);
  }

  _refresh(notify = true) {
    const upper = this._upper();
    for (const button of this.container.querySelectorAll("button[data-key]")) {
      const key = button.dataset.key;
      if (key.length === 1 && key !== " ") button.textContent = upper ? key.toLocaleUpperCase() : key;
      if (key === "shift") button.setAttribute("aria-pressed", String(this.shift));
      if (key === "accents") button.textContent = this.accents ? this.labels.letters : this.labels.accents;
    }
    if (notify && this.onChange) this.onChange(this.value);
  }
}
