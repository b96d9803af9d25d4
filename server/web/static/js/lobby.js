// /lobby — the lobby TV, unattended for days: now serving (code → room), waiting codes with
// estimated waits, and "please go to the cashier". A chime and (when switched on) a spoken
// announcement when a code is called. Customers appear by code and first name only.

import { config, deviceToken, flagParam, stored } from "./lib/config.js";
import { $, el, onAction, roomName, roomText, waitText } from "./lib/dom.js";
import { Live, VersionedState } from "./lib/live.js";
import { byQueuePlace } from "./lib/queue.js";
import { applyStrings, strings } from "./strings.js";

const t = strings("lobby");
const LIVE_STATUSES = new Set(["pending_therapist", "therapist_confirmed", "in_service", "awaiting_payment", "paying"]);
const MAX_ROWS = 30; // rows built per column; those that do not fit become "+ n more"
const FRESH_MS = 20000; // a newly called code is highlighted this long
const REFRESH_MS = 5 * 60 * 1000; // waits are estimates of "now": refresh them now and then
const LOG_KEPT = 50;
const MAX_UNSPOKEN = 5;
const ANNOUNCE_AFTER_RESYNC = 3; // calls missed while reconnecting that are still announced
const LANG_PREFIX = t("speech_lang").split("-")[0];

// What the page has announced, for whoever watches it (and for the tests: headless browsers
// have no voices). Capped: the page runs for days.
const log = [];
window.spaLobby = { announcements: log };

const entries = new Map(); // id → public view + position, estimated_wait_min, since (ms)
let voice = false;
let chime = true;
let live = null;

// ---- state ------------------------------------------------------------------------------

function put(view, since) {
  const previous = entries.get(view.id);
  const entry = { ...previous, ...view };
  entry.since = previous && previous.status === view.status ? previous.since : since;
  entries.set(view.id, entry);
  return previous;
}

function reset(snapshot) {
  const before = new Map(entries);
  entries.clear();
  const now = Date.now();
  for (const group of ["waiting", "with_therapist", "awaiting_payment", "paying"]) {
    for (const view of snapshot[group]) {
      const old = before.get(view.id);
      // Codes already on screen keep their place in time; unknown ones count as old news.
      put(view, old && old.status === view.status ? old.since : 0);
    }
  }
  if (before.size === 0) return;
  let announced = 0;
  for (const entry of entries.values()) {
    const old = before.get(entry.id);
    if (old && old.status !== entry.status && announced < ANNOUNCE_AFTER_RESYNC) {
      entry.since = now;
      if (announceChange(old.status, entry)) announced += 1;
    }
  }
}

function apply(message) {
  const view = message.transaction;
  if (LIVE_STATUSES.has(view.status)) {
    const previous = put(view, Date.now());
    announceChange(previous ? previous.status : null, entries.get(view.id));
  } else {
    entries.delete(view.id);
  }
  for (const estimate of message.estimates || []) {
    const entry = entries.get(estimate.id);
    if (entry) {
      entry.position = estimate.position;
      entry.estimated_wait_min = estimate.estimated_wait_min;
    }
  }
}

// ---- announcements ----------------------------------------------------------------------

/** Announces a code that was just called to a room or to the cashier; true if it did. */
function announceChange(previousStatus, entry) {
  if (entry.status === previousStatus) return false;
  const vars = { code: spokenCode(entry.code), name: entry.first_name || "", room: roomName(entry.room) };
  if (entry.status === "therapist_confirmed") {
    announce(entry, t(entry.room ? "say_room" : "say_no_room", vars));
    return true;
  }
  if (entry.status === "awaiting_payment") {
    announce(entry, t("say_cashier", vars));
    return true;
  }
  return false;
}

/** "A-042" → "A 42": how a person would say it. */
function spokenCode(code) {
  const match = /^([A-Z]+)-0*(\d+)$/.exec(code || "");
  return match ? `${match[1]} ${match[2]}` : code;
}

function announce(entry, text) {
  const record = { at: new Date().toISOString(), code: entry.code, status: entry.status, text, chime, voice, spoken: false };
  if (chime) playChime();
  if (voice) record.spoken = speak(text);
  log.push(record);
  if (log.length > LOG_KEPT) log.splice(0, log.length - LOG_KEPT);
}

let audio = null;

function playChime() {
  try {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    audio = audio || new Context();
    if (audio.state === "suspended") audio.resume().catch(() => {});
    const start = audio.currentTime + 0.05;
    [880, 659.25].forEach((frequency, i) => {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      const at = start + i * 0.45;
      oscillator.type = "sine";
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.35, at + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.9);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(at);
      oscillator.stop(at + 0.95);
    });
  } catch (err) {
    // No sound card, or audio blocked: the screen still shows the call.
  }
}

let unspoken = 0; // utterances queued and not yet finished

function speak(text) {
  try {
    if (!("speechSynthesis" in window) || typeof SpeechSynthesisUtterance !== "function") return false;
    if (unspoken >= MAX_UNSPOKEN) {
      // A speech engine that never gets through its queue must not hold calls for days.
      window.speechSynthesis.cancel();
      unspoken = 0;
    }
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = t("speech_lang");
    const voices = window.speechSynthesis.getVoices() || [];
    const match = voices.find((v) => v.lang === utterance.lang) || voices.find((v) => v.lang.startsWith(LANG_PREFIX));
    if (match) utterance.voice = match;
    const finished = () => {
      unspoken = Math.max(0, unspoken - 1);
    };
    utterance.onend = finished;
    utterance.onerror = finished; // a missing speech engine must never break the page
    unspoken += 1;
    window.speechSynthesis.speak(utterance);
    return true;
  } catch (err) {
    return false;
  }
}

// ---- rendering --------------------------------------------------------------------------

function row(entry, where, now) {
  const fresh = entry.since && now - entry.since < FRESH_MS;
  return el(
    "li",
    { class: fresh ? "row fresh" : "row", dataset: { code: entry.code, id: entry.id, status: entry.status } },
    el("span", { class: "code", text: entry.code }),
    el("span", { class: "name", text: entry.first_name || "" }),
    el("span", { class: "where", text: where }),
  );
}

/** Shows as many rows as fit in the column; the others are counted in "+ n more". */
function fill(list, empty, more, rows) {
  list.replaceChildren(...rows.slice(0, MAX_ROWS));
  empty.hidden = rows.length > 0;
  let hiddenRows = rows.length - list.children.length;
  more.textContent = t("more", { n: hiddenRows });
  more.hidden = hiddenRows === 0;
  while (list.lastElementChild && list.scrollHeight > list.clientHeight + 1) {
    list.lastElementChild.remove();
    hiddenRows += 1;
    more.hidden = false;
  }
  more.textContent = t("more", { n: hiddenRows });
}

function render() {
  const now = Date.now();
  const all = [...entries.values()];
  // Those just called first; among those called before the page knew when, the latest in the queue.
  const newestFirst = (a, b) => b.since - a.since || byQueuePlace(b, a);
  const serving = all
    .filter((e) => e.status === "therapist_confirmed" || e.status === "in_service")
    .sort(newestFirst)
    .map((e) => row(e, e.room ? roomText(t, e.room) : t("no_room"), now));
  const waiting = all
    .filter((e) => e.status === "pending_therapist")
    .sort(byQueuePlace)
    .map((e) => row(e, waitText(t, e.estimated_wait_min), now));
  const cashier = all
    .filter((e) => e.status === "awaiting_payment" || e.status === "paying")
    .sort(newestFirst)
    .map((e) => row(e, e.status === "paying" && e.cashier_desk ? t("desk", { desk: e.cashier_desk }) : "", now));
  fill($("#serving"), $("#serving-empty"), $("#serving-more"), serving);
  fill($("#waiting"), $("#waiting-empty"), $("#waiting-more"), waiting);
  fill($("#to-cashier"), $("#cashier-empty"), $("#cashier-more"), cashier);
}

const clockFormat = (() => {
  try {
    return new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", timeZone: config.timezone });
  } catch (err) {
    return new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  }
})();

function tick() {
  $("#clock").textContent = clockFormat.format(new Date());
  render(); // highlights fade
}

function renderVoice() {
  const button = $("#voice");
  button.textContent = t(voice ? "voice_on" : "voice_off");
  button.setAttribute("aria-pressed", String(voice));
}

// ---- wiring -----------------------------------------------------------------------------

function main() {
  applyStrings(document, t);
  const fromAddress = flagParam("announce");
  if (fromAddress !== null) stored.set("lobby", "voice", fromAddress);
  voice = stored.get("lobby", "voice") === true;
  chime = flagParam("chime") !== false;
  renderVoice();
  onAction(document.body, {
    voice: () => {
      voice = !voice;
      stored.set("lobby", "voice", voice);
      renderVoice();
    },
  });
  tick();
  setInterval(tick, 15000);
  render();

  const token = deviceToken("lobby");
  if (!token) {
    const note = $("#no-token-text");
    note.textContent = t("no_token", { path: location.pathname });
    note.hidden = false;
    return;
  }
  const state = new VersionedState({
    load: async () => {
      const ack = await live.command("queue_snapshot");
      return ack.ok ? ack : null;
    },
    reset,
    apply,
    render,
  });
  live = new Live({
    token,
    page: "lobby",
    t,
    onConnect: async () => {
      await live.command("monitor_subscribe");
      await state.resync();
    },
  }).start();
  live.on("monitor_updated", (message) => state.receive(message));
  setInterval(() => live.connected && state.resync(), REFRESH_MS);
}

main();
