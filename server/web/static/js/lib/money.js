// Amounts travel as decimal strings ("45.00"); the screens count in integer cents and show
// them in the spa's currency format (config.currency: symbol, format, separators).

import { config, contract } from "./config.js";

/** The largest amount the server takes, in cents (common/wire.py Limits.MAX_AMOUNT_CENTS). */
export const MAX_AMOUNT_CENTS = contract.limits.max_amount_cents;
// As many whole digits as the largest amount has (7 for 1,000,000.00).
const WHOLE_DIGITS = String(Math.floor(MAX_AMOUNT_CENTS / 100)).length;
const AMOUNT = new RegExp(`^(\\d{1,${WHOLE_DIGITS}})(?:\\.(\\d{1,2}))?$`);

/** Integer cents from "45", "45.5" or "45.00"; null when it is not an amount. */
export function toCents(text) {
  const match = AMOUNT.exec(String(text).trim());
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
}

/** The wire form of an amount: "45.00". */
export function centsToWire(cents) {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** "45.00" or 4500 → "€45.00" (or "45,00 €", as configured). */
export function money(amount) {
  const cents = typeof amount === "number" ? amount : toCents(amount);
  if (cents === null) return String(amount);
  const currency = config.currency || {};
  const abs = Math.abs(cents);
  const whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, currency.group || "");
  const text = `${whole}${currency.decimal || "."}${String(abs % 100).padStart(2, "0")}`;
  const formatted = (currency.format || "{symbol}{amount}")
    .replace("{symbol}", currency.symbol || "")
    .replace("{amount}", text);
  return cents < 0 ? `-${formatted}` : formatted;
}
