// Moments from the wire (UTC, "2026-12-06T13:40:02.125Z") as the spa's wall clock shows them:
// "14:40", or "Mon 09:00" when it is not today. The spa's time zone comes with the page config.

import { config } from "./config.js";

function format(options) {
  try {
    return new Intl.DateTimeFormat(document.documentElement.lang || undefined, { ...options, timeZone: config.timezone });
  } catch (err) {
    return new Intl.DateTimeFormat(undefined, options); // a zone this browser does not know
  }
}

const TIME = format({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const DAY = format({ weekday: "short" });
const DATE_KEY = format({ year: "numeric", month: "2-digit", day: "2-digit" });

/** "14:40" in the spa's time zone; "" for no moment. */
export function timeOfDay(iso) {
  if (!iso) return "";
  const moment = new Date(iso);
  return Number.isNaN(moment.getTime()) ? "" : TIME.format(moment);
}

/** "14:40" today, "Mon 09:00" on another day (in the spa's time zone); "" for no moment. */
export function dayAndTime(iso, now = new Date()) {
  const time = timeOfDay(iso);
  if (!time) return "";
  const moment = new Date(iso);
  return DATE_KEY.format(moment) === DATE_KEY.format(now) ? time : `${DAY.format(moment)} ${time}`;
}
