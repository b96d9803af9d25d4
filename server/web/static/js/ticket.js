// A customer's ticket on their phone (/t/<public id>): asks the server for its state every few
// seconds (no sign-in, no connection held) and shows the code, the place in the queue, the
// wait and, once called, the room.

import { config } from "./lib/config.js";

const publicId = location.pathname.split("/").filter(Boolean)[1] || "";
const $ = (id) => document.getElementById(id);
const POLL_MS = ((config.ticket && config.ticket.poll_s) || 5) * 1000;

function timeOfDay(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", timeZone: config.timezone });
}

function show(t) {
  $("code").textContent = t.code;
  $("name").textContent = t.first_name;
  $("error").hidden = true;
  if (t.status === "pending_therapist") {
    $("state").textContent = `#${t.position}`;
    $("wait").textContent =
      t.estimated_wait_min === null ? "" : `${t.estimated_wait_min} min · ${timeOfDay(t.estimated_call_at)}`;
  } else if (t.status === "therapist_confirmed" || t.status === "in_service") {
    $("state").textContent = t.room || "";
    $("wait").textContent = "";
  } else {
    $("state").textContent = t.status;
    $("wait").textContent = "";
  }
}

async function poll() {
  try {
    const answer = await fetch(`/api/tickets/${encodeURIComponent(publicId)}`, { cache: "no-store" });
    if (answer.status === 404) {
      $("error").textContent = "?";
      $("error").hidden = false;
      return;
    }
    if (answer.ok) show(await answer.json());
  } catch (err) {
    console.warn("ticket poll failed", err);
  }
  setTimeout(poll, POLL_MS);
}

poll();
