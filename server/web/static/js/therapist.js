// /therapist — a therapist's tablet or a room's screen: sign in (name + PIN, or a staff token),
// take the next customer, start, add a service, finish; the live waiting queue.
//
// Tokens: a room box opens /therapist#token=dv_… (its device token) and a signed-in therapist's
// session goes along as therapist_token; a tablet connects with the therapist's own session.

import { deviceToken, stored, textParam } from "./lib/config.js";
import { $, el, flash, onAction, roomText, setEnabled, showOnly, statusText } from "./lib/dom.js";
import { Live, VersionedState, whileBusy } from "./lib/live.js";
import { money } from "./lib/money.js";
import { allows, allowsAny, byQueuePlace } from "./lib/queue.js";
import { SignIn, saveSession, savedSession, signOut } from "./lib/signin.js";
import { applyStrings, errorText, strings } from "./strings.js";

const t = strings("therapist");
const PAGE = "therapist";
// This screen's part of the moves a staff view lists as allowed (server/domain/moves.py): a
// customer it may take is waiting; one it may start, add to, finish or give back is with a therapist.
const TAKE = "claim_for_therapist";
const SERVING_MOVES = ["start_service", "add_service", "finish_service", "give_back"];
const CLAIMS_KEPT = 20;
const ROOM = textParam("room", /^[\w .#-]{1,32}$/);

const fromAddress = deviceToken(PAGE);
const device = fromAddress && fromAddress.startsWith("dv_") ? fromAddress : null;
if (fromAddress && !device) stored.set(PAGE, "staff_token", fromAddress); // a staff token in the address

let session = savedSession(PAGE); // {token, staff: {id, name, role}, expires_at}
let live = null;
let catalog = null;
let selectedId = null;
let deskStaff = null; // a room box: who scanned their badge here (desk_signed_in), as far as this page heard
let clockSkew = 0; // this screen's clock minus the server's, from the last snapshot
const txns = new Map(); // id → staff view, for waiting and with-therapist customers
const claimed = new Set(stored.get(PAGE, "claimed") || []); // ids this screen took

// ---- who is acting ----------------------------------------------------------------------

function staffToken() {
  return (session && session.token) || stored.get(PAGE, "staff_token");
}

function myStaffId() {
  return (session && session.staff && session.staff.id) || stored.get(PAGE, "staff_id");
}

/** The payload extras for an action: a room box acts for the signed-in therapist. */
function acting(payload = {}) {
  const token = device ? staffToken() : null;
  return token ? { ...payload, therapist_token: token } : payload;
}

function waiting(view) {
  return allows(view, TAKE);
}

function withTherapist(view) {
  return allowsAny(view, SERVING_MOVES);
}

function isMine(view) {
  if (!withTherapist(view)) return false;
  const me = myStaffId() || (deskStaff && deskStaff.id);
  if (me && view.therapist && view.therapist.id === me) return true;
  // A room box: whatever its buttons (through its appliance) or this screen took for this room.
  if (device && ROOM && view.room === ROOM) return true;
  return claimed.has(view.id);
}

function remember(view) {
  claimed.add(view.id);
  while (claimed.size > CLAIMS_KEPT) claimed.delete(claimed.values().next().value);
  stored.set(PAGE, "claimed", [...claimed]);
  if (!device && !myStaffId() && view.therapist) stored.set(PAGE, "staff_id", view.therapist.id);
}

// ---- state from the server -------------------------------------------------------------

function keep(view) {
  const known = txns.get(view.id);
  if (known && known.row_version > view.row_version) return; // an older picture of it
  if (waiting(view) || withTherapist(view)) txns.set(view.id, view);
  else txns.delete(view.id);
  if (!withTherapist(view) && claimed.delete(view.id)) stored.set(PAGE, "claimed", [...claimed]);
}

const queue = new VersionedState({
  load: async () => {
    const ack = await live.command("queue_snapshot");
    return ack.ok ? ack : null;
  },
  reset: (snapshot) => {
    const serverNow = Date.parse(snapshot.server_time);
    if (Number.isFinite(serverNow)) clockSkew = Date.now() - serverNow;
    txns.clear();
    for (const view of [...snapshot.waiting, ...snapshot.with_therapist]) txns.set(view.id, view);
  },
  apply: (message) => keep(message.transaction),
  render: () => render(),
});

// ---- rendering -------------------------------------------------------------------------

function mine() {
  return [...txns.values()].filter(isMine).sort(byQueuePlace);
}

function render() {
  const signedIn = Boolean(device || staffToken());
  const name = session && session.staff ? session.staff.name : deskStaff ? deskStaff.name : null;
  $("#who").textContent = name ? t("signed_in_as", { name }) : t("title");
  $("#room-label").textContent = ROOM ? roomText(t, ROOM) : "";
  $("#signout").hidden = !staffToken();
  $("#signin-open").hidden = !(device && !staffToken());
  if (!signedIn) return;

  const my = mine();
  if (!my.some((v) => v.id === selectedId)) selectedId = my.length ? my[0].id : null;
  $("#mine").replaceChildren(
    ...(my.length > 1
      ? my.map((v) =>
          el(
            "button",
            { type: "button", class: v.id === selectedId ? "chip selected" : "chip", dataset: { action: "select", id: v.id } },
            v.code,
          ),
        )
      : []),
  );
  const current = selectedId ? txns.get(selectedId) : null;
  $("#current").hidden = !current;
  $("#current-empty").hidden = Boolean(current);
  setEnabled($("#next"), live && live.connected);
  if (current) {
    $("#cur-code").textContent = current.code;
    $("#cur-name").textContent = current.customer_name;
    $("#cur-status").textContent = [statusText(t, current.status), roomText(t, current.room)].filter(Boolean).join(" · ");
    $("#current").dataset.status = current.status;
    $("#cur-items").replaceChildren(
      ...current.items.map((item) =>
        el(
          "li",
          { class: "item" },
          el("span", { class: "item-name", text: item.quantity > 1 ? `${item.name} × ${item.quantity}` : item.name }),
          el("span", { class: "item-min", text: t("minutes", { n: item.duration_min * item.quantity }) }),
          el("span", { class: "item-price", text: money(item.line_total) }),
        ),
      ),
    );
    $("#cur-total").textContent = `${money(current.total)} · ${t("minutes", { n: current.total_minutes })}`;
    setEnabled($("#start"), allows(current, "start_service"));
    setEnabled($("#add"), allows(current, "add_service"));
    setEnabled($("#finish"), allows(current, "finish_service"));
    setEnabled($("#release"), allows(current, "give_back"));
  }

  const now = Date.now();
  const queued = [...txns.values()].filter(waiting).sort(byQueuePlace);
  $("#waiting-count").textContent = queued.length ? `(${queued.length})` : "";
  $("#waiting-empty").hidden = queued.length > 0;
  $("#waiting").replaceChildren(
    ...queued.slice(0, 50).map((v) =>
      el(
        "li",
        { class: "queue-row", dataset: { code: v.code, id: v.id } },
        el("span", { class: "code", text: v.code }),
        el(
          "span",
          { class: "queue-who" },
          el("span", { class: "queue-name", text: v.customer_name }),
          el("span", { class: "queue-items", text: v.items.map((i) => (i.quantity > 1 ? `${i.name} × ${i.quantity}` : i.name)).join(", ") }),
        ),
        el("span", { class: "queue-wait", text: waitedText(v, now) }),
      ),
    ),
  );
}

/** How long a customer has been waiting, from the queue's own clock. */
function waitedText(view, now) {
  const since = Date.parse(view.queue_since);
  if (!Number.isFinite(since)) return "";
  return t("waited", { n: Math.max(0, Math.floor((now - since - clockSkew) / 60000)) });
}

// ---- actions ---------------------------------------------------------------------------

function report(ack, notice) {
  const error = ack.error || {};
  if (device && staffToken() && error.code === "forbidden" && /therapist_token/.test(error.message || "")) {
    forget(); // the sign-in ended: the room box carries on as itself
    flash($("#work-error"), t("session_over"), 10000);
    render();
    return;
  }
  if (ack.ok) {
    flash($("#work-error"), "", 0);
    if (notice) flash($("#work-notice"), notice);
  } else {
    flash($("#work-notice"), "", 0);
    flash($("#work-error"), errorText(t, ack.error), 10000);
  }
}

async function next(button) {
  const payload = acting(ROOM ? { room: ROOM } : {});
  const ack = await whileBusy(button, () => live.command("therapist_confirm_next", payload, { keyed: true }));
  if (!ack) return;
  if (ack.ok) {
    remember(ack.transaction);
    keep(ack.transaction);
    selectedId = ack.transaction.id;
  }
  report(ack);
  render();
}

async function step(button, event, notice) {
  const current = txns.get(selectedId);
  if (!current) return;
  const ack = await whileBusy(button, () => live.command(event, acting({ transaction_id: current.id }), { keyed: true }));
  if (!ack) return;
  if (ack.ok) keep(ack.transaction);
  report(ack, notice && notice(current));
  render();
}

async function openAdd() {
  const dialog = $("#add-dialog");
  if (!catalog) {
    const ack = await live.command("service_catalog");
    if (!ack.ok) {
      report(ack);
      return;
    }
    catalog = ack.services.filter((s) => s.active !== false);
  }
  $("#add-list").replaceChildren(
    ...catalog.map((s) =>
      el(
        "button",
        { type: "button", class: "add-service", dataset: { action: "add", serviceId: s.id } },
        el("span", { class: "add-name", text: s.name }),
        el("span", { class: "add-meta", text: `${t("minutes", { n: s.duration_min })} · ${money(s.price)}` }),
      ),
    ),
  );
  dialog.hidden = false;
}

async function addService(button) {
  const current = txns.get(selectedId);
  const serviceId = Number(button.dataset.serviceId);
  if (!current) return;
  const payload = acting({ transaction_id: current.id, service_id: serviceId, quantity: 1 });
  const ack = await whileBusy(button, () => live.command("therapist_add_service", payload, { keyed: true }));
  if (!ack) return;
  $("#add-dialog").hidden = true;
  if (ack.ok) keep(ack.transaction);
  const service = catalog.find((s) => s.id === serviceId);
  report(ack, t("added", { service: service ? service.name : "" }));
  render();
}

// ---- signing in and connecting ---------------------------------------------------------

const signIn = new SignIn($("#signin"), {
  t,
  roles: ["therapist", "admin"],
  allowToken: true,
  onSignedIn: (newSession) => {
    session = newSession;
    saveSession(PAGE, session);
    stored.set(PAGE, "staff_id", null);
    enter();
  },
  onToken: (token) => {
    session = null;
    saveSession(PAGE, null);
    stored.set(PAGE, "staff_token", token);
    stored.set(PAGE, "staff_id", null);
    enter();
  },
  onCancel: () => enter(),
});

function showSignIn(message) {
  showOnly([$("#signin"), $("#work")], $("#signin"));
  $("#signin-open").hidden = true;
  const cancel = $("#signin .signin-cancel");
  if (cancel) cancel.hidden = !device; // a room box works without anyone signed in
  signIn.open();
  if (message) flash($("#signin .signin-error"), message, 10000);
  render();
}

/** Shows the work screen, connected with the right token. */
function enter() {
  const token = device || staffToken();
  if (!token) {
    showSignIn();
    return;
  }
  showOnly([$("#signin"), $("#work")], $("#work"));
  if (!live || live.token !== token) {
    if (live) live.stop();
    catalog = null;
    live = new Live({
      token,
      page: PAGE,
      t,
      onConnect: async () => {
        catalog = null; // fetched again when next needed: the catalog may have changed
        await live.command("therapist_subscribe");
        await queue.resync();
      },
      onRefused: () => {
        if (device) return; // the banner says it; a device token is fixed by provisioning
        forget();
        live.stop();
        live = null;
        showSignIn(t("refused"));
      },
    }).start();
    live.on("therapist_queue_updated", (message) => queue.receive(message));
    live.on("desk_signed_in", (result) => {
      deskStaff = result && result.staff ? result.staff : null;
      render();
    });
    live.on("desk_signed_out", () => {
      deskStaff = null;
      render();
    });
  }
  render();
}

/** Forgets who was signed in. A room box keeps its room's customers; a tablet starts afresh. */
function forget() {
  signOut(PAGE, session);
  session = null;
  stored.set(PAGE, "staff_token", null);
  stored.set(PAGE, "staff_id", null);
  if (device) return;
  stored.set(PAGE, "claimed", null);
  claimed.clear();
  txns.clear();
  queue.version = null;
}

onAction(document.body, {
  "signin-open": () => showSignIn(),
  signout: () => {
    forget();
    if (!device && live) {
      live.stop();
      live = null;
    }
    enter();
  },
  next: (button) => next(button),
  select: (button) => {
    selectedId = Number(button.dataset.id);
    render();
  },
  start: (button) => step(button, "therapist_start_service"),
  finish: (button) => step(button, "therapist_finish_service", (v) => t("finished", { code: v.code })),
  release: (button) => step(button, "therapist_release", (v) => t("released", { code: v.code })),
  "add-open": () => openAdd(),
  "add-close": () => {
    $("#add-dialog").hidden = true;
  },
  add: (button) => addService(button),
});
document.addEventListener("contextmenu", (event) => event.preventDefault());

applyStrings(document, t);
enter();
setInterval(() => {
  if (session && !savedSession(PAGE)) {
    // A sign-in lasts a working day; then the screen asks again.
    forget();
    if (!device && live) {
      live.stop();
      live = null;
    }
    enter();
    return;
  }
  if (live) render(); // waiting times move on
}, 30000);
