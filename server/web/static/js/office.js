// /office — the owner's back office: an admin signs in (name + PIN), then edits the catalog,
// the staff, the devices, the rooms and the settings safe to change while the spa runs, and
// reads the changes made. Everything goes through /api/office/… (server/web/office.py); a PIN
// or a device's address is shown once, when it is made.

import { $, el, flash, onAction } from "./lib/dom.js";
import { ApiError, call } from "./office/api.js";
import { checkedIds, checks, field, select, value } from "./office/form.js";
import { localized } from "./office/i18n.js";
import { adminSignIn } from "./office/signin.js";
import { applyStrings, errorText } from "./strings.js";

const t = localized("office");
const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const STAFF_ROLES = ["therapist", "cashier", "desk", "admin"];
const DEVICE_ROLES = ["kiosk", "cashier", "room", "lobby"];
const NUMERIC = new Set(["price", "duration", "tax_rate", "sort_order"]); // right-aligned columns

let tab = "services";
const data = { services: [], staff: [], devices: [], rooms: [], settings: {}, changes: [] };
const editing = { services: null, staff: null, devices: null, rooms: null }; // the id in the form

// ---- messages -------------------------------------------------------------------------------

function showError(err) {
  if (err instanceof FormProblem) {
    flash($("#office-notice"), "", 0);
    flash($("#office-error"), err.message, 12000);
    return;
  }
  if (err instanceof ApiError && err.status === 401) {
    access.signedOut(t("session_over"));
    return;
  }
  const code = err instanceof ApiError ? err.code : "internal_error";
  flash($("#office-notice"), "", 0);
  flash($("#office-error"), errorText(t, { code, message: err.message }), 12000);
}

function notice(text) {
  flash($("#office-error"), "", 0);
  flash($("#office-notice"), text, 6000);
}

/** Shows a PIN or a device's address once; it is not kept anywhere on this page. */
function showOnce(title, text, secret, device = null) {
  $("#once-title").textContent = title;
  $("#once-text").textContent = text;
  $("#once-secret").textContent = secret || "";
  $("#once-secret").hidden = !secret;
  const qr = $("#once-qr");
  qr.replaceChildren();
  $("#once-url").textContent = "";
  if (device) {
    const src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(device.qr_svg)}`;
    qr.append(el("img", { src, alt: t("qr_alt"), id: "once-qr-img" }));
    $("#once-url").textContent = device.url;
  }
  $("#once").hidden = false;
  $("#once-close").focus();
}

$("#once-close").addEventListener("click", () => {
  $("#once").hidden = true;
  $("#once-secret").textContent = "";
  $("#once-url").textContent = "";
  $("#once-qr").replaceChildren();
});

// ---- signing in -----------------------------------------------------------------------------

const access = adminSignIn({
  t,
  who: $("#office-who"),
  signOutButton: $("#office-signout"),
  error: $("#office-error"),
  onSignedIn: () => {
    $("#office-tabs").hidden = false;
    $("#office-main").hidden = false;
    show(tab);
  },
  onSignedOut: () => {
    $("#office-main").hidden = true;
    $("#office-tabs").hidden = true;
  },
});

// ---- tabs -----------------------------------------------------------------------------------

$("#office-tabs").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-tab]");
  if (button) show(button.dataset.tab);
});

async function show(name) {
  tab = name;
  for (const button of document.querySelectorAll("#office-tabs [data-tab]")) {
    button.classList.toggle("current", button.dataset.tab === name);
    button.setAttribute("aria-selected", String(button.dataset.tab === name));
  }
  for (const section of document.querySelectorAll(".office-tab")) section.hidden = section.id !== `tab-${name}`;
  try {
    await load(name);
  } catch (err) {
    showError(err);
  }
}

async function load(name) {
  // The services tab names therapists; the staff tab names services; devices name rooms.
  const needs = {
    services: ["services", "staff"],
    staff: ["staff", "services"],
    devices: ["devices", "rooms"],
    rooms: ["rooms"],
    settings: ["settings"],
    changes: ["changes"],
  }[name];
  for (const part of needs) {
    const answer = await call("GET", part);
    data[part] = answer[part];
  }
  render(name);
}

function render(name) {
  const section = $(`#tab-${name}`);
  const builders = { services, staff, devices, rooms, settings, changes };
  section.replaceChildren(...builders[name]());
  applyStrings(section, t);
  if (name === "settings") syncHours($("#settings-form"));
}

// ---- one list and one form per kind -----------------------------------------------------------

function listing(kind, headings, rows) {
  return el(
    "div",
    { class: "office-list" },
    el(
      "table",
      { class: "office-table", id: `${kind}-table` },
      el("thead", {}, el("tr", {}, ...headings.map((h) => el("th", { class: NUMERIC.has(h) ? "num" : null, text: h ? t(h) : "" })))),
      el("tbody", {}, ...rows),
    ),
  );
}

function editor(kind, title, fields, extra = null) {
  const id = editing[kind];
  return el(
    "form",
    { class: "office-form", id: `${kind}-form`, dataset: { kind }, novalidate: true },
    el("h2", { text: id === null ? t(`add_${kind}`) : t("edit_title", { name: title }) }),
    ...fields,
    extra,
    el(
      "div",
      { class: "form-actions" },
      el("button", { type: "submit", class: "primary", id: `${kind}-save`, text: id === null ? t("add") : t("save") }),
      id === null ? null : el("button", { type: "button", class: "quiet", dataset: { action: "new", kind }, text: t("new") }),
    ),
  );
}

function activeToggle(kind, row) {
  return el(
    "label",
    { class: "toggle" },
    el("input", { type: "checkbox", checked: row.active, dataset: { toggle: kind, id: row.id } }),
    el("span", { text: row.active ? t("active_yes") : t("active_no") }),
  );
}

function rowActions(kind, row, ...more) {
  return el(
    "td",
    { class: "row-actions" },
    el("button", { type: "button", dataset: { action: "edit", kind, id: row.id }, text: t("edit") }),
    ...more,
  );
}

const therapists = () => data.staff.filter((s) => s.role === "therapist" && s.active);

function services() {
  const row = data.services.find((s) => s.id === editing.services) || null;
  const who = new Map(data.staff.map((s) => [s.id, s.name]));
  const rows = data.services.map((s) =>
    el(
      "tr",
      { dataset: { id: s.id, name: s.name } },
      el("td", { text: s.name }),
      el("td", { class: "num", text: s.price }),
      el("td", { class: "num", text: t("minutes", { n: s.duration_min }) }),
      el("td", { class: "num", text: `${s.tax_rate} %` }),
      el("td", { text: s.category || "" }),
      el("td", { class: "num", text: String(s.sort_order) }),
      el("td", { text: s.therapists.map((id) => who.get(id) || `#${id}`).join(", ") }),
      el("td", {}, activeToggle("services", s)),
      rowActions("services", s),
    ),
  );
  const form = editor("services", row ? row.name : "", [
    field(t("name"), { name: "name", value: row ? row.name : "", maxlength: 80, required: true }),
    el(
      "div",
      { class: "field-row" },
      field(t("price"), { name: "price", value: row ? row.price : "", inputmode: "decimal", placeholder: "45.00" }),
      field(t("duration"), { name: "duration_min", type: "number", min: 1, max: 600, value: row ? row.duration_min : 60 }),
      field(t("tax_rate"), { name: "tax_rate", value: row ? row.tax_rate : "19.00", inputmode: "decimal" }),
    ),
    el(
      "div",
      { class: "field-row" },
      field(t("category"), { name: "category", value: row ? row.category || "" : "", maxlength: 40 }),
      field(t("sort_order"), { name: "sort_order", type: "number", min: 0, value: row ? row.sort_order : "" }),
    ),
    checks(
      t("who_does_it"),
      "therapists",
      therapists().map((s) => [s.id, s.name]),
      new Set(row ? row.therapists : therapists().map((s) => s.id)),
    ),
  ]);
  return [listing("services", ["name", "price", "duration", "tax_rate", "category", "sort_order", "therapists", "active", ""], rows), form];
}

function staff() {
  const row = data.staff.find((s) => s.id === editing.staff) || null;
  const names = new Map(data.services.map((s) => [s.id, s.name]));
  const rows = data.staff.map((s) =>
    el(
      "tr",
      { dataset: { id: s.id, name: s.name }, class: s.active ? "" : "inactive" },
      el("td", { text: s.name }),
      el("td", { text: t(`role_${s.role}`) }),
      el("td", { text: s.role === "therapist" ? s.skills.map((id) => names.get(id) || `#${id}`).join(", ") : "—" }),
      el("td", { class: "nowrap", text: s.on_shift ? t("on_shift") : "" }),
      el("td", {}, activeToggle("staff", s)),
      rowActions("staff", s, el("button", { type: "button", dataset: { action: "pin", id: s.id }, text: t("reset_pin") })),
    ),
  );
  const role = row ? row.role : "therapist";
  const form = editor("staff", row ? row.name : "", [
    field(t("name"), { name: "name", value: row ? row.name : "", maxlength: 80, required: true }),
    select(t("role"), "role", STAFF_ROLES.map((r) => [r, t(`role_${r}`)]), role),
    skillsBox(role, row),
    el("p", { class: "muted hint", text: row ? "" : t("pin_hint") }),
  ]);
  return [listing("staff", ["name", "role", "skills", "shift", "active", ""], rows), form];
}

/** The services a therapist does: only shown while the role is therapist. */
function skillsBox(role, row) {
  const box = checks(
    t("skills"),
    "skills",
    data.services.filter((s) => s.active).map((s) => [s.id, s.name]),
    new Set(row && row.role === "therapist" ? row.skills : data.services.filter((s) => s.active).map((s) => s.id)),
  );
  box.id = "skills-box";
  box.hidden = role !== "therapist";
  return box;
}

function devices() {
  const row = data.devices.find((d) => d.id === editing.devices) || null;
  const rows = data.devices.map((d) =>
    el(
      "tr",
      { dataset: { id: d.id, name: d.name }, class: d.active ? "" : "inactive" },
      el("td", { text: d.name }),
      el("td", { text: t(`device_${d.role}`) }),
      el("td", { text: d.room || "" }),
      el("td", { text: d.page }),
      el("td", { text: d.active ? t("active_yes") : t("revoked") }),
      rowActions(
        "devices",
        d,
        d.active ? el("button", { type: "button", class: "danger", dataset: { action: "revoke", id: d.id }, text: t("revoke") }) : null,
        el("button", { type: "button", dataset: { action: "reissue", id: d.id }, text: t("reissue") }),
      ),
    ),
  );
  const roomChoices = [["", t("no_room")], ...data.rooms.map((r) => [r.name, r.name])];
  const form = editor("devices", row ? row.name : "", [
    field(t("device_name"), { name: "name", value: row ? row.name : "", maxlength: 40, placeholder: "kiosk-2" }),
    row ? null : select(t("kind"), "role", DEVICE_ROLES.map((r) => [r, t(`device_${r}`)]), "kiosk"),
    select(t("room_label"), "room", roomChoices, row ? row.room || "" : ""),
  ]);
  return [listing("devices", ["name", "kind", "room_label", "page", "state", ""], rows), form];
}

function rooms() {
  const row = data.rooms.find((r) => r.id === editing.rooms) || null;
  const rows = data.rooms.map((r) =>
    el(
      "tr",
      { dataset: { id: r.id, name: r.name } },
      el("td", { text: r.name }),
      el("td", { class: "num", text: String(r.sort_order) }),
      el("td", {}, activeToggle("rooms", r)),
      rowActions("rooms", r),
    ),
  );
  const form = editor("rooms", row ? row.name : "", [
    field(t("name"), { name: "name", value: row ? row.name : "", maxlength: 32 }),
    row ? field(t("sort_order"), { name: "sort_order", type: "number", min: 0, value: row.sort_order }) : null,
  ]);
  return [listing("rooms", ["name", "sort_order", "active", ""], rows), form];
}

function settings() {
  const s = data.settings;
  const hours = s.opening_hours || {};
  const number = (name, attrs = {}) => field(t(`set_${name}`), { name, type: "number", value: s[name] ?? "", ...attrs });
  const week = el(
    "fieldset",
    { class: "hours" },
    el("legend", { text: t("set_opening_hours") }),
    el(
      "label",
      { class: "check" },
      el("input", { type: "checkbox", name: "always_open", checked: s.opening_hours === null }),
      t("always_open"),
    ),
    ...DAYS.map((day) =>
      el(
        "div",
        { class: "hours-day", dataset: { day } },
        el("label", { class: "check" }, el("input", { type: "checkbox", name: `open_${day}`, checked: Boolean(hours[day]) }), t(`day_${day}`)),
        el("input", { type: "time", name: `from_${day}`, value: hours[day] ? hours[day][0] : "09:00", "aria-label": t("opens") }),
        el("input", { type: "time", name: `to_${day}`, value: hours[day] ? hours[day][1] : "20:00", "aria-label": t("closes") }),
      ),
    ),
  );
  return [
    el(
      "form",
      { class: "office-form settings-form", id: "settings-form", dataset: { kind: "settings" }, novalidate: true },
      el(
        "div",
        { class: "settings-cols" },
        el(
          "div",
          {},
          el("h2", { text: t("settings_spa") }),
          field(t("set_spa_name"), { name: "spa_name", value: s.spa_name, maxlength: 60 }),
          field(t("set_spa_address"), { name: "spa_address", rows: 3 }, "textarea"),
          el("div", { class: "field-row" }, field(t("set_currency"), { name: "currency", value: s.currency, maxlength: 8 }),
            select(t("set_language"), "language", [["en", t("lang_en")], ["de", t("lang_de")]], s.language)),
          el("h2", { text: t("settings_queue") }),
          el("div", { class: "field-row" }, number("last_entry_min", { min: 0, max: 600 }), number("max_wait_min", { min: 1 })),
          el("div", { class: "field-row" }, number("no_show_recall_min", { min: 0 }), number("undo_window_s", { min: 0, max: 3600 })),
        ),
        el(
          "div",
          {},
          week,
          el("h2", { text: t("settings_till") }),
          el("div", { class: "field-row" }, number("tender_confirm_multiple", { min: 2 }),
            field(t("set_largest_note"), { name: "largest_note", value: s.largest_note, inputmode: "decimal" })),
          el("div", { class: "field-row" },
            field(t("set_discount_without_manager"), { name: "discount_without_manager", value: s.discount_without_manager, inputmode: "decimal" }),
            el("label", { class: "check" }, el("input", { type: "checkbox", name: "prices_include_tax", checked: s.prices_include_tax }), t("set_prices_include_tax"))),
        ),
      ),
      el("div", { class: "form-actions" }, el("button", { type: "submit", class: "primary", id: "settings-save", text: t("save") })),
    ),
  ].map((node) => {
    const address = node.querySelector('textarea[name="spa_address"]');
    if (address) address.value = s.spa_address || "";
    return node;
  });
}

function describe(change) {
  const d = change.detail || {};
  const parts = Object.entries(d.changes || {}).map(
    ([key, { before, after }]) => `${fieldName(key)}: ${shown(key, before)} → ${shown(key, after)}`,
  );
  if (parts.length) return parts.join("; ");
  if (d.after) return d.after.name || "";
  return "";
}

/** A changed field's name in the page's words: "largest_note_cents" → "Largest note". */
function fieldName(key) {
  const bare = key.replace(/_(cents|bp)$/, "");
  for (const candidate of [`set_${bare}`, bare === "duration_min" ? "duration" : bare]) {
    const text = t(candidate);
    if (text !== candidate) return text;
  }
  return key;
}

function cents(value) {
  const sign = value < 0 ? "-" : "";
  const whole = Math.floor(Math.abs(value) / 100);
  return `${sign}${whole}.${String(Math.abs(value) % 100).padStart(2, "0")}`;
}

function shown(key, v) {
  if (key === "opening_hours") {
    if (v === null || v === undefined) return t("always_open");
    const open = DAYS.filter((day) => v[day]).map((day) => `${t(`day_${day}`)} ${v[day][0]}–${v[day][1]}`);
    return open.join(", ") || "—";
  }
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "boolean") return v ? t("yes") : t("no");
  if (typeof v === "number" && /_(cents|bp)$/.test(key)) return cents(v);
  if (key === "role") return t(`role_${v}`);
  if (Array.isArray(v)) return `[${v.join(", ")}]`;
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function changes() {
  const when = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });
  const rows = data.changes.map((c) =>
    el(
      "tr",
      { dataset: { action: c.action } },
      el("td", { text: when.format(new Date(c.at)) }),
      el("td", { text: c.by }),
      el("td", { text: t(`did_${c.action}`) }),
      el("td", { class: "detail", text: describe(c) }),
    ),
  );
  return [listing("changes", ["when", "who", "what", "detail"], rows)];
}

// ---- reading the forms --------------------------------------------------------------------------

function numberOrSkip(form, name, body) {
  const raw = value(form, name);
  if (raw !== "") body[name] = Number(raw);
}

const readers = {
  services(form) {
    const body = { name: value(form, "name"), price: value(form, "price"), tax_rate: value(form, "tax_rate") };
    numberOrSkip(form, "duration_min", body);
    numberOrSkip(form, "sort_order", body);
    body.category = value(form, "category") || null;
    body.therapists = checkedIds(form, "therapists");
    return body;
  },
  staff(form) {
    const body = { name: value(form, "name"), role: value(form, "role") };
    if (body.role === "therapist") body.skills = checkedIds(form, "skills");
    return body;
  },
  devices(form) {
    const body = { name: value(form, "name"), room: value(form, "room") || null };
    if (form.elements.role) body.role = value(form, "role");
    return body;
  },
  rooms(form) {
    const body = { name: value(form, "name") };
    numberOrSkip(form, "sort_order", body);
    return body;
  },
  settings(form) {
    const body = {
      spa_name: value(form, "spa_name"),
      spa_address: form.elements.spa_address.value.trim(),
      currency: value(form, "currency"),
      language: value(form, "language"),
      largest_note: value(form, "largest_note"),
      discount_without_manager: value(form, "discount_without_manager"),
      prices_include_tax: form.elements.prices_include_tax.checked,
    };
    for (const name of ["last_entry_min", "no_show_recall_min", "undo_window_s", "tender_confirm_multiple"]) {
      numberOrSkip(form, name, body);
    }
    const wait = value(form, "max_wait_min");
    body.max_wait_min = wait === "" ? null : Number(wait);
    if (form.elements.always_open.checked) body.opening_hours = null;
    else {
      body.opening_hours = {};
      for (const day of DAYS) {
        const hours = [form.elements[`from_${day}`].value, form.elements[`to_${day}`].value];
        if (form.elements[`open_${day}`].checked && !(hours[0] && hours[1] && hours[0] < hours[1])) {
          throw new FormProblem(t("hours_order", { day: t(`day_${day}`) }));
        }
        body.opening_hours[day] = form.elements[`open_${day}`].checked ? hours : null;
      }
    }
    return body;
  },
};

/** Something the page itself can tell is wrong with a form, before asking the server. */
class FormProblem extends Error {}

const SINGULAR = { services: "service", staff: "staff", devices: "device", rooms: "room" };

document.addEventListener("submit", async (event) => {
  const form = event.target.closest(".office-form");
  if (!form) return;
  event.preventDefault();
  const kind = form.dataset.kind;
  const save = form.querySelector('button[type="submit"]');
  save.disabled = true;
  try {
    if (kind === "settings") {
      const answer = await call("PATCH", "settings", readers.settings(form));
      data.settings = answer.settings;
      $("#office-spa").textContent = answer.settings.spa_name;
      document.title = answer.settings.spa_name;
      notice(t("saved_settings"));
      render("settings");
      return;
    }
    const id = editing[kind];
    const body = readers[kind](form);
    const answer = id === null ? await call("POST", kind, body) : await call("PATCH", `${kind}/${id}`, body);
    const row = answer[SINGULAR[kind]];
    editing[kind] = null;
    await load(kind);
    if (id === null && kind === "staff" && row.pin) {
      showOnce(t("pin_title", { name: row.name }), t("pin_text"), row.pin);
    } else if (id === null && kind === "devices") {
      showOnce(t("device_title", { name: row.name }), t("device_text"), "", row);
    } else if (row.pin) {
      showOnce(t("pin_title", { name: row.name }), t("pin_text"), row.pin); // promoted to admin
    } else {
      notice(t(id === null ? "added" : "saved", { name: row.name }));
    }
  } catch (err) {
    showError(err);
  } finally {
    save.disabled = false;
  }
});

document.addEventListener("change", (event) => {
  if (event.target.matches('#staff-form select[name="role"]')) {
    $("#skills-box").hidden = event.target.value !== "therapist";
  }
  if (event.target.closest("#settings-form .hours")) syncHours($("#settings-form"));
});

/** A closed day's times, and every day's while "always open", cannot be edited. */
function syncHours(form) {
  const always = form.elements.always_open.checked;
  for (const day of DAYS) {
    const open = form.elements[`open_${day}`];
    open.disabled = always;
    for (const name of [`from_${day}`, `to_${day}`]) form.elements[name].disabled = always || !open.checked;
  }
}

document.addEventListener("change", async (event) => {
  const box = event.target.closest("input[data-toggle]");
  if (!box) return;
  const kind = box.dataset.toggle;
  box.disabled = true;
  try {
    const answer = await call("PATCH", `${kind}/${box.dataset.id}`, { active: box.checked });
    const row = answer[SINGULAR[kind]];
    await load(kind);
    notice(t(row.active ? "switched_on" : "switched_off", { name: row.name }));
  } catch (err) {
    box.checked = !box.checked;
    box.disabled = false;
    showError(err);
  }
});

onAction(document.body, {
  edit: (button) => {
    editing[button.dataset.kind] = Number(button.dataset.id);
    render(button.dataset.kind);
    const first = $(`#${button.dataset.kind}-form input`);
    if (first) first.focus();
  },
  new: (button) => {
    editing[button.dataset.kind] = null;
    render(button.dataset.kind);
  },
  pin: async (button) => {
    const person = data.staff.find((s) => s.id === Number(button.dataset.id));
    if (!person || !confirm(t("reset_pin_confirm", { name: person.name }))) return;
    try {
      const answer = await call("POST", `staff/${person.id}/pin`, {});
      showOnce(t("pin_title", { name: answer.staff.name }), t("pin_text"), answer.staff.pin);
    } catch (err) {
      showError(err);
    }
  },
  revoke: async (button) => {
    const device = data.devices.find((d) => d.id === Number(button.dataset.id));
    if (!device || !confirm(t("revoke_confirm", { name: device.name }))) return;
    try {
      await call("POST", `devices/${device.id}/revoke`);
      await load("devices");
      notice(t("revoked_notice", { name: device.name }));
    } catch (err) {
      showError(err);
    }
  },
  reissue: async (button) => {
    const device = data.devices.find((d) => d.id === Number(button.dataset.id));
    if (!device || !confirm(t("reissue_confirm", { name: device.name }))) return;
    try {
      const answer = await call("POST", `devices/${device.id}/reissue`);
      await load("devices");
      showOnce(t("device_title", { name: answer.device.name }), t("device_text"), "", answer.device);
    } catch (err) {
      showError(err);
    }
  },
});

// ---- start ----------------------------------------------------------------------------------

applyStrings(document, t);
access.begin();
