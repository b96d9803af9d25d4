// /office/reports — the day's figures for the owner: an admin signs in (the back office's sign-in,
// kept in sessionStorage "spa.office.token", shared with /office), picks a day or a range, and
// reads the figures, the queue's chart (an SVG the server draws) and every table, each of which
// downloads as CSV. Everything comes from /api/office/reports… (server/web/reports.py).

import { config } from "./lib/config.js";
import { $, el, flash } from "./lib/dom.js";
import { money } from "./lib/money.js";
import { session } from "./office/api.js";
import { localized } from "./office/i18n.js";
import { adminSignIn } from "./office/signin.js";
import { applyStrings, errorText } from "./strings.js";

const t = localized("reports");
const API = "/api/office/reports";
// Columns whose values are amounts ("45.00"): shown in the spa's currency.
const MONEY = new Set(["revenue", "taken", "refunded", "net", "tax", "gross", "amount"]);
const MONEY_FIGURES = new Set(["revenue", "discounts", "tips", "refunds", "takings_net"]);
// Values that are codes of the wire ("no_show", "card", "left"): shown in words.
const WORDS = { outcome: "outcome_", reason: "reason_", method: "method_", scope: "scope_", status: "status_" };
// The figures shown at the top, in this order; the rest are in the summary table and its CSV.
const FIGURES = [
  ["customers"],
  ["served"],
  ["no_shows"],
  ["cancelled"],
  ["wait_median_min", "wait_p90_min"],
  ["service_median_min", "service_p90_min"],
  ["revenue"],
  ["tips"],
  ["discounts"],
  ["refunds"],
  ["takings_net"],
  ["queue_peak"],
];

let range = { from: null, to: null };

applyStrings(document.body, t);
document.title = t("title");

// ---- signing in -------------------------------------------------------------------------------

const access = adminSignIn({
  t,
  who: $("#reports-who"),
  signOutButton: $("#reports-signout"),
  error: $("#reports-error"),
  onSignedIn: () => {
    $("#range").hidden = false;
    const query = new URLSearchParams(location.search);
    load(query.get("from"), query.get("to"));
  },
  onSignedOut: () => {
    $("#reports-main").hidden = true;
    $("#range").hidden = true;
  },
});

// ---- fetching -----------------------------------------------------------------------------------

class Refused extends Error {
  constructor(status, error) {
    super((error && error.message) || "");
    this.status = status;
    this.error = error || { code: "internal_error", message: "" };
  }
}

function rangeQuery(from, to) {
  const query = new URLSearchParams();
  if (from) query.set("from", from);
  if (to) query.set("to", to);
  const text = query.toString();
  return text ? `?${text}` : "";
}

async function get(path) {
  let response;
  try {
    response = await fetch(path, { cache: "no-store", headers: { Authorization: `Bearer ${session.token() || ""}` } });
  } catch (err) {
    throw new Refused(0, { code: "offline", message: "" });
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Refused(response.status, body.error);
  }
  return response;
}

function failed(err) {
  if (err instanceof Refused && err.status === 401) {
    access.signedOut(t("session_over"));
    return;
  }
  const error = err instanceof Refused ? err.error : { code: "internal_error", message: String(err) };
  flash($("#reports-error"), errorText(t, error), 15000);
}

async function load(from, to) {
  const main = $("#reports-main");
  main.setAttribute("aria-busy", "true");
  try {
    const query = rangeQuery(from, to);
    const [report, svg] = await Promise.all([
      get(`${API}${query}`).then((r) => r.json()),
      get(`${API}/queue.svg${query}`).then((r) => r.text()),
    ]);
    range = { from: report.from, to: report.to };
    $("#from").value = report.from;
    $("#to").value = report.to;
    history.replaceState(null, "", `${location.pathname}${rangeQuery(report.from, report.to)}`);
    flash($("#reports-error"), "", 0);
    render(report, svg);
    main.hidden = false;
  } catch (err) {
    failed(err);
  } finally {
    main.setAttribute("aria-busy", "false");
  }
}

// ---- the range ----------------------------------------------------------------------------------

$("#range").addEventListener("submit", (event) => {
  event.preventDefault();
  load($("#from").value, $("#to").value || $("#from").value);
});

function dayText(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Today in the spa's zone (config.timezone), not the browser's. */
function spaToday(daysBack = 0) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: config.timezone || undefined,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(new Date());
  const value = (type) => Number(parts.find((p) => p.type === type).value);
  return dayText(new Date(value("year"), value("month") - 1, value("day") - daysBack));
}

$("#today").addEventListener("click", () => load(spaToday(), spaToday()));
$("#yesterday").addEventListener("click", () => load(spaToday(1), spaToday(1)));

// ---- drawing ------------------------------------------------------------------------------------

function render(report, svg) {
  $("#reports-range-text").textContent =
    report.from === report.to
      ? t("range_day", { day: report.from, zone: report.timezone })
      : t("range_days", { from: report.from, to: report.to, zone: report.timezone });
  renderFigures(report.summary);
  renderChart(svg, report.queue);
  const tables = $("#tables");
  tables.replaceChildren(
    ...report.order
      .filter((name) => name !== "queue" && name !== "summary") // shown above, with their CSV
      .map((name) => renderTable(name, report.tables[name])),
  );
}

function figureValue(key, value) {
  if (value === "" || value === null || value === undefined) return "—";
  if (MONEY_FIGURES.has(key)) return money(value);
  if (key.endsWith("_min")) return t("minutes_value", { n: value });
  return String(value);
}

function renderFigures(summary) {
  $("#figures").replaceChildren(
    ...FIGURES.map((keys) =>
      el(
        "div",
        { class: "figure", dataset: { figure: keys[0] } },
        el("dt", { text: t(`fig_${keys[0]}`) }),
        el("dd", {}, figureValue(keys[0], summary[keys[0]])),
        keys.length > 1
          ? el("dd", { class: "figure-p90", text: t("p90_value", { p90: figureValue(keys[1], summary[keys[1]]) }) })
          : null,
      ),
    ),
  );
}

function renderChart(svgText, queue) {
  const chart = $("#chart");
  const parsed = new DOMParser().parseFromString(svgText, "image/svg+xml");
  const svg = parsed.documentElement;
  if (svg.nodeName !== "svg") {
    chart.replaceChildren();
    return;
  }
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("chart_label", { peak: queue.peak }));
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  chart.replaceChildren(document.importNode(svg, true));
}

function cellText(column, value) {
  if (column === "service" && value === "") return t("all_services"); // the durations' first row
  if (value === "" || value === null || value === undefined) return "";
  if (MONEY.has(column)) return money(value);
  if (column === "figure") return t(`fig_${value}`);
  if (WORDS[column]) {
    const key = `${WORDS[column]}${value}`;
    const text = t(key);
    return text === key ? String(value) : text;
  }
  return String(value);
}

function renderTable(name, table) {
  const numeric = (column) => MONEY.has(column) || /(_min|_pct|count|quantity|visits|payments|tips|rate|waiting)$/.test(column);
  const body = table.rows.length
    ? el(
        "tbody",
        {},
        ...table.rows.map((row) =>
          el(
            "tr",
            {},
            ...row.map((value, i) =>
              el("td", { class: numeric(table.columns[i]) ? "num" : null }, cellText(table.columns[i], value)),
            ),
          ),
        ),
      )
    : el("tbody", {}, el("tr", {}, el("td", { colspan: table.columns.length, class: "muted", text: t("no_rows") })));
  return el(
    "section",
    { class: "report-table", id: `table-${name}`, dataset: { table: name } },
    el(
      "div",
      { class: "table-head" },
      el("h2", { text: t(`table_${name}`) }),
      el("button", { type: "button", class: "csv", dataset: { csv: name }, text: t("csv") }),
    ),
    el(
      "div",
      { class: "table-scroll" },
      el(
        "table",
        {},
        el("thead", {}, el("tr", {}, ...table.columns.map((c) => el("th", { class: numeric(c) ? "num" : null, text: t(`col_${c}`) })))),
        body,
      ),
    ),
  );
}

// ---- CSV ------------------------------------------------------------------------------------------

$("#reports-main").addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-csv]");
  if (!button || button.disabled) return;
  button.disabled = true;
  try {
    const response = await get(`${API}/${button.dataset.csv}.csv${rangeQuery(range.from, range.to)}`);
    const blob = await response.blob();
    const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    const link = el("a", { href: URL.createObjectURL(blob), download: match ? match[1] : `${button.dataset.csv}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } catch (err) {
    failed(err);
  } finally {
    button.disabled = false;
  }
});

// ---- start --------------------------------------------------------------------------------------

access.begin();
