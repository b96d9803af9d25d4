// The page's configuration, rendered into the page by the server (server/web/pages.py),
// and the few settings a screen may take from its address (?idle=2, ?room=3, ?announce=1).

const element = document.getElementById("page-config");
export const config = Object.freeze(JSON.parse(element ? element.textContent : "{}"));

function deepFreeze(value) {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * The wire contract (common/wire.py page_contract()), as the server renders it into the page:
 * errors {code: "final"|"retry"}, limits {max_items, max_quantity, max_name, max_amount_cents},
 * payment_methods and device_states. The screens read limits and codes from here and copy none.
 */
export const contract = deepFreeze(config.contract || { errors: {}, limits: {}, payment_methods: [], device_states: [] });
if (!config.contract && element) console.error("page config without the wire contract (server/web/pages.py)");

/** How a refusal is treated: "final" (asking again gets the same answer) or "retry". A code the
 * contract does not know is retried, as common/wire.py retry_class() does: better late than dropped. */
export function retryClass(code) {
  return Object.prototype.hasOwnProperty.call(contract.errors, code) ? contract.errors[code] : "retry";
}

const query = new URLSearchParams(location.search);

/** A number from the query string, clamped to [min, max]; the fallback when absent or not a number. */
export function numberParam(name, fallback, min, max) {
  const raw = query.get(name);
  if (raw === null || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, value));
}

/** true/false from ?name=1|0|true|false|on|off; null when absent. */
export function flagParam(name) {
  const raw = (query.get(name) || "").toLowerCase();
  if (["1", "true", "yes", "on"].includes(raw)) return true;
  if (["0", "false", "no", "off"].includes(raw)) return false;
  return null;
}

export function textParam(name, pattern) {
  const raw = query.get(name);
  return raw !== null && pattern.test(raw) ? raw : null;
}

/**
 * The screen's token: taken from the address fragment (/kiosk#token=dv_…) when present,
 * kept in localStorage, and removed from the address bar so it is not shown or bookmarked.
 */
export function deviceToken(page) {
  const storageKey = `spa.${page}.token`;
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromFragment = fragment.get("token");
  if (fromFragment) {
    try {
      localStorage.setItem(storageKey, fromFragment);
    } catch (err) {
      // Storage full or disabled: the token still works for this page load.
    }
    history.replaceState(null, "", location.pathname + location.search);
    return fromFragment;
  }
  try {
    return localStorage.getItem(storageKey);
  } catch (err) {
    return null;
  }
}

// A new token given to a page that is already open (the address changed only after the "#"):
// start again with it.
window.addEventListener("hashchange", () => {
  if (new URLSearchParams(location.hash.slice(1)).get("token")) location.reload();
});

/** A small JSON value in localStorage under spa.<page>.<name>; never throws. */
export const stored = {
  get(page, name) {
    try {
      const raw = localStorage.getItem(`spa.${page}.${name}`);
      return raw === null ? null : JSON.parse(raw);
    } catch (err) {
      return null;
    }
  },
  set(page, name, value) {
    try {
      if (value === null || value === undefined) localStorage.removeItem(`spa.${page}.${name}`);
      else localStorage.setItem(`spa.${page}.${name}`, JSON.stringify(value));
    } catch (err) {
      // Not fatal: the value lives until the page reloads.
    }
  },
};
