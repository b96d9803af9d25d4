// A customer's ticket on their phone (/t/<public id>): asks the server for its state every few
// seconds (no sign-in, no connection held) and shows, in plain words, the code, the place in the
// queue, when they are likely called (a time of day, "about 14:40"), the room once called, and
// what happened when the visit was cancelled or they missed their call.

import { config } from "./lib/config.js";
import { roomText } from "./lib/dom.js";
import { timeOfDay } from "./lib/when.js";
import { chooseLanguage, languageButton, languageOf } from "./lib/language.js";
import { applyStrings, strings } from "./strings.js";

const t = strings("ticket");
const publicId = location.pathname.split("/").filter(Boolean)[1] || "";
const $ = (id) => document.getElementById(id);
const POLL_MS = ((config.ticket && config.ticket.poll_s) || 5) * 1000;
// Nothing changes any more for these: the page stops asking.
const FINAL = new Set(["paid", "cancelled"]);

let lastSeen = null; // when the server last answered

function show(ticket) {
  $("ticket").dataset.status = ticket.status;
  $("code").textContent = ticket.code;
  $("name").textContent = ticket.first_name;
  $("error").hidden = true;
  const waiting = ticket.status === "pending_therapist";
  $("facts").hidden = !waiting;
  const called = ticket.status === "therapist_confirmed" || ticket.status === "in_service";
  $("room").hidden = !(called && ticket.room);
  $("room").textContent = called && ticket.room ? roomText(t, ticket.room) : "";
  if (waiting) {
    $("place").textContent = ticket.position ?? "–";
    const minutes = ticket.estimated_wait_min;
    const time = timeOfDay(ticket.estimated_call_at);
    if (minutes === null || minutes === undefined) {
      $("wait").textContent = t("wait_unknown");
      $("wait-minutes").textContent = "";
    } else if (minutes <= 0 || !time) {
      $("wait").textContent = t("wait_now");
      $("wait-minutes").textContent = "";
    } else {
      $("wait").textContent = t("wait_value", { time });
      $("wait-minutes").textContent = t("wait_minutes", { n: minutes });
    }
  }
  $("state").textContent = stateText(ticket);
}

function stateText(ticket) {
  switch (ticket.status) {
    case "pending_therapist":
      return "";
    case "therapist_confirmed":
      return ticket.room ? t("called", { room: roomText(t, ticket.room) }) : t("called_no_room");
    default:
      return t(ticket.status);
  }
}

function stamp(stale) {
  const time = lastSeen ? timeOfDay(lastSeen.toISOString()) : "";
  $("updated").textContent = time ? t(stale ? "stale" : "updated", { time }) : "";
  $("updated").classList.toggle("stale", stale);
}

async function poll() {
  let status = null;
  try {
    const answer = await fetch(`/api/tickets/${encodeURIComponent(publicId)}`, { cache: "no-store" });
    if (answer.status === 404) {
      $("ticket").dataset.status = "not_found";
      $("error").textContent = t("not_found");
      $("error").hidden = false;
      return; // an id that is not (or no longer) a ticket will not become one
    }
    if (answer.ok) {
      const ticket = await answer.json();
      lastSeen = new Date();
      show(ticket);
      stamp(false);
      status = ticket.status;
    } else {
      stamp(true);
    }
  } catch (err) {
    stamp(true); // no network: the last state stays, marked as old
  }
  if (!FINAL.has(status)) setTimeout(poll, POLL_MS);
}

// The customer's language stays with this tab; the page holds nothing a reload would lose.
document.documentElement.lang = languageOf(config);
const languageSlot = document.querySelector("[data-language-slot]");
const language = languageButton(config, (code) => {
  chooseLanguage(code);
  location.reload();
});
if (language) languageSlot.replaceChildren(language);

applyStrings(document, t);
poll();
