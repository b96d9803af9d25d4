// /kiosk — the reception touch kiosk: attract screen, catalog and cart, the customer's name on
// an on-screen keyboard, then the ticket (code, place in queue, wait) updating live.

import { config, contract, deviceToken, numberParam } from "./lib/config.js";
import { $, el, flash, onAction, roomName, setEnabled, showOnly, waitText } from "./lib/dom.js";
import { NameKeyboard } from "./lib/keypad.js";
import { Live, whileBusy } from "./lib/live.js";
import { money, toCents } from "./lib/money.js";
import { applyStrings, errorText, strings } from "./strings.js";

const t = strings("kiosk");
// The server's limits (common/wire.py Limits, through the page config): of one service, services
// in one order, characters in a name.
const MAX_QUANTITY = contract.limits.max_quantity;
const MAX_LINES = contract.limits.max_items;
const MAX_NAME = contract.limits.max_name;
const IDLE_MS = numberParam("idle", config.kiosk.idle_s, 1, 3600) * 1000;
const TICKET_MS = numberParam("ticket", config.kiosk.ticket_s, 1, 3600) * 1000;
const CATALOG_RETRY_MS = 5000;

const screens = {
  attract: $("#attract"),
  order: $("#order"),
  name: $("#name"),
  ticket: $("#ticket"),
  "no-token": $("#no-token"),
};

const state = {
  screen: "attract",
  catalog: [], // [{id, name, price, duration_min}]
  cart: new Map(), // service id → quantity, in the order chosen
  ticket: null, // what customer_txn_update and the acknowledgements say about the order made here
  confirming: false,
};

let live = null;
let idleTimer = null;
let catalogTimer = null;

const keyboard = new NameKeyboard($("#keyboard"), {
  labels: { shift: t("shift"), backspace: t("backspace"), " ": t("space"), accents: t("accents"), letters: t("letters") },
  maxLength: MAX_NAME,
  onChange: () => renderName(),
});

// ---- screens and the idle timeout --------------------------------------------------------

function show(screen) {
  state.screen = screen;
  showOnly(Object.values(screens), screens[screen]);
  armIdle();
}

function armIdle() {
  clearTimeout(idleTimer);
  if (state.screen === "attract" || state.screen === "no-token") return;
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
  state.cart.clear();
  state.ticket = null;
  keyboard.clear();
  for (const error of document.querySelectorAll(".error")) flash(error, "", 0);
  renderCatalog();
  renderCart();
  renderName();
  show("attract");
  if (live && live.connected) loadCatalog(); // the catalog may have changed meanwhile
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
  const field = $(".name-field");
  field.scrollLeft = field.scrollWidth; // a long name shows its end, where the typing is
  const count = cartCount();
  $("#name-summary").textContent = `${count === 1 ? t("items_count_one") : t("items_count", { n: count })} · ${money(cartTotalCents())}`;
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
    if (ack.error.code === "unknown_service") {
      await loadCatalog(); // withdrawn meanwhile: the cart keeps only what is still offered
      renderName();
    }
    return;
  }
  state.ticket = {
    version: 0,
    transaction_id: ack.transaction_id,
    code: ack.code,
    status: ack.status,
    position: ack.position,
    estimated_wait_min: ack.estimated_wait_min,
    room: null,
    cashier_desk: null,
  };
  state.cart.clear();
  keyboard.clear();
  renderCatalog();
  renderCart();
  renderTicket();
  show("ticket");
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
  $("#ticket-wait").textContent = waitText(t, ticket.estimated_wait_min);
  let status = t(`ticket_${ticket.status}`, { room: roomName(ticket.room) });
  if (ticket.status === "therapist_confirmed" && !ticket.room) status = t("ticket_therapist_confirmed_no_room");
  $("#ticket-status").textContent = status;
  $("#ticket").dataset.status = ticket.status;
  $("#ticket-cancel").hidden = !waiting;
  if (!waiting) {
    $("#ticket-actions").hidden = false;
    $("#ticket-cancel-confirm").hidden = true;
  }
}

async function cancelTicket(button) {
  const ticket = state.ticket;
  if (!ticket) return;
  const ack = await whileBusy(button, () =>
    live.command("cancel_transaction", { transaction_id: ticket.transaction_id }, { keyed: true }),
  );
  if (!ack) return;
  $("#ticket-actions").hidden = false;
  $("#ticket-cancel-confirm").hidden = true;
  if (ack.ok) onTxnUpdate({ ...ack.transaction, transaction_id: ticket.transaction_id, version: ticket.version });
  else flash($("#ticket-error"), errorText(t, ack.error), 8000);
}

// ---- wiring -------------------------------------------------------------------------------

onAction(document.body, {
  start: () => {
    if (state.screen === "attract") show("order");
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
  else if (event.key.length === 1 && /[\p{L}' -]/u.test(event.key)) keyboard.press(event.key.toLocaleLowerCase());
  else return;
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
  show("attract");
  live = new Live({
    token,
    page: "kiosk",
    t,
    onConnect: async () => {
      await loadCatalog();
      if (state.ticket) await resubscribe();
    },
  }).start();
  live.on("customer_txn_update", onTxnUpdate);
  live.on("device_activity", armIdle); // the kiosk's appliance felt a touch
}

main();
