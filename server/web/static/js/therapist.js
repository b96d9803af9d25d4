// /therapist — a therapist's tablet or a room's screen: sign in (name + PIN, or a staff token),
// choose a room, go on and off shift, take the next customer, start, add a service, finish; the
// front desk's corrections on one's own customer (did not come, left, remove an item, undo a
// start or a finish); the live waiting queue with priority and unservable marks.
//
// Tokens: a room box opens /therapist#token=dv_… (its device token) and a signed-in therapist's
// session goes along as therapist_token; a tablet connects with the therapist's own session.

import { stored, textParam } from "./lib/config.js";
import { $, el, flash, onAction, roomText, setEnabled, statusText } from "./lib/dom.js";
import { VersionedState, whileBusy } from "./lib/live.js";
import { money } from "./lib/money.js";
import { allows, allowsAny, byCallOrder, byQueuePlace, queueSnapshot } from "./lib/queue.js";
import { StaffAccess } from "./lib/staffaccess.js";
import { localized } from "./office/i18n.js";
import { applyStrings, errorText } from "./strings.js";

const t = localized("therapist"); // the spa's language: German where translated, else English
const PAGE = "therapist";
// This screen's part of the moves a staff view lists as allowed (server/domain/moves.py): a
// customer it may take is waiting; one it may start, add to, finish or give back is with a therapist.
const TAKE = "claim_for_therapist";
const SERVING_MOVES = ["start_service", "add_service", "finish_service", "give_back"];
// The front desk's moves this screen makes on the therapist's own customer; transfers, picks out
// of order, priority and recalls are the desk's (/desk).
const OWN_CORRECTIONS = { "#no-show": "no_show", "#cancel-visit": "cancel", "#undo-start": "undo_start" };
// How long "Undo finish" stays offered: the server's default undo_window_s; it decides anyway and
// says so in plain words when the window has passed.
const UNDO_FINISH_MS = 120 * 1000;
const CLAIMS_KEPT = 20;
const ROOM = textParam("room", /^[\w .#-]{1,32}$/);

let catalog = null;
let selectedId = null;
let deskStaff = null; // a room box: who scanned their badge here (desk_signed_in), as far as this page heard
let clockSkew = 0; // this screen's clock minus the server's, from the last snapshot
let rooms = []; // the spa's rooms, from the roster
let me = null; // this therapist in the roster: {id, name, on_shift, room, skills, with}
let roomAsked = false; // the room question comes once per sign-in
let finished = null; // {id, code, view, until}: the last customer finished here, while it may be undone
let confirmAction = null; // what "yes" in the confirm dialog does
const txns = new Map(); // id → staff view, for waiting and with-therapist customers
const claimed = new Set(stored.get(PAGE, "claimed") || []); // ids this screen took

// ---- who is acting ----------------------------------------------------------------------

function myStaffId() {
  const { session } = access;
  return (session && session.staff && session.staff.id) || stored.get(PAGE, "staff_id");
}

/** The payload extras for an action: a room box acts for the signed-in therapist. */
function acting(payload = {}) {
  const token = access.device ? access.staffToken() : null;
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
  if (access.device && ROOM && view.room === ROOM) return true;
  return claimed.has(view.id);
}

function remember(view) {
  claimed.add(view.id);
  while (claimed.size > CLAIMS_KEPT) claimed.delete(claimed.values().next().value);
  stored.set(PAGE, "claimed", [...claimed]);
  if (!access.device && !myStaffId() && view.therapist) stored.set(PAGE, "staff_id", view.therapist.id);
}

// ---- state from the server -------------------------------------------------------------

function keep(view) {
  if (finished && view.id === finished.id) {
    if (view.status === "awaiting_payment") finished.view = view;
    else finished = null; // taken by a cashier, or back in treatment
  }
  const known = txns.get(view.id);
  if (known && known.row_version > view.row_version) return; // an older picture of it
  if (waiting(view) || withTherapist(view)) txns.set(view.id, view);
  else txns.delete(view.id);
  if (!withTherapist(view) && claimed.delete(view.id)) stored.set(PAGE, "claimed", [...claimed]);
}

const queue = new VersionedState({
  load: () => queueSnapshot(access.live),
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
  const { session, device } = access;
  const signedIn = Boolean(access.token());
  const name = session && session.staff ? session.staff.name : deskStaff ? deskStaff.name : null;
  $("#who").textContent = name ? t("signed_in_as", { name }) : t("title");
  const room = ROOM || (me && me.room);
  $("#room-label").textContent = room ? roomText(t, room) : "";
  $("#signout").hidden = !access.staffToken();
  $("#signin-open").hidden = !(device && !access.staffToken());
  $("#room-open").hidden = !(signedIn && !device && me);
  const shift = $("#shift");
  shift.hidden = !(signedIn && me);
  if (me) {
    shift.textContent = me.on_shift ? t("on_shift") : t("off_shift");
    shift.setAttribute("aria-pressed", me.on_shift ? "true" : "false");
    shift.classList.toggle("on", Boolean(me.on_shift));
  }
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
  setEnabled($("#next"), access.live && access.live.connected);
  if (current) {
    $("#cur-code").textContent = current.code;
    $("#cur-name").textContent = current.customer_name;
    $("#cur-status").textContent = [statusText(t, current.status), roomText(t, current.room)].filter(Boolean).join(" · ");
    $("#current").dataset.status = current.status;
    $("#cur-marks").replaceChildren(...marks(current));
    const removable = allows(current, "remove_item") && current.items.length > 1; // never the last one
    $("#cur-items").replaceChildren(
      ...current.items.map((item) =>
        el(
          "li",
          { class: removable ? "item removable" : "item", dataset: { itemId: item.id } },
          el("span", { class: "item-name", text: item.quantity > 1 ? `${item.name} × ${item.quantity}` : item.name }),
          el("span", { class: "item-min", text: t("minutes", { n: item.duration_min * item.quantity }) }),
          el("span", { class: "item-price", text: money(item.line_total) }),
          removable
            ? el("button", { type: "button", class: "quiet remove-item", dataset: { action: "remove-item", itemId: item.id }, text: t("remove_item") })
            : null,
        ),
      ),
    );
    $("#cur-total").textContent = `${money(current.total)} · ${t("minutes", { n: current.total_minutes })}`;
    setEnabled($("#start"), allows(current, "start_service"));
    setEnabled($("#add"), allows(current, "add_service"));
    setEnabled($("#finish"), allows(current, "finish_service"));
    setEnabled($("#release"), allows(current, "give_back"));
    for (const [selector, move] of Object.entries(OWN_CORRECTIONS)) $(selector).hidden = !allows(current, move);
  }
  const undoable = finished && finished.view;
  const undoFinish = $("#undo-finish");
  undoFinish.hidden = !(undoable && allows(undoable, "undo_finish") && Date.now() < finished.until);
  if (!undoFinish.hidden) undoFinish.textContent = t("undo_finish", { code: finished.code });

  const now = Date.now();
  const queued = [...txns.values()].filter(waiting).sort(byCallOrder);
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
          v.priority || v.unservable ? el("span", { class: "marks" }, ...marks(v)) : null,
        ),
        el("span", { class: "queue-wait", text: waitedText(v, now) }),
      ),
    ),
  );
}

/** The front desk's marks on a customer: priority, and nobody on shift able to do it all. */
function marks(view) {
  const out = [];
  if (view.priority) out.push(el("span", { class: "mark mark-priority", text: t("priority_mark") }));
  if (view.unservable && waiting(view)) out.push(el("span", { class: "mark mark-unservable", text: t("unservable") }));
  return out;
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
  if (access.device && access.staffToken() && error.code === "forbidden" && /therapist_token/.test(error.message || "")) {
    access.forget(); // the sign-in ended: the room box carries on as itself
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
  const ack = await whileBusy(button, () => access.live.command("therapist_confirm_next", payload, { keyed: true }));
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
  const ack = await whileBusy(button, () => access.live.command(event, acting({ transaction_id: current.id }), { keyed: true }));
  if (!ack) return;
  if (ack.ok) {
    keep(ack.transaction);
    if (event === "therapist_finish_service") {
      finished = { id: current.id, code: current.code, view: ack.transaction, until: Date.now() + UNDO_FINISH_MS };
      setTimeout(render, UNDO_FINISH_MS + 50); // the button goes when the window does
    }
  }
  report(ack, notice && notice(current));
  render();
  return ack;
}

/** Asks before a move that takes the customer away or changes the bill. */
function confirmFirst({ title, text = "", yes, run }) {
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-text").hidden = !text;
  $("#confirm-yes").textContent = yes;
  confirmAction = run;
  $("#confirm-dialog").hidden = false;
}

function closeConfirm() {
  $("#confirm-dialog").hidden = true;
  confirmAction = null;
}

async function undoFinish(button) {
  if (!finished) return;
  const id = finished.id;
  const ack = await whileBusy(button, () => access.live.command("front_desk_undo_finish", acting({ transaction_id: id }), { keyed: true }));
  if (!ack) return;
  if (ack.ok) {
    finished = null;
    remember(ack.transaction);
    keep(ack.transaction);
    selectedId = ack.transaction.id;
  }
  report(ack, ack.ok ? t("finish_undone", { code: ack.transaction.code }) : null);
  render();
}

function removeItem(button) {
  const current = txns.get(selectedId);
  const itemId = Number(button.dataset.itemId);
  const item = current && current.items.find((i) => i.id === itemId);
  if (!item) return;
  confirmFirst({
    title: t("remove_title", { service: item.name, code: current.code }),
    text: t("remove_text"),
    yes: t("remove_item"),
    run: async (yes) => {
      const payload = acting({ transaction_id: current.id, item_id: itemId });
      const ack = await whileBusy(yes, () => access.live.command("front_desk_remove_item", payload, { keyed: true }));
      if (!ack) return;
      if (ack.ok) keep(ack.transaction);
      report(ack, t("item_removed", { service: item.name }));
      closeConfirm();
      render();
    },
  });
}

// ---- rooms and shifts ------------------------------------------------------------------

async function loadRoster() {
  const ack = await access.live.command("staff_roster");
  if (ack.ok) applyRoster(ack);
}

function applyRoster(roster) {
  const id = myStaffId() || (deskStaff && deskStaff.id);
  me = id ? roster.therapists.find((th) => th.id === id) || null : null;
  rooms = roster.rooms || [];
  // A therapist signed in on a tablet says where they work, once; a room box is its room.
  if (me && !access.device && !ROOM && !me.room && !roomAsked && stored.get(PAGE, "room_asked") !== signInMark()) {
    roomAsked = true;
    stored.set(PAGE, "room_asked", signInMark()); // "No room" is an answer: not asked again on a reload
    openRooms();
  }
  render();
}

/** This sign-in, without its secret: who and until when. */
function signInMark() {
  const { session } = access;
  return `${me ? me.id : ""}:${(session && session.expires_at) || ""}`;
}

function openRooms() {
  flash($("#room-error"), "", 0);
  $("#room-list").replaceChildren(
    ...rooms.map((r) =>
      el("button", { type: "button", class: me && me.room === r.name ? "room-choice selected" : "room-choice", dataset: { action: "room", room: r.name } }, r.name),
    ),
    el("button", { type: "button", class: "room-choice quiet", dataset: { action: "room", room: "" } }, t("no_room")),
  );
  $("#room-dialog").hidden = false;
}

async function chooseRoom(button) {
  const room = button.dataset.room || null;
  const ack = await whileBusy(button, () => access.live.command("therapist_choose_room", acting({ room })));
  if (!ack) return;
  if (!ack.ok) {
    flash($("#room-error"), errorText(t, ack.error), 10000);
    return;
  }
  $("#room-dialog").hidden = true;
  applyRoster(ack);
}

async function toggleShift(button) {
  if (!me) return;
  const event = me.on_shift ? "shift_end" : "shift_start";
  const ack = await whileBusy(button, () => access.live.command(event, acting({})));
  if (!ack) return;
  if (ack.ok) applyRoster(ack);
  report(ack, ack.ok && !ack.on_shift ? t("off_shift_hint") : null);
  render();
}

async function openAdd() {
  const dialog = $("#add-dialog");
  if (!catalog) {
    const ack = await access.live.command("service_catalog");
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
  const ack = await whileBusy(button, () => access.live.command("therapist_add_service", payload, { keyed: true }));
  if (!ack) return;
  $("#add-dialog").hidden = true;
  if (ack.ok) keep(ack.transaction);
  const service = catalog.find((s) => s.id === serviceId);
  report(ack, t("added", { service: service ? service.name : "" }));
  render();
}

// ---- signing in and connecting ---------------------------------------------------------

const access = new StaffAccess({
  page: PAGE,
  t,
  roles: ["therapist", "admin"],
  work: $("#work"),
  onConnect: async (live) => {
    catalog = null; // fetched again when next needed: the catalog may have changed
    await live.command("therapist_subscribe");
    await Promise.all([queue.resync(), loadRoster()]);
  },
  listen: (live) => {
    catalog = null; // another token: fetched again through the new connection
    live.on("therapist_queue_updated", (message) => queue.receive(message));
    live.on("roster_updated", (roster) => {
      if (roster && Array.isArray(roster.therapists)) applyRoster(roster);
      queue.resync(); // who is on shift changed: the unservable marks with it
    });
    live.on("desk_signed_in", (result) => {
      deskStaff = result && result.staff ? result.staff : null;
      loadRoster();
      render();
    });
    live.on("desk_signed_out", () => {
      deskStaff = null;
      render();
    });
  },
  // A room box keeps its room's customers; a tablet starts afresh.
  forget: () => {
    me = null;
    roomAsked = false;
    stored.set(PAGE, "room_asked", null);
    finished = null;
    $("#room-dialog").hidden = true;
    stored.set(PAGE, "staff_id", null);
    if (access.device) return;
    stored.set(PAGE, "claimed", null);
    claimed.clear();
    txns.clear();
    queue.version = null;
  },
  render,
  onSignIn: () => stored.set(PAGE, "staff_id", null),
  onShowSignIn: () => {
    $("#signin-open").hidden = true;
    const cancel = $("#signin .signin-cancel");
    if (cancel) cancel.hidden = !access.device; // a room box works without anyone signed in
  },
  onCancel: () => access.enter(),
  keepDevice: true, // a room box carries on as itself
});

onAction(document.body, {
  "signin-open": () => access.showSignIn(),
  signout: () => access.restart(),
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
  "no-show": () => {
    const current = txns.get(selectedId);
    if (!current) return;
    confirmFirst({
      title: t("no_show_title", { code: current.code }),
      text: t("no_show_text"),
      yes: t("no_show"),
      run: async (yes) => {
        await step(yes, "front_desk_no_show", (v) => t("no_showed", { code: v.code }));
        closeConfirm();
      },
    });
  },
  "cancel-visit": () => {
    const current = txns.get(selectedId);
    if (!current) return;
    confirmFirst({
      title: t("cancel_title", { code: current.code }),
      text: t("cancel_text"),
      yes: t("cancel_visit"),
      run: async (yes) => {
        // A room box sends no therapist token here: the claim it holds is its own.
        const ack = await whileBusy(yes, () =>
          access.live.command("cancel_transaction", { transaction_id: current.id, reason: "left" }, { keyed: true }),
        );
        if (ack) {
          if (ack.ok) keep(ack.transaction);
          report(ack, t("cancelled", { code: current.code }));
        }
        closeConfirm();
        render();
      },
    });
  },
  "undo-start": (button) => step(button, "front_desk_undo_start", (v) => t("start_undone", { code: v.code })),
  "undo-finish": (button) => undoFinish(button),
  "remove-item": (button) => removeItem(button),
  "confirm-no": () => closeConfirm(),
  "confirm-yes": (button) => {
    if (confirmAction) confirmAction(button);
  },
  "room-open": () => openRooms(),
  room: (button) => chooseRoom(button),
  shift: (button) => toggleShift(button),
});
document.addEventListener("contextmenu", (event) => event.preventDefault());

applyStrings(document, t);
access.start(render); // waiting times move on
