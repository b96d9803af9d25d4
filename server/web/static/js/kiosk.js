// /kiosk — the reception touch kiosk: attract screen (or the closed screen, when the server's
// intake says the queue takes nobody now), catalog and cart, the customer's name on an
// on-screen keyboard, then the ticket (code, place in queue, wait and the time of day it ends,
// the room once called, a QR code of the phone page) updating live.

import { config, contract, deviceToken, numberParam } from "./lib/config.js";
import { $, el, flash, onAction, roomName, roomText, setEnabled, showOnly } from "./lib/dom.js";
import { NameKeyboard } from "./lib/keypad.js";
import { Live, whileBusy } from "./lib/live.js";
import { money, toCents } from "./lib/money.js";
import { dayAndTime, timeOfDay } from "./lib/when.js";
import { chooseLanguage, chosenLanguage, forgetLanguage, languageButton, languageOf } from "./lib/language.js";
import { applyStrings, errorText, strings } from "./strings.js";

const t = strings("kiosk");
// The server's limits (common/wire.py Limits, through the page config): of one service, services
// in one order, characters in a name.
const MAX_QUANTITY = contract.limits.max_quantity;
const MAX_LINES = contract.limits.max_items;
const MAX_NAME = contract.limits.max_name;
const IDLE_MS = numberParam("idle", config.kiosk.idle_s, 1, 3600) * 1000;
const TICKET_MS = numberParam("ticket", config.kiosk.ticket_s, 1, 3600) * 1000;
// The customer who just ordered may cancel this long, or until anyone touches the ticket away
// from its buttons; "Done" and the ticket's timeout forget the ticket and its id altogether. So
// the next person at the kiosk cannot cancel the previous customer's visit (the server wants the
// ticket's id for a kiosk's cancel, docs/PROTOCOL.md).
const CANCEL_MS = numberParam("cancel", 20, 1, 3600) * 1000;
// The server's intake changes with the clock (opening, last entry) as well as with the queue.
const INTAKE_MS = numberParam("intake", 30, 1, 3600) * 1000;
const CATALOG_RETRY_MS = 5000;
const NAME_COUNT_FROM = 10; // the count turns to a warning this many characters before the limit
// A language switch reloads the page (every word, the keyboard's layout); a customer switching
// on the catalog comes back to it with their cart, kept here for that one reload.
const RESUME_KEY = "spa.kiosk.resume";

const screens = {
  attract: $("#attract"),
  order: $("#order"),
  name: $("#name"),
  ticket: $("#ticket"),
  closed: $("#closed"),
  "no-token": $("#no-token"),
};

const state = {
  screen: "attract",
  catalog: [], // [{id, name, price, duration_min}]
  cart: new Map(), // service id → quantity, in the order chosen
  ticket: null, // what customer_txn_update and the acknowledgements say about the order made here
  confirming: false,
  intake: null, // the server's: {state: open|closed|last_entry_passed|full, opens_at, …}
  cancellable: false, // the ticket on screen may still be cancelled from here
  resumeCart: null, // [[service id, quantity]] from before a language switch, until the catalog is in
};

let live = null;
let idleTimer = null;
let catalogTimer = null;
let cancelTimer = null;

const keyboard = new NameKeyboard($("#keyboard"), {
  labels: {
    shift: t("shift"),
    backspace: t("backspace"),
    " ": t("space"),
    accents: t("accents"),
    accents_more: t("accents_more"),
    letters: t("letters"),
  },
  maxLength: MAX_NAME,
  language: languageOf(config).split("-")[0],
  onChange: () => renderName(),
  onLimit: () => flash($("#name-error"), t("name_limit", { n: MAX_NAME }), 5000),
});

// ---- screens and the idle timeout --------------------------------------------------------

function show(screen) {
  state.screen = screen;
  showOnly(Object.values(screens), screens[screen]);
  armIdle();
}

function armIdle() {
  clearTimeout(idleTimer);
  if (state.screen === "attract" || state.screen === "closed") {
    // A customer's language left on the attract screen goes back to the spa's in a while.
    if (chosenLanguage(config.languages)) idleTimer = setTimeout(onIdle, IDLE_MS);
    return;
  }
  if (state.screen === "no-token") return;
  idleTimer = setTimeout(onIdle, state.screen === "ticket" ? TICKET_MS : IDLE_MS);
}

function onIdle() {
  if (state.confirming) {
    armIdle(); // never abandon an order while its confirmation is on its way
    return;
  }
  toAttract();
}

function toAttract() {
  forgetTicket();
  // The next customer starts in the spa's language, not in the previous one's.
  if (forgetLanguage(config)) {
    location.reload();
    return;
  }
  state.cart.clear();
  keyboard.clear();
  for (const error of document.querySelectorAll(".error")) flash(error, "", 0);
  renderCatalog();
  renderCart();
  renderName();
  show(taking() ? "attract" : "closed");
  renderIntake();
  if (live && live.connected) loadCatalog(); // the catalog may have changed meanwhile
}

/** The previous customer's ticket goes: its id (the proof for cancelling) is not kept. */
function forgetTicket() {
  clearTimeout(cancelTimer);
  state.ticket = null;
  state.cancellable = false;
  $("#ticket-qr").removeAttribute("src");
  $("#ticket-address").textContent = "";
}

// ---- the intake: open, or closed / last entry passed / full ------------------------------

/** Whether the kiosk takes a new customer now, as far as it knows (unknown: yes; the server checks). */
function taking() {
  return !state.intake || state.intake.state === "open";
}

async function loadIntake() {
  const ack = await live.command("queue_snapshot");
  if (ack.ok && ack.intake) onIntake(ack.intake);
}

function onIntake(intake) {
  state.intake = intake;
  // Only an idle kiosk changes screen: someone halfway through an order finishes it (the
  // server answers in plain words if it can no longer take them).
  if (state.screen === "attract" && !taking()) show("closed");
  else if (state.screen === "closed" && taking()) show("attract");
  renderIntake();
}

function renderIntake() {
  const intake = state.intake;
  const wait = intake && intake.state === "open" ? intake.estimated_wait_min : null;
  const waitLine = $("#attract-wait");
  waitLine.hidden = wait === null || wait === undefined;
  if (!waitLine.hidden) {
    waitLine.textContent =
      wait <= 0 ? t("attract_wait_now") : t("attract_wait", { n: wait, time: timeOfDay(inMinutes(wait)) });
  }
  // Today's hours while open: when the last customer is taken, and the closing.
  const hoursLine = $("#attract-hours");
  hoursLine.hidden = !(intake && intake.state === "open" && intake.last_entry_at && intake.closes_at);
  if (!hoursLine.hidden) {
    hoursLine.textContent = t("attract_hours", {
      last_entry: timeOfDay(intake.last_entry_at),
      closes: timeOfDay(intake.closes_at),
    });
  }
  if (!intake || intake.state === "open") return;
  $("#closed").dataset.state = intake.state;
  $("#closed-title").textContent = t(`closed_title_${intake.state}`);
  const opens = dayAndTime(intake.opens_at);
  const vars = {
    opens,
    closes: timeOfDay(intake.closes_at),
    last_entry: timeOfDay(intake.last_entry_at),
    n: intake.max_wait_min ?? "",
  };
  let text = t(`closed_text_${intake.state}`, vars);
  if (intake.state !== "full" && opens) text += " " + t("closed_opens", vars);
  $("#closed-text").textContent = text;
  const hours = $("#closed-hours");
  hours.hidden = !(intake.closes_at && intake.last_entry_at);
  if (!hours.hidden) hours.textContent = t("closed_hours", vars);
}

function inMinutes(minutes) {
  return new Date(Date.now() + minutes * 60000).toISOString();
}

// ---- the catalog and the cart ----------------------------------------------------------

function service(id) {
  return state.catalog.find((s) => s.id === id);
}

function cartTotalCents() {
  let total = 0;
  for (const [id, quantity] of state.cart) total += (toCents(service(id)?.price || "0") || 0) * quantity;
  return total;
}

function cartCount() {
  let count = 0;
  for (const quantity of state.cart.values()) count += quantity;
  return count;
}

function changeQuantity(id, delta) {
  if (!service(id)) return;
  const now = state.cart.get(id) || 0;
  const next = Math.max(0, Math.min(MAX_QUANTITY, now + delta));
  if (delta > 0 && now === 0 && state.cart.size >= MAX_LINES) return;
  if (delta > 0 && now >= MAX_QUANTITY) {
    flash($("#cart-error"), t("too_many", { n: MAX_QUANTITY }), 4000);
    return;
  }
  if (next === 0) state.cart.delete(id);
  else state.cart.set(id, next);
  renderCatalog();
  renderCart();
}

async function loadCatalog() {
  clearTimeout(catalogTimer);
  const ack = await live.command("service_catalog");
  if (!ack.ok) {
    flash($("#cart-error"), t("catalog_failed"), CATALOG_RETRY_MS);
    catalogTimer = setTimeout(() => live.connected && loadCatalog(), CATALOG_RETRY_MS);
    return;
  }
  state.catalog = ack.services.filter((s) => s.active !== false);
  if (state.resumeCart) {
    for (const [id, quantity] of state.resumeCart) {
      if (service(id) && quantity > 0) state.cart.set(id, Math.min(MAX_QUANTITY, quantity));
    }
    state.resumeCart = null;
  }
  for (const id of [...state.cart.keys()]) if (!service(id)) state.cart.delete(id);
  renderCatalog();
  renderCart();
}

function renderCatalog() {
  $("#catalog").replaceChildren(
    ...state.catalog.map((s) => {
      const quantity = state.cart.get(s.id) || 0;
      return el(
        "button",
        {
          type: "button",
          class: quantity ? "card chosen" : "card",
          role: "listitem",
          dataset: { action: "add", serviceId: s.id },
          "aria-label": `${s.name}, ${t("duration", { n: s.duration_min })}, ${money(s.price)}`,
        },
        el("span", { class: "card-name", text: s.name }),
        el(
          "span",
          { class: "card-meta" },
          el("span", { class: "card-duration", text: t("duration", { n: s.duration_min }) }),
          el("span", { class: "card-price", text: money(s.price) }),
        ),
        quantity ? el("span", { class: "card-badge", text: t("in_cart", { n: quantity }) }) : null,
      );
    }),
  );
}

function renderCart() {
  const lines = [...state.cart].map(([id, quantity]) => {
    const s = service(id);
    return el(
      "li",
      { class: "cart-line", dataset: { serviceId: id } },
      el("span", { class: "line-name", text: s.name }),
      el(
        "span",
        { class: "line-qty" },
        el("button", { type: "button", class: "qty", dataset: { action: "dec", serviceId: id }, "aria-label": t("remove_one") }, "−"),
        el("span", { class: "qty-value", text: String(quantity) }),
        el("button", { type: "button", class: "qty", dataset: { action: "inc", serviceId: id }, "aria-label": t("add_one") }, "+"),
      ),
      el("span", { class: "line-total", text: money((toCents(s.price) || 0) * quantity) }),
    );
  });
  $("#cart-lines").replaceChildren(...lines);
  $("#cart-empty").hidden = lines.length > 0;
  $("#cart-total").textContent = money(cartTotalCents());
  setEnabled($("#to-name"), state.cart.size > 0);
}

function renderName() {
  const value = keyboard.value;
  $("#name-value").textContent = value;
  $("#name-hint").hidden = value.length > 0;
  const count = $("#name-count");
  count.textContent = t("name_count", { n: keyboard.length, max: MAX_NAME });
  count.classList.toggle("near", keyboard.length >= MAX_NAME - NAME_COUNT_FROM);
  count.classList.toggle("full", keyboard.length >= MAX_NAME);
  const field = $(".name-field");
  field.scrollLeft = field.scrollWidth; // a long name shows its end, where the typing is
  const services = cartCount();
  $("#name-summary").textContent = `${services === 1 ? t("items_count_one") : t("items_count", { n: services })} · ${money(cartTotalCents())}`;
  setEnabled($("#confirm"), value.trim().length > 0 && state.cart.size > 0 && !state.confirming);
}

// ---- confirming and the ticket ------------------------------------------------------------

async function confirm(button) {
  const name = keyboard.value.trim();
  if (!name || state.cart.size === 0) return;
  const payload = {
    customer_name: name,
    items: [...state.cart].map(([id, quantity]) => ({ service_id: id, quantity })),
  };
  state.confirming = true;
  flash($("#name-error"), "", 0);
  const ack = await whileBusy(button, () => live.command("customer_confirm_selection", payload, { keyed: true }));
  state.confirming = false;
  renderName();
  if (!ack) return; // a second tap while the first is on its way
  if (!ack.ok) {
    flash($("#name-error"), errorText(t, ack.error), 10000);
    if (ack.error.code === "queue_closed" || ack.error.code === "queue_full") {
      // Closed or full since the order began: the closed screen says why and until when.
      await loadIntake();
      if (!taking()) toAttract();
      return;
    }
    if (ack.error.code === "unknown_service") {
      await loadCatalog(); // withdrawn meanwhile: the cart keeps only what is still offered
      renderName();
    }
    return;
  }
  state.ticket = {
    version: 0,
    transaction_id: ack.transaction_id,
    public_id: ack.public_id, // the proof a kiosk cancel needs; gone with the ticket
    code: ack.code,
    status: ack.status,
    position: ack.position,
    estimated_wait_min: ack.estimated_wait_min,
    estimated_call_at: ack.estimated_call_at ?? null,
    ticket_path: ack.ticket_path,
    room: null,
    cashier_desk: null,
  };
  state.cancellable = Boolean(ack.public_id);
  clearTimeout(cancelTimer);
  cancelTimer = setTimeout(() => {
    state.cancellable = false;
    renderTicket();
  }, CANCEL_MS);
  state.cart.clear();
  keyboard.clear();
  renderCatalog();
  renderCart();
  renderPhone();
  renderTicket();
  show("ticket");
}

/** The phone page of this visit: its QR code and a short address to type. */
function renderPhone() {
  const ticket = state.ticket;
  const path = ticket && (ticket.ticket_path || (ticket.public_id && `/t/${ticket.public_id}`));
  $("#ticket-phone").hidden = !path;
  if (!path) return;
  $("#ticket-qr").src = `${path}/qr.svg`;
  $("#ticket-address").textContent = `${location.host}${path}`;
}

function onTxnUpdate(update) {
  const ticket = state.ticket;
  if (!ticket || !update || update.transaction_id !== ticket.transaction_id) return;
  if (typeof update.version === "number" && update.version < ticket.version) return;
  for (const [field, value] of Object.entries(update)) if (value !== undefined) ticket[field] = value;
  renderTicket();
}

async function resubscribe() {
  const ticket = state.ticket;
  const ack = await live.command("customer_subscribe", { transaction_id: ticket.transaction_id });
  if (ack.ok && state.ticket === ticket) {
    ticket.version = -1; // the snapshot behind this answer is the truth now
    onTxnUpdate(ack);
  }
}

function renderTicket() {
  const ticket = state.ticket;
  if (!ticket) return;
  $("#ticket-code").textContent = ticket.code;
  const waiting = ticket.status === "pending_therapist";
  $("#ticket-facts").hidden = !waiting;
  $("#ticket-position").textContent = ticket.position ?? "–";
  const wait = ticket.estimated_wait_min;
  const unknown = wait === null || wait === undefined;
  $("#ticket-wait").textContent = unknown ? t("wait_unknown") : wait <= 0 ? t("wait_now") : t("minutes", { n: wait });
  const callAt = !unknown && wait > 0 ? timeOfDay(ticket.estimated_call_at) : "";
  $("#ticket-call-at").textContent = callAt ? t("call_at", { time: callAt }) : "";
  let status = t(`ticket_${ticket.status}`, { room: roomName(ticket.room) });
  if (ticket.status === "therapist_confirmed" && !ticket.room) status = t("ticket_therapist_confirmed_no_room");
  $("#ticket-status").textContent = status;
  const called = (ticket.status === "therapist_confirmed" || ticket.status === "in_service") && ticket.room;
  $("#ticket-room").hidden = !called;
  $("#ticket-room").textContent = called ? `→ ${roomText(t, ticket.room)}` : "";
  $("#ticket").dataset.status = ticket.status;
  $("#ticket-cancel").hidden = !(waiting && state.cancellable);
  if (!waiting) {
    $("#ticket-actions").hidden = false;
    $("#ticket-cancel-confirm").hidden = true;
  }
}

async function cancelTicket(button) {
  const ticket = state.ticket;
  if (!ticket || !state.cancellable || !ticket.public_id) return;
  // The server cancels a kiosk's order only with the ticket's public id, which this page keeps
  // while the ticket is on screen and forgets when the next customer touches the kiosk.
  const ack = await whileBusy(button, () =>
    live.command("cancel_transaction", { transaction_id: ticket.transaction_id, ticket: ticket.public_id }, { keyed: true }),
  );
  if (!ack) return;
  $("#ticket-actions").hidden = false;
  $("#ticket-cancel-confirm").hidden = true;
  if (ack.ok) onTxnUpdate({ ...ack.transaction, transaction_id: ticket.transaction_id, version: ticket.version });
  else flash($("#ticket-error"), errorText(t, ack.error), 8000);
}

// ---- the customer's language -----------------------------------------------------------------

/** Reloads the page in `code`; only before an order is under way (attract, catalog), whose cart
 * comes back after the reload. */
function switchLanguage(code) {
  if (state.screen !== "attract" && state.screen !== "order") return;
  try {
    if (state.screen === "order") sessionStorage.setItem(RESUME_KEY, JSON.stringify({ screen: "order", cart: [...state.cart] }));
  } catch {
    // storage switched off: the language stays too (lib/language.js), nothing to resume
  }
  chooseLanguage(code);
  location.reload();
}

/** What a language switch left to resume, once: {screen: "order", cart: [[id, quantity]]} or null. */
function takeResume() {
  try {
    const raw = sessionStorage.getItem(RESUME_KEY);
    sessionStorage.removeItem(RESUME_KEY);
    const resume = raw && JSON.parse(raw);
    return resume && resume.screen === "order" && Array.isArray(resume.cart) ? resume : null;
  } catch {
    return null;
  }
}

function mountLanguageButtons() {
  document.documentElement.lang = languageOf(config);
  for (const slot of document.querySelectorAll("[data-language-slot]")) {
    const button = languageButton(config, switchLanguage);
    if (button) slot.replaceChildren(button);
  }
}

// ---- wiring -------------------------------------------------------------------------------

onAction(document.body, {
  start: () => {
    if (state.screen === "attract") show("order");
  },
  // A touch on the ticket away from its buttons may be the next customer's: the ticket stays to
  // be read, but it can no longer be cancelled from here (the front desk still can).
  "ticket-away": () => {
    if (state.screen !== "ticket" || !state.cancellable) return;
    clearTimeout(cancelTimer);
    state.cancellable = false;
    $("#ticket-actions").hidden = false;
    $("#ticket-cancel-confirm").hidden = true;
    renderTicket();
  },
  "start-over": () => toAttract(),
  add: (button) => changeQuantity(Number(button.dataset.serviceId), +1),
  inc: (button) => changeQuantity(Number(button.dataset.serviceId), +1),
  dec: (button) => changeQuantity(Number(button.dataset.serviceId), -1),
  "to-name": () => {
    if (state.cart.size === 0) return;
    renderName();
    show("name");
  },
  back: () => show("order"),
  confirm: (button) => confirm(button),
  done: () => toAttract(),
  "cancel-ask": () => {
    if (!state.cancellable) return;
    $("#ticket-actions").hidden = true;
    $("#ticket-cancel-confirm").hidden = false;
  },
  "cancel-no": () => {
    $("#ticket-actions").hidden = false;
    $("#ticket-cancel-confirm").hidden = true;
  },
  "cancel-yes": (button) => cancelTicket(button),
});

// Any touch keeps the current screen; taps never select text or open menus.
document.addEventListener("pointerdown", armIdle, true);
document.addEventListener("keydown", (event) => {
  armIdle();
  if (state.screen !== "name" || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Backspace") keyboard.press("backspace");
  else if (event.key === "Enter") $("#confirm").click();
  else if (event.key === " ") keyboard.press(" ");
  else if (Array.from(event.key).length === 1 && /^[\p{L}\p{N}'.-]$/u.test(event.key)) {
    // Lower case takes the keyboard's shift (the name's first letter); capitals stay as typed.
    if (event.key.toLocaleLowerCase() !== event.key) keyboard.typeText(event.key);
    else keyboard.press(event.key);
  } else return;
  event.preventDefault();
});
document.addEventListener("contextmenu", (event) => event.preventDefault());

function main() {
  applyStrings(document, t);
  renderCart();
  renderName();
  const token = deviceToken("kiosk");
  if (!token) {
    $("#no-token-text").textContent = t("no_token", { path: location.pathname });
    show("no-token");
    return;
  }
  mountLanguageButtons();
  const resume = takeResume();
  if (resume) {
    state.resumeCart = resume.cart.filter((line) => Array.isArray(line) && line.length === 2).map(([id, q]) => [Number(id), Number(q)]);
    show("order");
  } else {
    show("attract");
  }
  live = new Live({
    token,
    page: "kiosk",
    t,
    onConnect: async () => {
      await live.command("monitor_subscribe"); // for the intake in every queue change
      await loadIntake();
      await loadCatalog();
      if (state.ticket) await resubscribe();
    },
  }).start();
  live.on("customer_txn_update", onTxnUpdate);
  live.on("monitor_updated", (message) => {
    if (message && message.intake) onIntake(message.intake);
  });
  setInterval(() => live.connected && loadIntake(), INTAKE_MS);
  live.on("device_activity", armIdle); // the kiosk's appliance felt a touch
}

main();
