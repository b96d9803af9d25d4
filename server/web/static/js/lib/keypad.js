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

// The kiosk's name keyboard. Letters follow the screen's language (QWERTY, or QWERTZ with the
// German letters on the first layer); digits, "'", "-" and "." are always there; the accented
// letters of Latin-1 and Latin Extended-A (ł ż č š ř ő ş ğ ð þ …) sit on two more layers,
// grouped by their base letter so a customer finds "ł" next to "ĺ ļ ľ".
const DIGITS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"];
const WIDE = (key) => ({ key, class: "key-wide" });
const LETTER_LAYOUTS = {
  en: [DIGITS, [..."qwertyuiop"], [..."asdfghjkl"], [WIDE("shift"), ..."zxcvbnm", WIDE("backspace")]],
  de: [DIGITS, [..."qwertzuiopü"], [..."asdfghjklöä"], [WIDE("shift"), ..."yxcvbnm", "ß", WIDE("backspace")]],
};
const ACCENTED = [
  ..."àáâãäåāăąæçćĉċčďđðèéêëēĕėęěĝğġģĥħìíîïĩīĭįıĵķĺļľłñńņňŋ",
  ..."òóôõöøōŏőœŕŗřśŝşšßţťŧþùúûüũūŭůűųŵýÿŷźżž",
];
const ACCENT_ROW = 12; // letters per row: 12 keys still leave each one wider than 48 px at 800 px
const ACCENT_PAGE = ACCENT_ROW * 3 + 10; // three full rows, and ten between shift and backspace
const ACCENT_PAGES = Array.from({ length: Math.ceil(ACCENTED.length / ACCENT_PAGE) }, (_, page) => {
  const keys = ACCENTED.slice(page * ACCENT_PAGE, (page + 1) * ACCENT_PAGE);
  const rows = [0, 1, 2].map((row) => keys.slice(row * ACCENT_ROW, (row + 1) * ACCENT_ROW));
  return [...rows, [WIDE("shift"), ...keys.slice(ACCENT_ROW * 3), WIDE("backspace")]];
});
const LAST_ROW = [WIDE("layer"), "'", { key: " ", class: "key-space" }, "-", "."];
// Upper case where toLocaleUpperCase would not give one letter: ß → "SS" and ŉ are not names' capitals.
const UPPER = { "ß": "ẞ", "ı": "I" };

/** The capital of one key's letter (itself when it has none of one character). */
export function upperOf(key) {
  if (Object.prototype.hasOwnProperty.call(UPPER, key)) return UPPER[key];
  const upper = key.toLocaleUpperCase();
  return Array.from(upper).length === 1 ? upper : key;
}

/** Every letter the keyboard offers, on any layer (for the tests and the docs). */
export function keyboardLetters(language) {
  const layout = LETTER_LAYOUTS[language] || LETTER_LAYOUTS.en;
  const plain = layout.flat().filter((key) => typeof key === "string");
  return [...new Set([...plain, ...ACCENTED, "'", "-", "."])];
}

/**
 * A name keyboard: names are kept as typed — only the very first letter starts in capitals
 * (shift is shown pressed and can be turned off, for "van der Berg"); shift flips the next
 * letter. Typing stops at maxLength and onLimit() says so. onChange(value) after every key.
 */
export class NameKeyboard {
  constructor(container, { labels, maxLength, language = "en", onChange, onLimit }) {
    this.container = container;
    this.labels = labels;
    this.maxLength = maxLength;
    this.layouts = [LETTER_LAYOUTS[language] || LETTER_LAYOUTS.en, ...ACCENT_PAGES];
    this.onChange = onChange;
    this.onLimit = onLimit;
    this.value = "";
    this.shift = true; // the first letter of a name
    this.layer = 0;
    this._build();
  }

  clear() {
    this.value = "";
    this.shift = true;
    if (this.layer !== 0) {
      this.layer = 0;
      this._build();
    }
    this._refresh();
  }

  /** A key: a letter (as on the key, lower case), "shift", "backspace", "layer" or " ". */
  press(key) {
    if (key === "backspace") {
      this.value = Array.from(this.value).slice(0, -1).join("");
      this.shift = this.value === "";
    } else if (key === "shift") this.shift = !this.shift;
    else if (key === "layer") {
      this.layer = (this.layer + 1) % this.layouts.length;
      this._build();
    } else if (key === " ") {
      if (this.value && !this.value.endsWith(" ")) this._add(" ");
    } else if (this._add(this.shift ? upperOf(key) : key)) {
      this.shift = false;
    }
    this._refresh();
  }

  /** Text as typed on a physical keyboard, case and all (service staff at the kiosk). */
  typeText(text) {
    if (this._add(text)) this.shift = false;
    this._refresh();
  }

  get length() {
    return Array.from(this.value).length;
  }

  _add(text) {
    if (Array.from(this.value + text).length > this.maxLength) {
      if (this.onLimit) this.onLimit();
      return false;
    }
    this.value += text;
    return true;
  }

  _build() {
    buildKeys(this.container, [...this.layouts[this.layer], LAST_ROW], this.labels, (key) => this.press(key));
    this._refresh(false);
  }

  _layerLabel() {
    const next = (this.layer + 1) % this.layouts.length;
    return next === 0 ? this.labels.letters : next === 1 ? this.labels.accents : this.labels.accents_more;
  }

  _refresh(notify = true) {
    for (const button of this.container.querySelectorAll("button[data-key]")) {
      const key = button.dataset.key;
      if (key.length === 1 && key !== " ") button.textContent = this.shift ? upperOf(key) : key;
      if (key === "shift") button.setAttribute("aria-pressed", String(this.shift));
      if (key === "layer") button.textContent = this._layerLabel();
    }
    if (notify && this.onChange) this.onChange(this.value);
  }
}
