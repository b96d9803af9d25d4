// /lobby — the lobby TV, unattended for days: now serving (code → room), waiting codes with
// estimated waits, and "please go to the cashier". A chime and (when switched on, and when the
// browser has a voice) a spoken announcement when a code is called; without a voice the screen
// says so and the log never claims a call was spoken. Customers appear by code and first name
// only, in the order they are called; who has priority is not shown.

import { config, deviceToken, flagParam, stored } from "./lib/config.js";
import { $, el, onAction, roomName, roomText, waitText } from "./lib/dom.js";
import { Live, VersionedState } from "./lib/live.js";
import { byQueuePlace, queueSnapshot } from "./lib/queue.js";
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
window.spaLobby = { announcements: log, voices: () => availableVoices().length };

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

// `spoken` turns true only when the speech engine says it started the words: a browser without
// a voice (a Pi without a speech engine) chimes, shows the call, and logs `unspoken` with why.
function announce(entry, text) {
  const record = { at: new Date().toISOString(), code: entry.code, status: entry.status, text, chime, voice, spoken: false };
  if (chime) playChime();
  if (voice) {
    const why = speak(text, record);
    if (why) {
      record.unspoken = why;
      console.info(`lobby: ${entry.code} called with the chime only (${why})`);
    }
  }
  log.push(record);
  if (log.length > LOG_KEPT) log.splice(0, log.length - LOG_KEPT);
}

function availableVoices() {
  try {
    return ("speechSynthesis" in window && window.speechSynthesis.getVoices()) || [];
  } catch (err) {
    return [];
  }
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

/** Queues the words with a voice of the page's language; "" when queued, else why not. */
function speak(text, record) {
  try {
    if (!("speechSynthesis" in window) || typeof SpeechSynthesisUtterance !== "function") return "no speech synthesis";
    const voices = availableVoices();
    if (voices.length === 0) return "no voice";
    if (unspoken >= MAX_UNSPOKEN) {
      // A speech engine that never gets through its queue must not hold calls for days.
      window.speechSynthesis.cancel();
      unspoken = 0;
    }
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = t("speech_lang");
    const match = voices.find((v) => v.lang === utterance.lang) || voices.find((v) => v.lang.startsWith(LANG_PREFIX));
    if (match) utterance.voice = match;
    const finished = () => {
      unspoken = Math.max(0, unspoken - 1);
    };
    utterance.onstart = () => {
      record.spoken = true;
    };
    utterance.onend = finished;
    utterance.onerror = (event) => {
      finished(); // a broken speech engine must never break the page
      record.unspoken = `speech error: ${(event && event.error) || "unknown"}`;
      console.info(`lobby: ${record.code} was not spoken (${record.unspoken})`);
    };
    unspoken += 1;
    window.speechSynthesis.speak(utterance);
    return "";
  } catch (err) {
    return `speech failed: ${err}`;
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
    .map((e) => row(e, t("serving_where", { room: e.room ? roomText(t, e.room) : t("no_room") }), now));
  const waiting = all
    .filter((e) => e.status === "pending_therapist")
    .sort(byCallOrder)
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
  renderVoice(); // a speech engine may have come or gone
}

/** The server's call order (position) when known: priority is in it, but never shown. */
function byCallOrder(a, b) {
  const pa = Number.isInteger(a.position) ? a.position : Infinity;
  const pb = Number.isInteger(b.position) ? b.position : Infinity;
  return pa - pb || byQueuePlace(a, b);
}

function renderVoice() {
  const button = $("#voice");
  const silent = voice && availableVoices().length === 0;
  button.textContent = t(voice ? "voice_on" : "voice_off");
  button.setAttribute("aria-pressed", String(voice));
  button.dataset.voice = silent ? "none" : voice ? "on" : "off";
  // Switched on with nothing to speak with: said on the screen, where the staff see it.
  const note = $("#voice-note");
  note.textContent = silent ? t("voice_none") : "";
  note.hidden = !silent;
}

// ---- wiring -----------------------------------------------------------------------------

function main() {
  applyStrings(document, t);
  const fromAddress = flagParam("announce");
  if (fromAddress !== null) stored.set("lobby", "voice", fromAddress);
  voice = stored.get("lobby", "voice") === true;
  chime = flagParam("chime") !== false;
  renderVoice();
  if ("speechSynthesis" in window) {
    // Voices load after the page in Chromium; an engine may also come up late.
    window.speechSynthesis.addEventListener("voiceschanged", renderVoice);
  }
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
    load: () => queueSnapshot(live),
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
