// Amounts as a person types them on a keypad ("12", "12.5", "12.50"), kept as text while typed
// and read as integer cents: no float ever holds money on this screen.

import { MAX_AMOUNT_CENTS, toCents } from "../lib/money.js";

/** The text after one key: a digit, "00", ".", "back" or "clear"; a key that would make it more
 * than the server takes, or a third decimal, is ignored. */
export function typeAmount(text, key, max = MAX_AMOUNT_CENTS) {
  if (key === "back") return text.slice(0, -1);
  if (key === "clear") return "";
  if (key === ".") return text.includes(".") ? text : `${text || "0"}.`;
  let out = text;
  for (const digit of key) {
    if (!/^[0-9]$/.test(digit)) break;
    const fraction = out.split(".")[1];
    if (fraction !== undefined && fraction.length >= 2) break;
    const longer = out === "0" ? digit : out + digit;
    const cents = toCents(longer);
    if (cents === null || cents > max) break;
    out = longer;
  }
  return out;
}

/** Cents from typed text ("12." counts as 12); null when nothing is typed. */
export function typedCents(text) {
  if (text === "") return null;
  return toCents(text.endsWith(".") ? text.slice(0, -1) : text);
}

/** The text a keypad starts from for an amount in cents ("" for null). */
export function centsText(cents) {
  if (cents === null || cents === undefined) return "";
  const whole = Math.floor(cents / 100);
  const part = cents % 100;
  return part ? `${whole}.${String(part).padStart(2, "0")}` : String(whole);
}

/** What a percentage (in hundredths of a percent: 1250 = 12.5 %) takes off `cents`, rounded half
 * up as the server does (server/domain/till.py Discount.cents_off). */
export function percentOff(cents, hundredths) {
  return Math.floor((2 * cents * hundredths + 10000) / 20000);
}

/** Cents from a signed wire amount ("-3.00" → -300); null when it is not one. */
export function signedCents(text) {
  if (text === null || text === undefined) return null;
  const raw = String(text).trim();
  const negative = raw.startsWith("-");
  const cents = toCents(negative ? raw.slice(1) : raw);
  return cents === null ? null : negative ? -cents : cents;
}
