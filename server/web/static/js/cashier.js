// /cashier — the till: take the next customer or look a code up (a barcode scanner types it and
// Enter), the items and total, the amount tendered on an on-screen keypad, change, pay, and the
// receipt's print status as the till's appliance reports it; reprint.
//
// The page connects with the till's device token (/cashier#token=dv_…). A cashier may sign in
// with name + PIN; the session then goes along as cashier_token. Without it, the till acts alone.

import { contract, deviceToken } from "./lib/config.js";
import { $, el, flash, onAction, setEnabled, statusText } from "./lib/dom.js";
import { buildKeys } from "./lib/keypad.js";
import { Live, VersionedState, whileBusy } from "./lib/live.js";
import { MAX_AMOUNT_CENTS, centsToWire, money, toCents } from "./lib/money.js";
import { allows, allowsAny, byQueuePlace } from "./lib/queue.js";
import { SignIn, saveSession, savedSession, signOut } from "./lib/signin.js";
import { applyStrings, errorText, strings } from "./strings.js";

const t = strings("cashier");
const PAGE = "cashier";
// This screen's part of the moves a staff view lists as allowed (server/domain/moves.py): a
// transaction it may claim, take payment for or put back is in its queue.
const CASHIER_MOVES = ["claim_for_cashier", "pay", "release_payment"];
const PRINT_SLOW_MS = 15000;

// The payment methods the server takes (common/wire.py PaymentMethod). Cash is the one with an
// amount tendered and change; any other method pays the total.
const METHODS = contract.payment_methods;
const CASH = "cash";
const DEFAULT_METHOD = METHODS.includes(CASH) ? CASH : METHODS[0];

// Device states an appliance reports (common/wire.py DeviceState); all but these two are a
// problem the cashier should know about.
const HEALTHY = new Set(["ok", "closed"]);
const HEALTH_PROBLEMS = new Set(contract.device_states.filter((state) => !HEALTHY.has(state)));

let live = null;
let session = savedSession(PAGE);
let deskStaff = null; // who scanned their badge at this till (desk_signed_in), as far as this page heard
let deviceHealth = {}; // the till appliance's devices, from its relayed heartbeats
const queueTxns = new Map(); // id → staff view of those waiting to pay or paying

// The transaction at this till: its view, how it was paid here, and its receipt.
const till = {
  view: null,
  payment: null, // the cashier_pay acknowledgement's payment, once paid here
  change: null,
  jobId: null,
  print: null, // "pending" | "ok" | "failed" | "unknown" | "none" | "slow"
  printDetail: "",
  tendered: "",
  method: DEFAULT_METHOD,
};
let printTimer = null;

function cashierToken() {
  return session ? session.token : null;
}

function withCashier(payload) {
  const token = cashierToken();
  return token ? { ...payload, cashier_token: token } : payload;
}

// ---- the queue -------------------------------------------------------------------------

function keep(view) {
  const known = queueTxns.get(view.id);
  if (known && known.row_version > view.row_version) return;
  if (allowsAny(view, CASHIER_MOVES)) queueTxns.set(view.id, view);
  else queueTxns.delete(view.id);
  if (till.view && till.view.id === view.id && till.view.row_version <= view.row_version) till.view = view;
}

const queue = new VersionedState({
  load: async () => {
    const ack = await live.command("queue_snapshot");
    return ack.ok ? ack : null;
  },
  reset: (snapshot) => {
    queueTxns.clear();
    for (const view of [...snapshot.awaiting_payment, ...snapshot.paying]) queueTxns.set(view.id, view);
    const all = [...snapshot.waiting, ...snapshot.with_therapist, ...snapshot.awaiting_payment, ...snapshot.paying];
    const mine = till.view && all.find((v) => v.id === till.view.id);
    if (mine && mine.row_version >= till.view.row_version) till.view = mine;
  },
  apply: (message) => keep(message.transaction),
  render: () => render(),
});

// ---- rendering -------------------------------------------------------------------------

function tenderedCents() {
  return till.tendered === "" ? null : toCents(till.tendered.endsWith(".") ? till.tendered.slice(0, -1) : till.tendered);
}

function render() {
  renderQueue();
  renderTransaction();
  renderTill();
  const who = session ? session.staff.name : deskStaff ? deskStaff.name : null;
  $("#cashier-who").textContent = who ? t("signed_in_as", { name: who }) : t("till_only");
  const problems = Object.entries(deviceHealth)
    .filter(([, health]) => health && HEALTH_PROBLEMS.has(health.state))
    .map(([name, health]) => t("device_problem", { device: known(`device_${name}`, name), state: known(`health_${health.state}`, health.state) }));
  $("#device-health").textContent = problems.join(" · ");
  $("#device-health").hidden = problems.length === 0;
  $("#cashier-signin").hidden = Boolean(session);
  $("#cashier-signout").hidden = !session;
}

/** The page's words for a name from the wire, or the name itself when it has none. */
function known(key, fallback) {
  const text = t(key);
  return text === key ? fallback : text;
}

function renderQueue() {
  const rows = [...queueTxns.values()].sort(byQueuePlace);
  $("#queue-empty").hidden = rows.length > 0;
  $("#pay-queue").replaceChildren(
    ...rows.slice(0, 50).map((v) =>
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: v.status === "paying" ? "pay-row paying" : "pay-row",
            dataset: { action: "take", code: v.code },
          },
          el("span", { class: "code", text: v.code }),
          el("span", { class: "pay-row-name", text: v.first_name }),
          el("span", { class: "pay-row-total", text: money(v.total) }),
          v.status === "paying" && v.cashier_desk
            ? el("span", { class: "pay-row-desk", text: t("paying_at", { desk: v.cashier_desk }) })
            : null,
        ),
      ),
    ),
  );
}

function renderTransaction() {
  const view = till.view;
  $("#txn").hidden = !view;
  $("#txn-empty").hidden = Boolean(view);
  $("#release").hidden = !(allows(view, "release_payment") && !till.payment);
  if (!view) return;
  $("#txn-code").textContent = view.code;
  $("#txn-name").textContent = view.customer_name;
  $("#txn-status").textContent = statusText(t, view.status);
  $("#txn").dataset.status = view.status;
  $("#txn-items").replaceChildren(
    ...view.items.map((item) =>
      el(
        "li",
        { class: "item" },
        el("span", { class: "item-name", text: item.name }),
        el("span", { class: "item-qty", text: item.quantity > 1 ? `× ${item.quantity}` : "" }),
        el("span", { class: "item-price", text: money(item.line_total) }),
      ),
    ),
  );
  $("#txn-total").textContent = money(view.total);
}

function renderTill() {
  const view = till.view;
  const paid = Boolean(view && (till.payment || view.status === "paid"));
  $("#till-pay").hidden = paid;
  $("#till-paid").hidden = !paid;
  if (paid) {
    $("#paid-label").textContent = till.change !== null ? t("change_due") : t("paid");
    $("#change-due").textContent = till.change !== null ? money(till.change) : money(view.total);
    const print = {
      pending: t("print_pending"),
      ok: t("print_ok"),
      failed: t("print_failed", { detail: till.printDetail }),
      unknown: t("print_unknown"),
      none: t("print_none"),
      slow: t("print_slow"),
    }[till.print];
    $("#print-status").textContent = print || "";
    $("#print-status").dataset.state = till.print || "";
    // Sent, and the printer stopped before confirming it: only the cashier can see whether it
    // printed. The till never prints it again by itself; Reprint prints a copy (no drawer).
    const ask = till.print === "unknown";
    $("#print-hint").textContent = ask ? t("print_unknown_hint", { detail: till.printDetail }) : "";
    $("#print-hint").hidden = !ask;
    $("#reprint").classList.toggle("primary", ask);
    $("#done").classList.toggle("primary", !ask);
    return;
  }
  const payable = allows(view, "pay");
  const total = view ? toCents(view.total) : null;
  const cents = tenderedCents();
  const paysTotal = till.method !== CASH;
  $("#tendered").textContent = paysTotal ? (view ? money(view.total) : "") : cents === null ? "—" : money(cents);
  for (const button of document.querySelectorAll("#methods [data-method]")) {
    button.setAttribute("aria-pressed", String(button.dataset.method === till.method));
  }
  for (const key of document.querySelectorAll("#keypad button")) setEnabled(key, payable && !paysTotal);
  let preview = "";
  if (payable && !paysTotal && cents !== null && total !== null) {
    preview = cents >= total ? `${t("change")}: ${money(cents - total)}` : t("short_by", { amount: money(total - cents) });
  }
  $("#change-preview").textContent = preview;
  $("#change-preview").dataset.short = String(payable && !paysTotal && cents !== null && cents < total);
  const pay = $("#pay");
  pay.textContent = view && payable ? t("pay", { amount: money(paysTotal ? view.total : cents ?? 0) }) : t("pay_plain");
  setEnabled(pay, payable && (paysTotal || cents !== null));
}

// ---- the keypad ------------------------------------------------------------------------

function tenderKey(key) {
  let text = till.tendered;
  if (key === "back") text = text.slice(0, -1);
  else if (key === "clear") text = "";
  else if (key === "exact") text = till.view ? till.view.total : text;
  else if (key === ".") text = text.includes(".") ? text : `${text || "0"}.`;
  else {
    for (const digit of key) {
      const fraction = text.split(".")[1];
      if (fraction !== undefined && fraction.length >= 2) break;
      const longer = text === "0" ? digit : text + digit;
      const cents = toCents(longer);
      if (cents === null || cents > MAX_AMOUNT_CENTS) break; // more than the server takes
      text = longer;
    }
  }
  till.tendered = text;
  renderTill();
}

// ---- commands ----------------------------------------------------------------------------

function showError(error, overrides) {
  flash($("#cashier-notice"), "", 0);
  if (session && error && error.code === "forbidden" && /cashier_token/.test(error.message || "")) {
    endSession(); // expired or signed out elsewhere: the till carries on as itself
    flash($("#cashier-error"), t("session_over"), 12000);
    return;
  }
  flash($("#cashier-error"), errorText(t, error, overrides), 12000);
}

function endSession() {
  signOut(PAGE, session);
  session = null;
  render();
}

function showNotice(text) {
  flash($("#cashier-error"), "", 0);
  flash($("#cashier-notice"), text, 8000);
}

function clearMessages() {
  flash($("#cashier-error"), "", 0);
  flash($("#cashier-notice"), "", 0);
}

/** A transaction the till now shows (after a lookup or a claim). */
function open(view) {
  const same = till.view && till.view.id === view.id && !till.payment;
  if (same) {
    till.view = view; // shown already (a scan at the till's appliance and our own answer): keep the tender
  } else {
    clearTimeout(printTimer);
    Object.assign(till, { view, payment: null, change: null, jobId: null, print: null, printDetail: "", tendered: "" });
    till.method = DEFAULT_METHOD;
  }
  if (view.status === "paid") showNotice(t("already_paid", { code: view.code }));
  else if (view.status === "cancelled") showNotice(t("cancelled", { code: view.code }));
  else if (!allows(view, "pay")) showNotice(t("not_ready", { code: view.code, status: statusText(t, view.status) }));
  else clearMessages();
  keep(view);
}

async function lookup(button) {
  const input = $("#lookup");
  const code = input.value.trim().toUpperCase();
  if (!code) return;
  const ack = await whileBusy(button, () => live.command("cashier_lookup", withCashier({ code }), { keyed: true }));
  if (!ack) return;
  input.value = "";
  if (ack.ok) open(ack.transaction);
  else
    showError(ack.error, {
      not_found: t("not_found", { code }),
      invalid_payload: t("not_a_code", { code }),
    });
  render();
  focusLookup();
}

async function claimNext(button) {
  const ack = await whileBusy(button, () => live.command("cashier_claim_next", withCashier({}), { keyed: true }));
  if (!ack) return;
  if (ack.ok) open(ack.transaction);
  else showError(ack.error);
  render();
}

async function pay(button) {
  const view = till.view;
  if (!view) return;
  const paysTotal = till.method !== CASH;
  const cents = paysTotal ? toCents(view.total) : tenderedCents();
  if (cents === null) {
    showError({ code: "invalid_payload", message: "" }, { invalid_payload: t("enter_amount") });
    return;
  }
  const payload = withCashier({ transaction_id: view.id, amount_paid: centsToWire(cents), method: till.method });
  const ack = await whileBusy(button, () => live.command("cashier_pay", payload, { keyed: true }));
  if (!ack) return;
  if (!ack.ok) {
    showError(ack.error, {
      insufficient_payment: t("insufficient_payment", { paid: money(cents), due: money(view.total) }),
    });
    render();
    return;
  }
  clearMessages();
  till.payment = ack.payment;
  till.change = ack.change;
  keep(ack.transaction);
  till.view = ack.transaction;
  expectReceipt(ack.print_job ? ack.print_job.job_id : null);
  render();
}

function expectReceipt(jobId) {
  clearTimeout(printTimer);
  till.jobId = jobId;
  till.printDetail = "";
  if (!jobId) {
    till.print = "none";
    return;
  }
  till.print = "pending";
  printTimer = setTimeout(() => {
    if (till.jobId === jobId && till.print === "pending") {
      till.print = "slow";
      renderTill();
    }
  }, PRINT_SLOW_MS);
}

function onReceiptStatus(status) {
  if (!till.view || !status || status.transaction_id !== till.view.id) return;
  if (till.jobId && status.job_id !== till.jobId) return; // an older copy's news
  clearTimeout(printTimer);
  till.jobId = status.job_id;
  till.print = status.ok ? "ok" : status.unknown ? "unknown" : "failed";
  till.printDetail = [status.state, status.detail].filter(Boolean).join(": ");
  renderTill();
}

async function reprint(button) {
  const view = till.view;
  if (!view) return;
  const ack = await whileBusy(button, () => live.command("receipt_reprint", { transaction_id: view.id }));
  if (!ack) return;
  if (ack.ok) expectReceipt(ack.job_id);
  else showError(ack.error);
  render();
}

async function release(button) {
  const view = till.view;
  if (!view) return;
  const ack = await whileBusy(button, () =>
    live.command("cashier_release", withCashier({ transaction_id: view.id }), { keyed: true }),
  );
  if (!ack) return;
  if (ack.ok) {
    keep(ack.transaction);
    done();
  } else showError(ack.error);
  render();
}

function done() {
  clearTimeout(printTimer);
  Object.assign(till, { view: null, payment: null, change: null, jobId: null, print: null, tendered: "", method: DEFAULT_METHOD });
  clearMessages();
  render();
  focusLookup();
}

// ---- the scanner: a keyboard that types a code and Enter ---------------------------------

function focusLookup() {
  if ($("#signin-dialog").hidden) $("#lookup").focus({ preventScroll: true });
}

$("#lookup-form").addEventListener("submit", (event) => {
  event.preventDefault();
  lookup($("#lookup-form button[type=submit]"));
});

// Keys typed while something else has the focus (a tapped button) still reach the code field.
document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (target instanceof HTMLInputElement || !$("#signin-dialog").hidden) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key.length === 1 || event.key === "Enter") focusLookup();
});
document.addEventListener("pointerup", () => setTimeout(focusLookup, 0));
document.addEventListener("contextmenu", (event) => event.preventDefault());

// ---- sign-in -----------------------------------------------------------------------------

const signIn = new SignIn($("#signin"), {
  t,
  roles: ["cashier", "admin"],
  onSignedIn: (newSession) => {
    session = newSession;
    saveSession(PAGE, session);
    $("#signin-dialog").hidden = true;
    render();
    focusLookup();
  },
  onCancel: () => {
    $("#signin-dialog").hidden = true;
    focusLookup();
  },
});

onAction(document.body, {
  "claim-next": (button) => claimNext(button),
  take: (button) => {
    $("#lookup").value = button.dataset.code;
    lookup(button);
  },
  method: (button) => {
    till.method = button.dataset.method;
    renderTill();
  },
  pay: (button) => pay(button),
  reprint: (button) => reprint(button),
  release: (button) => release(button),
  done: () => done(),
  "signin-open": () => {
    $("#signin-dialog").hidden = false;
    signIn.open();
  },
  signout: () => endSession(),
});

/** One button per payment method the server takes. */
function buildMethods() {
  $("#methods").replaceChildren(
    ...METHODS.map((method) =>
      el(
        "button",
        { type: "button", id: `method-${method}`, dataset: { action: "method", method }, "aria-pressed": "false" },
        known(method, method),
      ),
    ),
  );
}

function main() {
  applyStrings(document, t);
  buildMethods();
  buildKeys(
    $("#keypad"),
    [
      ["7", "8", "9", "back"],
      ["4", "5", "6", "clear"],
      ["1", "2", "3", "exact"],
      [{ key: "0", class: "key-wide" }, "00", "."],
    ],
    { back: t("backspace"), clear: t("clear"), exact: t("exact") },
    tenderKey,
  );
  render();
  focusLookup();
  const token = deviceToken(PAGE);
  if (!token) {
    showError({ code: "forbidden", message: "" }, { forbidden: t("no_token", { path: location.pathname }) });
    return;
  }
  live = new Live({
    token,
    page: PAGE,
    t,
    onConnect: async () => {
      await live.command("cashier_subscribe");
      await queue.resync();
    },
  }).start();
  live.on("cashier_queue_updated", (message) => queue.receive(message));
  live.on("receipt_status", onReceiptStatus);
  // The till's appliance (same device token): codes its scanner read, badges, device health.
  live.on("cashier_lookup_result", (ack) => {
    if (ack && ack.ok && ack.transaction) open(ack.transaction);
    else if (ack && ack.error) showError(ack.error);
    render();
  });
  live.on("desk_signed_in", (result) => {
    deskStaff = result && result.staff ? result.staff : null;
    render();
  });
  live.on("desk_signed_out", () => {
    deskStaff = null;
    render();
  });
  live.on("appliance_status", (status) => {
    deviceHealth = (status && status.devices) || {};
    render();
  });
  setInterval(() => {
    if (session && !savedSession(PAGE)) endSession(); // a sign-in lasts a working day
  }, 60000);
}

main();
