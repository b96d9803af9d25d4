// /desk — the front desk's screen (1280×800): the whole queue in call order, the customers with
// therapists and at the till, the no-shows that may still be recalled and the therapists on shift;
// for the customer chosen, the corrections the server allows now (its staff view's "allowed").
//
// Tokens: a desk, admin or cashier signs in with name + PIN (a staff session, ss_…); a till's
// device token (/desk#token=dv_…) works too: in a small spa the till is the front desk.

import { stored } from "./lib/config.js";
import { $, el, flash, onAction, roomText, setEnabled, statusText } from "./lib/dom.js";
import { VersionedState, whileBusy } from "./lib/live.js";
import { money } from "./lib/money.js";
import { allows, byCallOrder, byQueuePlace, queueSnapshot } from "./lib/queue.js";
import { StaffAccess } from "./lib/staffaccess.js";
import { localized } from "./office/i18n.js";
import { applyStrings, errorText } from "./strings.js";

const t = localized("desk"); // the spa's language: German where translated, else English
const PAGE = "desk";

// The moves this screen offers, in the order of its buttons (server/domain/moves.py names them).
// A therapist's and a till's own moves (start, finish, pay…) stay on their screens.
const DESK_MOVES = [
  "assign",
  "prioritise",
  "no_show",
  "give_back",
  "transfer",
  "undo_start",
  "undo_finish",
  "recall",
  "cancel",
  "remove_item",
];
const CANCEL_REASONS = ["left", "duplicate", "other"];
const PRIORITY_REASONS = ["appointment", "vip", "other"];
const WAITING = "pending_therapist";
const SERVING = ["therapist_confirmed", "in_service", "awaiting_payment", "paying"];
const NO_SHOW = "no_show";

let selectedId = null;
let clockSkew = 0; // this screen's clock minus the server's
let intake = null;
let roster = { therapists: [], rooms: [] };
const txns = new Map(); // id → staff view: waiting, with a therapist, to pay, recallable no-shows
const recallUntil = new Map(); // no-show id → ms (server clock) until which it may be recalled
let dialogAction = null; // what "yes" in the open dialog does

function serverNow() {
  return Date.now() - clockSkew;
}

// ---- state from the server -------------------------------------------------------------

function keep(view) {
  const known = txns.get(view.id);
  if (known && known.row_version > view.row_version) return; // an older picture of it
  if (view.status === WAITING || SERVING.includes(view.status)) {
    txns.set(view.id, { ...(known || {}), ...view });
  } else if (view.status === NO_SHOW) {
    txns.set(view.id, view);
    if (!recallUntil.has(view.id)) queue.resync(); // the snapshot says until when
  } else {
    txns.delete(view.id);
    recallUntil.delete(view.id);
  }
  if (view.status !== NO_SHOW) recallUntil.delete(view.id);
}

const queue = new VersionedState({
  load: () => queueSnapshot(access.live),
  reset: (snapshot) => {
    const serverTime = Date.parse(snapshot.server_time);
    if (Number.isFinite(serverTime)) clockSkew = Date.now() - serverTime;
    intake = snapshot.intake || null;
    txns.clear();
    recallUntil.clear();
    for (const view of [...snapshot.waiting, ...snapshot.with_therapist, ...snapshot.awaiting_payment, ...snapshot.paying]) {
      txns.set(view.id, view);
    }
    for (const view of snapshot.no_shows || []) {
      txns.set(view.id, view);
      recallUntil.set(view.id, Date.parse(view.recall_until));
    }
  },
  apply: (message) => keep(message.transaction),
  render,
});

async function loadRoster() {
  const ack = await access.live.command("staff_roster");
  if (ack.ok) roster = { therapists: ack.therapists, rooms: ack.rooms };
  render();
}

// ---- rendering -------------------------------------------------------------------------

function itemsText(view) {
  return view.items.map((i) => (i.quantity > 1 ? `${i.name} × ${i.quantity}` : i.name)).join(", ");
}

function marks(view) {
  const out = [];
  if (view.priority) {
    const reason = view.priority_reason ? t(`priority_${view.priority_reason}`) : "";
    out.push(el("span", { class: "mark mark-priority", text: reason ? `${t("priority_mark")} · ${reason}` : t("priority_mark") }));
  }
  if (view.status === WAITING && view.unservable) out.push(el("span", { class: "mark mark-unservable", text: t("unservable") }));
  return out;
}

function minutesLeft(view) {
  const until = recallUntil.get(view.id);
  if (!Number.isFinite(until)) return null;
  return Math.max(0, Math.ceil((until - serverNow()) / 60000));
}

function row(view, details, aside = null) {
  return el(
    "li",
    {
      class: view.id === selectedId ? "desk-row selected" : "desk-row",
      dataset: { action: "select", id: view.id, code: view.code, status: view.status },
      role: "button",
      tabindex: "0",
    },
    el("span", { class: "code", text: view.code }),
    el("span", { class: "queue-who" }, el("span", { class: "queue-name", text: view.customer_name }), ...details),
    aside,
  );
}

function servingText(view) {
  const parts = [statusText(t, view.status)];
  if (view.therapist && view.status !== "awaiting_payment" && view.status !== "paying") parts.push(view.therapist.name);
  if (view.room && (view.status === "therapist_confirmed" || view.status === "in_service")) parts.push(roomText(t, view.room));
  if (view.cashier_desk && view.status === "paying") parts.push(view.cashier_desk);
  return parts.join(" · ");
}

function render() {
  const { session, device } = access;
  const signedIn = Boolean(access.token());
  $("#desk-who").textContent = session && session.staff ? session.staff.name : device ? t("till") : "";
  $("#desk-signout").hidden = !(session || stored.get(PAGE, "staff_token"));
  $("#intake").textContent = intake ? t(`intake_${intake.state}`) : "";
  $("#intake").dataset.state = intake ? intake.state : "";
  if (!signedIn) return;

  const all = [...txns.values()];
  const waiting = all.filter((v) => v.status === WAITING).sort(byCallOrder);
  const serving = all.filter((v) => SERVING.includes(v.status)).sort((a, b) => SERVING.indexOf(a.status) - SERVING.indexOf(b.status) || byQueuePlace(a, b));
  const noShows = all.filter((v) => v.status === NO_SHOW && minutesLeft(v) !== 0).sort(byQueuePlace);
  if (selectedId !== null && !txns.has(selectedId)) selectedId = null;

  const now = serverNow();
  $("#waiting-count").textContent = waiting.length ? `(${waiting.length})` : "";
  $("#waiting-empty").hidden = waiting.length > 0;
  $("#waiting").replaceChildren(
    ...waiting.map((v, i) =>
      row(
        v,
        [el("span", { class: "queue-items", text: itemsText(v) }), v.priority || v.unservable ? el("span", { class: "marks" }, ...marks(v)) : null],
        el(
          "span",
          { class: "queue-aside" },
          el("span", { class: "place", text: t("place", { n: i + 1 }) }),
          el("span", { class: "queue-wait", text: t("waited", { n: Math.max(0, Math.floor((now - Date.parse(v.queue_since)) / 60000)) }) }),
        ),
      ),
    ),
  );
  $("#serving-empty").hidden = serving.length > 0;
  $("#serving").replaceChildren(...serving.map((v) => row(v, [el("span", { class: "queue-items", text: servingText(v) })])));
  $("#no-shows-empty").hidden = noShows.length > 0;
  $("#no-shows").replaceChildren(
    ...noShows.map((v) => row(v, [el("span", { class: "queue-items recall-left", text: t("recall_left", { n: minutesLeft(v) }) })])),
  );
  $("#roster").replaceChildren(
    ...roster.therapists.map((th) =>
      el(
        "li",
        { class: th.on_shift ? "roster-row on-shift" : "roster-row", dataset: { staffId: th.id } },
        el(
          "span",
          { class: "queue-who" },
          el("span", { class: "queue-name", text: th.name }),
          el("span", { class: "queue-items", text: [roomText(t, th.room), th.with.join(", ")].filter(Boolean).join(" · ") || "\u00a0" }),
        ),
        el("button", {
          type: "button",
          class: th.on_shift ? "shift-toggle on" : "shift-toggle",
          "aria-pressed": th.on_shift ? "true" : "false",
          dataset: { action: "shift", staffId: th.id, on: th.on_shift ? "1" : "" },
          text: th.on_shift ? t("on_shift") : t("off_shift"),
        }),
      ),
    ),
  );
  renderDetail();
}

function renderDetail() {
  const view = selectedId !== null ? txns.get(selectedId) : null;
  $("#detail").hidden = !view;
  $("#detail-empty").hidden = Boolean(view);
  if (!view) return;
  $("#d-code").textContent = view.code;
  $("#d-name").textContent = view.customer_name;
  const status = view.status === NO_SHOW ? t("status_no_show") : servingText(view);
  $("#d-status").textContent = view.status === WAITING ? statusText(t, view.status) : status;
  $("#d-marks").replaceChildren(...marks(view));
  const removable = allows(view, "remove_item") && view.items.length > 1;
  $("#d-items").replaceChildren(
    ...view.items.map((item) =>
      el(
        "li",
        { class: "item desk-item", dataset: { itemId: item.id } },
        el("span", { class: "item-name", text: item.quantity > 1 ? `${item.name} × ${item.quantity}` : item.name }),
        el("span", { class: "item-price", text: money(item.line_total) }),
        removable
          ? el("button", { type: "button", class: "quiet remove-item", dataset: { action: "remove-item", itemId: item.id }, text: t("remove_item") })
          : el("span"),
      ),
    ),
  );
  $("#d-total").textContent = `${money(view.total)} · ${t("minutes", { n: view.total_minutes })}`;
  const buttons = [];
  for (const move of DESK_MOVES) {
    if (move === "remove_item" || !allows(view, move)) continue;
    let label = t(`do_${move}`);
    if (move === "prioritise" && view.priority) label = t("do_unprioritise");
    const danger = ["cancel", "no_show"].includes(move);
    buttons.push(el("button", { type: "button", class: danger ? "danger" : "", dataset: { action: "move", move }, text: label }));
  }
  $("#d-actions").replaceChildren(...buttons);
  for (const button of buttons) setEnabled(button, access.live && access.live.connected);
}

// ---- actions ---------------------------------------------------------------------------

function report(ack, notice) {
  if (ack.ok) {
    flash($("#desk-error"), "", 0);
    if (notice) flash($("#desk-notice"), notice);
  } else {
    flash($("#desk-notice"), "", 0);
    flash($("#desk-error"), errorText(t, ack.error), 12000);
  }
}

/** Sends one front-desk command for the chosen customer; the answer in plain words. */
async function send(button, event, payload, notice) {
  const ack = await whileBusy(button, () => access.live.command(event, payload, { keyed: true }));
  if (!ack) return null;
  if (ack.ok && ack.transaction) keep(ack.transaction);
  report(ack, notice);
  render();
  return ack;
}

/**
 * A dialog: a question, optional choices (one must be picked), and what "yes" does with the
 * choice. Destructive moves ask first; the answer shows on the screen behind it.
 */
function openDialog({ title, text = "", choices = null, yes, danger = true, run }) {
  $("#dialog-title").textContent = title;
  $("#dialog-text").textContent = text;
  $("#dialog-text").hidden = !text;
  flash($("#dialog-error"), "", 0);
  const list = $("#dialog-choices");
  list.hidden = !choices;
  list.replaceChildren(
    ...(choices || []).map((c) =>
      el(
        "button",
        {
          type: "button",
          class: "choice",
          disabled: c.disabled || false,
          "aria-pressed": "false",
          dataset: { action: "dialog-choose", value: c.value },
        },
        el("span", { class: "choice-label", text: c.label }),
        c.detail ? el("span", { class: "choice-detail", text: c.detail }) : null,
      ),
    ),
  );
  const yesButton = $("#dialog-yes");
  yesButton.textContent = yes;
  yesButton.className = danger ? "danger" : "primary";
  yesButton.disabled = Boolean(choices);
  dialogAction = run;
  $("#dialog").hidden = false;
}

function closeDialog() {
  $("#dialog").hidden = true;
  dialogAction = null;
}

function chosen() {
  const pressed = $('#dialog-choices [aria-pressed="true"]');
  return pressed ? pressed.dataset.value : null;
}

/** Therapists to hand a customer to: on shift first; those who cannot do all of it greyed out. */
function therapistChoices(view, exceptId = null) {
  const services = view.items.map((i) => i.service_id);
  return roster.therapists
    .filter((th) => th.id !== exceptId)
    .sort((a, b) => Number(b.on_shift) - Number(a.on_shift))
    .map((th) => {
      const able = services.every((s) => th.skills.includes(s));
      const detail = [th.on_shift ? roomText(t, th.room) || t("on_shift") : t("off_shift"), th.with.length ? t("with_now", { codes: th.with.join(", ") }) : "", able ? "" : t("cannot_serve")]
        .filter(Boolean)
        .join(" · ");
      return { value: String(th.id), label: th.name, detail, disabled: !able };
    });
}

function move(button) {
  const view = txns.get(selectedId);
  if (!view) return;
  const id = view.id;
  const code = view.code;
  const name = view.customer_name;
  switch (button.dataset.move) {
    case "cancel":
      openDialog({
        title: t("cancel_title", { code, name }),
        choices: CANCEL_REASONS.map((r) => ({ value: r, label: t(`reason_${r}`) })),
        yes: t("do_cancel"),
        run: (yes, reason) => send(yes, "cancel_transaction", { transaction_id: id, reason }, t("cancelled", { code })),
      });
      break;
    case "no_show":
      openDialog({
        title: t("no_show_title", { code, name }),
        text: t("no_show_text"),
        yes: t("do_no_show"),
        run: (yes) => send(yes, "front_desk_no_show", { transaction_id: id }, t("no_showed", { code })),
      });
      break;
    case "give_back":
      openDialog({
        title: t("give_back_title", { code, name }),
        text: t("give_back_text"),
        yes: t("do_give_back"),
        run: (yes) => send(yes, "front_desk_give_back", { transaction_id: id }, t("given_back", { code })),
      });
      break;
    case "undo_start":
      openDialog({
        title: t("undo_start_title", { code, name }),
        yes: t("do_undo_start"),
        run: (yes) => send(yes, "front_desk_undo_start", { transaction_id: id }, t("start_undone", { code })),
      });
      break;
    case "undo_finish":
      openDialog({
        title: t("undo_finish_title", { code, name }),
        yes: t("do_undo_finish"),
        run: (yes) => send(yes, "front_desk_undo_finish", { transaction_id: id }, t("finish_undone", { code })),
      });
      break;
    case "transfer":
      openDialog({
        title: t("transfer_title", { code, name }),
        choices: therapistChoices(view, view.therapist ? view.therapist.id : null),
        yes: t("do_transfer"),
        danger: false,
        run: (yes, staffId) => send(yes, "front_desk_transfer", { transaction_id: id, therapist_id: Number(staffId) }, t("transferred", { code })),
      });
      break;
    case "assign":
      openDialog({
        title: t("assign_title", { code, name }),
        text: t("assign_text"),
        choices: therapistChoices(view),
        yes: t("do_assign"),
        danger: false,
        run: (yes, staffId) => send(yes, "front_desk_assign", { transaction_id: id, therapist_id: Number(staffId) }, t("assigned", { code })),
      });
      break;
    case "prioritise":
      if (view.priority) {
        send(button, "front_desk_priority", { transaction_id: id, priority: false }, t("priority_cleared", { code }));
      } else {
        openDialog({
          title: t("priority_title", { code, name }),
          choices: PRIORITY_REASONS.map((r) => ({ value: r, label: t(`priority_${r}`) })),
          yes: t("do_prioritise"),
          danger: false,
          run: (yes, reason) => send(yes, "front_desk_priority", { transaction_id: id, priority: true, reason }, t("priority_set", { code })),
        });
      }
      break;
    case "recall":
      send(button, "front_desk_recall", { transaction_id: id }, t("recalled", { code }));
      break;
    default:
      break;
  }
}

function removeItem(button) {
  const view = txns.get(selectedId);
  if (!view) return;
  const itemId = Number(button.dataset.itemId);
  const item = view.items.find((i) => i.id === itemId);
  if (!item) return;
  openDialog({
    title: t("remove_title", { service: item.name, code: view.code }),
    text: t("remove_text"),
    yes: t("do_remove_item"),
    run: (yes) =>
      send(yes, "front_desk_remove_item", { transaction_id: view.id, item_id: itemId }, t("item_removed", { service: item.name, code: view.code })),
  });
}

async function toggleShift(button) {
  const on = !button.dataset.on;
  const staffId = Number(button.dataset.staffId);
  const ack = await whileBusy(button, () => access.live.command(on ? "shift_start" : "shift_end", { staff_id: staffId }));
  if (!ack) return;
  if (ack.ok) roster = { therapists: ack.therapists, rooms: ack.rooms };
  report(ack);
  render();
}

// ---- signing in and connecting ---------------------------------------------------------

const access = new StaffAccess({
  page: PAGE,
  t,
  roles: ["desk", "admin", "cashier"],
  work: $("#desk"),
  onConnect: async (live) => {
    await live.command("therapist_subscribe"); // every change reaches all the queue rooms
    await Promise.all([queue.resync(), loadRoster()]);
  },
  listen: (live) => {
    live.on("therapist_queue_updated", (message) => queue.receive(message));
    live.on("roster_updated", (message) => {
      if (message && Array.isArray(message.therapists)) roster = { therapists: message.therapists, rooms: message.rooms || [] };
      queue.resync(); // who can serve whom changed: the unservable flags with it
    });
    live.on("signed_out", () => {
      if (access.device) return;
      access.forget();
      access.showSignIn(t("session_over"));
    });
  },
  forget: () => {
    txns.clear();
    recallUntil.clear();
    selectedId = null;
    queue.version = null;
  },
  render,
});

onAction(document.body, {
  signout: () => access.restart(),
  select: (target) => {
    selectedId = Number(target.dataset.id);
    flash($("#desk-error"), "", 0);
    render();
  },
  move: (button) => move(button),
  "remove-item": (button) => removeItem(button),
  shift: (button) => toggleShift(button),
  "dialog-choose": (button) => {
    for (const other of $("#dialog-choices").querySelectorAll("[aria-pressed]")) other.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-pressed", "true");
    $("#dialog-yes").disabled = false;
  },
  "dialog-close": () => closeDialog(),
  "dialog-yes": async (button) => {
    const run = dialogAction;
    if (!run) return;
    const choice = chosen();
    const ack = await run(button, choice);
    if (ack) closeDialog();
  },
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !$("#dialog").hidden) closeDialog();
  if ((event.key === "Enter" || event.key === " ") && event.target.dataset && event.target.dataset.action === "select") {
    event.preventDefault();
    event.target.click();
  }
});
document.addEventListener("contextmenu", (event) => event.preventDefault());

applyStrings(document, t);
access.start(render); // waiting times and recall windows move on
