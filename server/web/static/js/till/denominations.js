// The notes and coins a drawer is counted in, per currency symbol (config.currency.symbol), in
// cents, largest first. A currency not listed here is counted in the euro's values, which fit
// most decimal currencies; the server takes any positive value (till_close "counted").

const EURO = {
  notes: [50000, 20000, 10000, 5000, 2000, 1000, 500],
  coins: [200, 100, 50, 20, 10, 5, 2, 1],
};

const BY_SYMBOL = {
  "€": EURO,
  EUR: EURO,
  "£": { notes: [5000, 2000, 1000, 500], coins: [200, 100, 50, 20, 10, 5, 2, 1] },
  GBP: { notes: [5000, 2000, 1000, 500], coins: [200, 100, 50, 20, 10, 5, 2, 1] },
  $: { notes: [10000, 5000, 2000, 1000, 500, 200, 100], coins: [25, 10, 5, 1] },
  USD: { notes: [10000, 5000, 2000, 1000, 500, 200, 100], coins: [25, 10, 5, 1] },
  CHF: { notes: [100000, 20000, 10000, 5000, 2000, 1000], coins: [500, 200, 100, 50, 20, 10, 5] },
};

export function denominations(symbol) {
  return BY_SYMBOL[String(symbol || "").trim()] || EURO;
}

/** Σ value × count of {value: count}, in cents. */
export function countedCents(counts) {
  let total = 0;
  for (const [value, count] of Object.entries(counts)) total += Number(value) * count;
  return total;
}
