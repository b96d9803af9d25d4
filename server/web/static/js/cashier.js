// /cashier — the till: take the next customer or look a code up (a barcode scanner types it and
// Enter), the items and total, corrections (discounts, a line removed, a void before payment, a
// refund after it), the payment (cash, card or both, a tip for the therapist) on an on-screen
// keypad, change, and the receipt's print status as the till's appliance reports it; reprint.
// The drawer (open, cash in and out, X report, close) is in till/drawer.js.
//
// The page connects with the till's device token (/cashier#token=dv_…). A cashier may sign in
// with name + PIN; the session then goes along as cashier_token. Without it, the till acts alone.
// Money is integer cents here, from the wire's decimal strings and back (lib/money.js).

import { contract, deviceToken } from "./lib/config.js";
import { $, el, flash, onAction, setEnabled, statusText } from "./lib/dom.js";
import { buildKeys } from "./lib/keypad.js";
import { Live, VersionedState, whileBusy } from "./lib/live.js";
import { centsToWire, money, toCents } from "./lib/money.js";
import { allows, allowsAny, byQueuePlace, queueSnapshot } from "./lib/queue.js";
import { SignIn, saveSession, savedSession, signOut } from "./lib/signin.js";
import { applyStrings, errorText, strings } from "./strings.js";
import { centsText, typeAmount, typedCents } from "./till/amount.js";
import { Corrections, lineNet } from "./till/corrections.js";
import { TaskDialog } from "./till/dialog.js";
import { Drawer } from "./till/drawer.js";
import { ManagerPrompt } from "./till/manager.js";

const t = strings("cashier");
const PAGE = "cashier";
// This screen's part of the moves a staff view lists as allowed (server/domain/moves.py): a
// transaction it may claim, take payment for or put back is in its queue.
const CASHIER_MOVES = ["claim_for_cashier", "pay", "release_payment"];
const PRINT_SLOW_MS = 15000;

// The payment methods the server takes (common/wire.py PaymentMethod), one button each, and
// "split": cash and card in one payment (cashier_pay tenders). Change is given only from cash.
const METHODS = contract.payment_methods;
const CASH = "cash";
const CARD = "card";
const SPLIT = "split";
const DEFAULT_METHOD = METHODS.includes(CASH) ? CASH : METHODS[0];
const CAN_SPLIT = METHODS.includes(CASH) && METHODS.includes(CARD);

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
  method: DEFAULT_METHOD,
  // What is typed, as text: the cash tendered, the card's part of a split payment, the tip.
  typed: { cash: "", card: "", tip: "" },
  field: "cash", // which of them the keypad types into
};
let printTimer = null;

const dialog = new TaskDialog($("#task-dialog"));
const managerPrompt = new ManagerPrompt($("#manager-dialog"), { t });
const drawer = new Drawer({ live: () => live, t, dialog, withCashier, onChange: () => render() });
const corrections = new Corrections({
  live: () => live,
  t,
  dialog,
  manager: managerPrompt,
  withCashier,
  onView: (view) => {
    keep(view);
    till.view = view;
    render();
  },
  onNotice: (text) => {
    showNotice(text);
    drawer.refresh();
  },
});

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
  load: () => queueSnapshot(live),
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

// ---- the payment's arithmetic (integer cents) ---------------------------------------------

function typed(field) {
  return typedCents(till.typed[field]);
}

/** What the customer owes now: the bill and the tip. */
function owedCents() {
  if (!till.view) return null;
  return toCents(till.view.total) + (typed("tip") || 0);
}

/** The tenders as the till would send them: {cash, card} in cents. */
function tenders() {
  const owed = owedCents() ?? 0;
  if (till.method === CARD) return { cash: 0, card: owed };
  if (till.method === SPLIT) return { cash: typed("cash") || 0, card: typed("card") || 0 };
  return { cash: typed("cash") || 0, card: 0 };
}

/** The change, or why there is none: {change} | {short} | {cardTooMuch} | null (nothing typed). */
function preview() {
  const owed = owedCents();
  if (owed === null) return null;
  if (till.method === CASH && typed("cash") === null) return null;
  if (till.method === SPLIT && typed("cash") === null && typed("card") === null) return null;
  const { cash, card } = tenders();
  if (card > owed) return { cardTooMuch: card - owed };
  const paid = cash + card;
  return paid >= owed ? { change: paid - owed } : { short: owed - paid };
}

// ---- rendering -------------------------------------------------------------------------

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
  const chip = $("#drawer-state");
  chip.hidden = !drawer.state.known;
  chip.textContent = drawer.chip();
  chip.dataset.open = String(drawer.open);
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
  const unpaid = view && !till.payment;
  $("#release").hidden = !(allows(view, "release_payment") && unpaid);
  $("#order-discount").hidden = !(allows(view, "discount") && unpaid);
  $("#void").hidden = !(allows(view, "void") && unpaid);
  $("#refund").hidden = !(view && view.status === "paid");
  if (!view) return;
  $("#txn-code").textContent = view.code;
  $("#txn-name").textContent = view.customer_name;
  $("#txn-status").textContent = statusText(t, view.status);
  $("#txn").dataset.status = view.status;
  const discountable = allows(view, "discount") && unpaid;
  const removable = allows(view, "remove_item") && unpaid && view.items.length > 1;
  $("#txn-items").replaceChildren(...view.items.map((item) => itemRow(item, discountable, removable)));
  const orderOff = toCents(view.order_discount || "0") || 0;
  const orderLine = $("#order-discount-line");
  orderLine.hidden = orderOff === 0;
  orderLine.textContent = orderOff
    ? t("order_discount_line", { amount: money(-orderOff), reason: view.order_discount_reason || "" })
    : "";
  $("#txn-total").textContent = money(view.total);
}

function itemRow(item, discountable, removable) {
  const off = toCents(item.discount || "0") || 0;
  return el(
    "li",
    { class: "item", dataset: { itemId: item.id } },
    el("span", { class: "item-name", text: item.name }),
    el("span", { class: "item-qty", text: item.quantity > 1 ? `× ${item.quantity}` : "" }),
    el("span", { class: "item-price", text: money(lineNet(item)) }),
    off
      ? el("span", {
          class: "item-discount",
          text: t("line_discount", { amount: money(off), before: money(item.line_total), reason: item.discount_reason || "" }),
        })
      : null,
    discountable || removable
      ? el(
          "span",
          { class: "item-actions" },
          discountable
            ? el("button", {
                type: "button",
                class: "item-discount-button",
                dataset: { action: "line-discount", itemId: item.id },
                "aria-label": t("discount_line_label", { name: item.name }),
                text: "%",
              })
            : null,
          removable
            ? el("button", {
                type: "button",
                class: "item-remove",
                dataset: { action: "remove-item", itemId: item.id },
                "aria-label": t("remove_label", { name: item.name }),
                text: "✕",
              })
            : null,
        )
      : null,
  );
}

function renderTill() {
  const view = till.view;
  const paid = Boolean(view && (till.payment || view.status === "paid"));
  $("#till-pay").hidden = paid;
  $("#till-paid").hidden = !paid;
  $("#till-closed").hidden = paid || !drawer.closed;
  if (paid) {
    renderPaid(view);
    return;
  }
  const payable = allows(view, "pay");
  const method = till.method;
  const owed = owedCents();
  const { cash, card } = tenders();
  // The big box: the cash tendered, or what the card pays.
  $("#tendered-label").textContent = t(method === CARD ? "card" : method === SPLIT ? "cash" : "tendered");
  const cashText = typed("cash") === null ? "—" : money(typed("cash"));
  $("#tendered").textContent = method === CARD ? (view ? money(owed) : "") : cashText;
  $("#field-card").hidden = method !== SPLIT;
  $("#card-amount").textContent = typed("card") === null ? "—" : money(typed("card"));
  $("#tip-amount").textContent = typed("tip") === null ? money(0) : money(typed("tip"));
  for (const button of document.querySelectorAll("#methods [data-method], #methods [data-split]")) {
    const mine = button.dataset.method || SPLIT;
    button.setAttribute("aria-pressed", String(mine === method));
    setEnabled(button, payable);
  }
  for (const field of document.querySelectorAll("[data-field]")) {
    field.setAttribute("aria-pressed", String(payable && till.field === field.dataset.field && fieldTypable(field.dataset.field)));
    setEnabled(field, payable && fieldTypable(field.dataset.field));
  }
  const typing = payable && fieldTypable(till.field);
  for (const key of document.querySelectorAll("#keypad button")) {
    setEnabled(key, typing && !(key.dataset.key === "exact" && till.field === "tip"));
  }
  const p = payable ? preview() : null;
  let text = "";
  if (p && p.cardTooMuch !== undefined) text = t("card_too_much", { amount: money(p.cardTooMuch) });
  else if (p && p.change !== undefined) text = `${t("change")}: ${money(p.change)}`;
  else if (p) text = t("short_by", { amount: money(p.short) });
  $("#change-preview").textContent = text;
  $("#change-preview").dataset.short = String(Boolean(p && p.change === undefined));
  const pay = $("#pay");
  const amount = cash + card;
  pay.textContent = view && payable ? t("pay", { amount: money(method === CARD ? owed : amount) }) : t("pay_plain");
  setEnabled(pay, payable && (method === CARD || amount > 0));
}

/** Whether the keypad may type into this field with the method chosen. */
function fieldTypable(field) {
  if (field === "tip") return true;
  if (field === "card") return till.method === SPLIT;
  return till.method !== CARD;
}

function renderPaid(view) {
  $("#paid-label").textContent = till.change !== null ? t("change_due") : t("paid");
  $("#change-due").textContent = till.change !== null ? money(till.change) : money(view.total);
  $("#paid-how").textContent = till.payment ? paidHow(till.payment) : "";
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
}

/** "Cash €30.00 · Card €40.00 · Tip €5.00 · T01-2026-000001" */
function paidHow(payment) {
  const parts = (payment.tenders || []).map((tender) => `${known(tender.method, tender.method)} ${money(tender.amount)}`);
  if (toCents(payment.tip || "0")) parts.push(`${t("tip")} ${money(payment.tip)}`);
  if (payment.receipt_number) parts.push(payment.receipt_number);
  return parts.join(" · ");
}

// ---- the keypad ------------------------------------------------------------------------

function tenderKey(key) {
  const field = till.field;
  if (!fieldTypable(field) || !till.view) return;
  let text = till.typed[field];
  if (key === "exact") {
    // What is left to pay in this field, the other tender counted.
    const owed = owedCents();
    const other = till.method === SPLIT ? typed(field === "cash" ? "card" : "cash") || 0 : 0;
    text = centsText(Math.max(0, owed - other));
  } else {
    text = typeAmount(text, key);
  }
  till.typed[field] = text;
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

function resetTender() {
  till.method = DEFAULT_METHOD;
  till.typed = { cash: "", card: "", tip: "" };
  till.field = "cash";
}

/** A transaction the till now shows (after a lookup or a claim). */
function open(view) {
  const same = till.view && till.view.id === view.id && !till.payment;
  if (same) {
    till.view = view; // shown already (a scan at the till's appliance and our own answer): keep the tender
  } else {
    clearTimeout(printTimer);
    Object.assign(till, { view, payment: null, change: null, jobId: null, print: null, printDetail: "" });
    resetTender();
    if (dialog.open && dialog.name !== "drawer") dialog.close(); // a correction was for the one before
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

/** The cashier_pay payload for what is typed (without confirm). */
function payPayload(view) {
  const { cash, card } = tenders();
  const payload = { transaction_id: view.id };
  if (till.method === SPLIT) {
    payload.tenders = [
      { method: CASH, amount: centsToWire(cash) },
      { method: CARD, amount: centsToWire(card) },
    ].filter((tender) => toCents(tender.amount) > 0);
  } else {
    payload.amount_paid = centsToWire(cash + card);
    payload.method = till.method;
  }
  const tip = typed("tip") || 0;
  if (tip) payload.tip = centsToWire(tip);
  return withCashier(payload);
}

async function pay(button) {
  const view = till.view;
  if (!view) return;
  const { cash, card } = tenders();
  if (cash + card === 0) {
    showError({ code: "invalid_payload", message: "" }, { invalid_payload: t("enter_amount") });
    return;
  }
  const owed = owedCents();
  const payload = payPayload(view);
  let ack = await whileBusy(button, () => live.command("cashier_pay", payload, { keyed: true }));
  if (!ack) return;
  if (!ack.ok && ack.error && ack.error.code === "confirmation_needed") {
    // Cash far above the bill (a slip of the finger, or a big note): the cashier looks again.
    const take = await dialog.ask("confirm-tender", {
      title: t("confirm_tender", { paid: money(cash + card), owed: money(owed), change: money(cash + card - owed) }),
      text: t("confirm_tender_text"),
      yes: t("confirm_tender_yes"),
      no: t("confirm_tender_no"),
    });
    if (!take) {
      showNotice(t("confirm_tender_declined"));
      till.field = "cash";
      render();
      return;
    }
    ack = await whileBusy(button, () => live.command("cashier_pay", { ...payload, confirm: true }, { keyed: true }));
    if (!ack) return;
  }
  if (!ack.ok) {
    showError(ack.error, {
      insufficient_payment: t("insufficient_payment", { paid: money(cash + card), due: money(owed) }),
      till_closed: t("till_closed_cash"),
    });
    if (ack.error && ack.error.code === "till_closed") drawer.refresh();
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
  drawer.refresh();
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

async function removeItem(button) {
  const view = till.view;
  const item = view && view.items.find((i) => i.id === Number(button.dataset.itemId));
  if (!item) return;
  const ack = await corrections.remove(view, item, button);
  if (!ack) return;
  if (ack.ok) {
    keep(ack.transaction);
    till.view = ack.transaction;
    showNotice(t("removed", { name: item.name, total: money(ack.transaction.total) }));
  } else showError(ack.error);
  render();
}

function done() {
  clearTimeout(printTimer);
  Object.assign(till, { view: null, payment: null, change: null, jobId: null, print: null });
  resetTender();
  clearMessages();
  render();
  focusLookup();
}

// ---- the scanner: a keyboard that types a code and Enter ---------------------------------

/** Whether a dialog covers the till (the code field must not take the keys then). */
function covered() {
  return !$("#signin-dialog").hidden || dialog.open || managerPrompt.open;
}

function focusLookup() {
  if (!covered()) $("#lookup").focus({ preventScroll: true });
}

$("#lookup-form").addEventListener("submit", (event) => {
  event.preventDefault();
  lookup($("#lookup-form button[type=submit]"));
});

// Keys typed while something else has the focus (a tapped button) still reach the code field.
document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (target instanceof HTMLInputElement || covered()) return;
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

function viewItem(button) {
  return till.view && till.view.items.find((i) => i.id === Number(button.dataset.itemId));
}

onAction($(".cashier"), {
  "claim-next": (button) => claimNext(button),
  take: (button) => {
    $("#lookup").value = button.dataset.code;
    lookup(button);
  },
  method: (button) => {
    till.method = button.dataset.method;
    till.field = "cash"; // with card, the keypad waits until the tip is tapped
    renderTill();
  },
  split: () => {
    till.method = SPLIT;
    till.field = "cash";
    renderTill();
  },
  field: (button) => {
    till.field = button.dataset.field;
    renderTill();
  },
  pay: (button) => pay(button),
  reprint: (button) => reprint(button),
  release: (button) => release(button),
  done: () => done(),
  "order-discount": () => till.view && corrections.discount(till.view, null),
  "line-discount": (button) => {
    const item = viewItem(button);
    if (item) corrections.discount(till.view, item);
  },
  "remove-item": (button) => removeItem(button),
  void: () => till.view && corrections.void(till.view),
  refund: () => till.view && corrections.refund(till.view, till.payment),
  drawer: () => drawer.refresh().then(() => drawer.show()),
  "signin-open": () => {
    $("#signin-dialog").hidden = false;
    signIn.open();
  },
  signout: () => endSession(),
});

/** One button per payment method the server takes, and split (cash and card together). */
function buildMethods() {
  $("#methods").replaceChildren(
    ...METHODS.map((method) =>
      el(
        "button",
        { type: "button", id: `method-${method}`, dataset: { action: "method", method }, "aria-pressed": "false" },
        known(method, method),
      ),
    ),
    CAN_SPLIT
      ? el("button", { type: "button", id: "method-split", dataset: { action: "split", split: "1" }, "aria-pressed": "false" }, t("split"))
      : null,
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
      await Promise.all([queue.resync(), drawer.refresh()]);
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
