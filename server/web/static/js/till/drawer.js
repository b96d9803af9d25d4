// The till's cash drawer on the cashier screen: its state (open or closed, float, what it should
// hold), opening it with a float, cash put in or taken out with a reason, the X report at any
// time, and closing it with the cash counted by note and coin (over or short, live).
// Commands: till_status, till_open, till_cash, till_report_x, till_close (docs/PROTOCOL.md).

import { config } from "../lib/config.js";
import { $, el, flash } from "../lib/dom.js";
import { whileBusy } from "../lib/live.js";
import { centsToWire, money, toCents } from "../lib/money.js";
import { errorText } from "../strings.js";
import { signedCents } from "./amount.js";
import { AmountPad } from "./amount_pad.js";
import { countedCents, denominations } from "./denominations.js";
import { reasonPicker, signOf, stepButton } from "./dialog.js";

const MAX_COUNT = 100000; // how many of one note or coin the server takes (till_close)

function timeOfDay(iso) {
  if (!iso) return "";
  try {
    return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: config.timezone || undefined });
  } catch (err) {
    return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  }
}

/** "+€2.00 over", "−€3.00 short", "exact" for a signed amount in cents. */
export function overShortText(t, cents) {
  if (cents === 0) return t("drawer_exact");
  return cents > 0 ? t("drawer_over", { amount: money(cents) }) : t("drawer_short", { amount: money(-cents) });
}

export class Drawer {
  constructor({ live, t, dialog, withCashier, onChange }) {
    this.live = () => live();
    this.t = t;
    this.dialog = dialog;
    this.withCashier = withCashier;
    this.onChange = onChange;
    this.state = { known: false, open: false, session: null, report: null, refused: false };
  }

  /** Asks the server how the drawer stands now. */
  async refresh() {
    const live = this.live();
    if (!live) return;
    const ack = await live.command("till_status");
    if (ack.ok) this.state = { known: true, open: ack.open, session: ack.session, report: ack.report || null, refused: false };
    else if (ack.error && ack.error.code === "forbidden") this.state = { ...this.state, known: false, refused: true };
    this.onChange();
    if (this.dialog.open && this.dialog.name === "drawer") this.show();
  }

  get open() {
    return this.state.known && this.state.open;
  }

  get closed() {
    return this.state.known && !this.state.open;
  }

  /** The header's words for the drawer. */
  chip() {
    const { t } = this;
    if (!this.state.known) return "";
    if (!this.state.open) return t("drawer_chip_closed");
    const expected = this.state.report ? this.state.report.expected.cash : this.state.session.float;
    return t("drawer_chip_open", { amount: money(expected) });
  }

  // ---- the dialog ------------------------------------------------------------------------------

  /** The drawer's dialog: its figures and what can be done now. */
  show(message = "") {
    const { t } = this;
    if (!this.state.open) {
      this._showOpen(message);
      return;
    }
    const { session, report } = this.state;
    const box = this.dialog.show("drawer", [
      el("h2", { class: "dialog-title", text: t("drawer_title_open") }),
      el("p", {
        id: "drawer-since",
        class: "muted",
        text: t("drawer_since", { time: timeOfDay(session.opened_at), float: money(session.float) }),
      }),
      report ? this._figures(report) : null,
      el("p", { id: "drawer-message", class: "notice", role: "status", hidden: !message, text: message }),
      el("p", { id: "drawer-error", class: "error", role: "alert", hidden: true }),
      el(
        "div",
        { class: "dialog-buttons drawer-actions" },
        el("button", { type: "button", id: "drawer-cash-in", text: t("drawer_cash_in") }),
        el("button", { type: "button", id: "drawer-cash-out", text: t("drawer_cash_out") }),
        el("button", { type: "button", id: "drawer-x", text: t("drawer_x_report") }),
        el("button", { type: "button", id: "drawer-close", class: "danger", text: t("drawer_close_till") }),
        el("button", { type: "button", id: "drawer-done", class: "primary", text: t("dialog_done") }),
      ),
    ]);
    $("#drawer-cash-in", box).addEventListener("click", () => this._showCash("in"));
    $("#drawer-cash-out", box).addEventListener("click", () => this._showCash("out"));
    $("#drawer-x", box).addEventListener("click", (event) => this._reportX(event.currentTarget));
    $("#drawer-close", box).addEventListener("click", () => this._showClose());
    $("#drawer-done", box).addEventListener("click", () => this.dialog.close());
  }

  _figures(report) {
    const { t } = this;
    const rows = [
      ["float", report.float],
      ["cash_sales", report.sales.cash],
      ["card_sales", report.sales.card],
      ["tips", report.tips],
      ["cash_refunds", report.refunds.cash],
      ["card_refunds", report.refunds.card],
      ["cash_in", report.cash_in],
      ["cash_out", report.cash_out],
    ];
    return el(
      "div",
      { class: "drawer-figures" },
      el(
        "dl",
        { class: "figures" },
        ...rows.flatMap(([key, value]) => [
          el("dt", { text: t(`drawer_${key}`) }),
          el("dd", { dataset: { figure: key }, text: money(value) }),
        ]),
      ),
      el(
        "div",
        { class: "expected" },
        el("span", { text: t("drawer_expected_cash") }),
        el("strong", { id: "drawer-expected-cash", text: money(report.expected.cash) }),
        el("span", { text: t("drawer_expected_card") }),
        el("strong", { id: "drawer-expected-card", text: money(report.expected.card) }),
        el("span", { text: t("drawer_payments") }),
        el("strong", { id: "drawer-payments", text: String(report.payments) }),
      ),
    );
  }

  _error(box, error) {
    flash($("#drawer-error", box), errorText(this.t, error), 12000);
  }

  _showOpen(message) {
    const { t } = this;
    const pad = new AmountPad({ t, id: "float-pad", label: t("drawer_float") });
    const box = this.dialog.show("drawer", [
      el("h2", { class: "dialog-title", text: t("drawer_title_closed") }),
      el("p", { class: "dialog-text", text: t("drawer_closed_text") }),
      el("p", { id: "drawer-message", class: "notice", role: "status", hidden: !message, text: message }),
      pad.element,
      el("p", { id: "drawer-error", class: "error", role: "alert", hidden: true }),
      el(
        "div",
        { class: "dialog-buttons" },
        el("button", { type: "button", id: "drawer-cancel", text: t("cancel") }),
        el("button", { type: "button", id: "drawer-open", class: "primary", text: t("drawer_open_till") }),
      ),
    ]);
    const openButton = $("#drawer-open", box);
    const enable = () => {
      openButton.disabled = pad.cents === null || openButton.dataset.busy === "1";
    };
    pad.onChange = enable;
    enable();
    $("#drawer-cancel", box).addEventListener("click", () => this.dialog.close());
    openButton.addEventListener("click", async () => {
      const cents = pad.cents;
      if (cents === null) return;
      const ack = await whileBusy(openButton, () =>
        this.live().command("till_open", this.withCashier({ float: centsToWire(cents) }), { keyed: true }),
      );
      if (!ack) return;
      enable();
      if (!ack.ok) {
        this._error(box, ack.error);
        return;
      }
      await this.refresh();
      this.show(t("drawer_opened", { float: money(cents) }));
    });
  }

  _showCash(kind) {
    const { t } = this;
    const pad = new AmountPad({ t, id: "cash-pad", label: t(kind === "in" ? "drawer_cash_in_amount" : "drawer_cash_out_amount") });
    const reason = reasonPicker(t, "cash-reason", kind === "in" ? "drawer_reasons_in" : "drawer_reasons_out");
    const box = this.dialog.show("drawer", [
      el("h2", { class: "dialog-title", text: t(kind === "in" ? "drawer_cash_in" : "drawer_cash_out") }),
      el(
        "div",
        { class: "dialog-columns" },
        pad.element,
        reason.box,
      ),
      el("p", { id: "drawer-error", class: "error", role: "alert", hidden: true }),
      el(
        "div",
        { class: "dialog-buttons" },
        el("button", { type: "button", id: "cash-back", text: t("back") }),
        el("button", {
          type: "button",
          id: "cash-send",
          class: "primary",
          text: t(kind === "in" ? "drawer_put_in" : "drawer_take_out"),
        }),
      ),
    ]);
    const send = $("#cash-send", box);
    const enable = () => {
      send.disabled = !pad.cents || !reason.input.value.trim() || send.dataset.busy === "1";
    };
    pad.onChange = enable;
    reason.input.addEventListener("input", enable);
    enable();
    $("#cash-back", box).addEventListener("click", () => this.show());
    send.addEventListener("click", async () => {
      const cents = pad.cents;
      const why = reason.input.value.trim();
      if (!cents || !why) return;
      const payload = this.withCashier({ kind, amount: centsToWire(cents), reason: why });
      const ack = await whileBusy(send, () => this.live().command("till_cash", payload, { keyed: true }));
      if (!ack) return;
      enable();
      if (!ack.ok) {
        this._error(box, ack.error);
        return;
      }
      await this.refresh();
      const done = kind === "in" ? "drawer_put_in_done" : "drawer_taken_out_done";
      this.show(t(done, { amount: money(cents), expected: money(ack.expected_cash) }));
    });
  }

  async _reportX(button) {
    const { t } = this;
    const ack = await whileBusy(button, () => this.live().command("till_report_x"));
    if (!ack) return;
    if (!ack.ok) {
      this._error(this.dialog.overlay, ack.error);
      if (ack.error && ack.error.code === "till_closed") await this.refresh();
      return;
    }
    this.state.report = ack.report;
    const box = this.dialog.show("drawer", [
      el("h2", { class: "dialog-title", text: t("drawer_x_title", { time: timeOfDay(ack.report.at) }) }),
      el("p", { id: "drawer-message", class: "notice", role: "status", text: t(ack.print_job ? "drawer_x_printed" : "drawer_x_kept") }),
      this._figures(ack.report),
      el(
        "div",
        { class: "dialog-buttons" },
        el("button", { type: "button", id: "x-back", class: "primary", text: t("back") }),
      ),
    ]);
    box.dataset.report = "x";
    $("#x-back", box).addEventListener("click", () => this.refresh().then(() => this.show()));
  }

  _showClose() {
    const { t } = this;
    const { notes, coins } = denominations((config.currency || {}).symbol);
    const counts = {};
    const expected = this.state.report ? toCents(this.state.report.expected.cash) : 0;
    const row = (value) => {
      counts[value] = 0;
      const input = el("input", {
        class: "count-input",
        inputmode: "numeric",
        maxlength: "6",
        value: "0",
        "aria-label": t("drawer_count_of", { value: money(value) }),
        dataset: { value },
      });
      return el(
        "div",
        { class: "denom-row", dataset: { denomination: value } },
        el("span", { class: "denom-value", text: money(value) }),
        stepButton(t, -1, { value }),
        input,
        stepButton(t, 1, { value }),
        el("span", { class: "denom-sum", text: money(0) }),
      );
    };
    const card = el("input", {
      id: "counted-card",
      class: "count-input card-input",
      inputmode: "decimal",
      maxlength: "10",
      placeholder: t("drawer_card_placeholder"),
      "aria-label": t("drawer_counted_card"),
    });
    const box = this.dialog.show("drawer", [
      el("h2", { class: "dialog-title", text: t("drawer_close_title") }),
      el(
        "div",
        { class: "count-layout" },
        el("div", { class: "denoms" }, el("h3", { text: t("drawer_notes") }), ...notes.map(row)),
        el("div", { class: "denoms" }, el("h3", { text: t("drawer_coins") }), ...coins.map(row)),
        // The totals and the buttons beside the count, so the whole count fits a 7" display.
        el(
          "div",
          { class: "count-side" },
          el(
            "div",
            { class: "count-totals" },
            el("span", { text: t("drawer_counted") }),
            el("strong", { id: "count-total", text: money(0) }),
            el("span", { text: t("drawer_expected_cash") }),
            el("strong", { id: "count-expected", text: money(expected) }),
            el("span", { text: t("drawer_difference") }),
            el("strong", { id: "count-over-short" }),
            el("label", { for: "counted-card", text: t("drawer_counted_card") }),
            card,
          ),
          el("p", { id: "drawer-error", class: "error", role: "alert", hidden: true }),
          el(
            "div",
            { class: "dialog-buttons" },
            el("button", { type: "button", id: "count-back", text: t("back") }),
            el("button", { type: "button", id: "count-close", class: "danger", text: t("drawer_close_now") }),
          ),
        ),
      ),
    ]);
    const total = () => countedCents(counts);
    const update = () => {
      for (const line of box.querySelectorAll(".denom-row")) {
        const value = Number(line.dataset.denomination);
        $(".denom-sum", line).textContent = money(value * counts[value]);
      }
      const sum = total();
      $("#count-total", box).textContent = money(sum);
      const off = sum - expected;
      const shown = $("#count-over-short", box);
      shown.textContent = overShortText(t, off);
      shown.dataset.sign = signOf(off);
      const cardText = card.value.trim();
      card.classList.toggle("invalid", cardText !== "" && toCents(cardText.replace(",", ".")) === null);
    };
    box.addEventListener("click", (event) => {
      const button = event.target.closest("[data-step]");
      if (!button) return;
      const value = Number(button.dataset.value);
      counts[value] = Math.min(MAX_COUNT, Math.max(0, counts[value] + Number(button.dataset.step)));
      $(`.count-input[data-value="${value}"]`, box).value = String(counts[value]);
      update();
    });
    box.addEventListener("input", (event) => {
      const input = event.target;
      if (!input.dataset || !input.dataset.value) {
        update();
        return;
      }
      const digits = input.value.replace(/[^0-9]/g, "");
      counts[Number(input.dataset.value)] = Math.min(MAX_COUNT, Number(digits || "0"));
      if (digits !== input.value) input.value = digits;
      update();
    });
    update();
    $("#count-back", box).addEventListener("click", () => this.show());
    const closeButton = $("#count-close", box);
    closeButton.addEventListener("click", async () => {
      const cardText = card.value.trim().replace(",", ".");
      const cardCents = cardText === "" ? null : toCents(cardText);
      if (cardText !== "" && cardCents === null) {
        this._error(box, { code: "invalid_payload", message: t("drawer_card_invalid") });
        return;
      }
      const counted = {};
      for (const [value, n] of Object.entries(counts)) if (n > 0) counted[value] = n;
      const payload = { counted };
      if (cardCents !== null) payload.counted_card = centsToWire(cardCents);
      const ack = await whileBusy(closeButton, () =>
        this.live().command("till_close", this.withCashier(payload), { keyed: true }),
      );
      if (!ack) return;
      if (!ack.ok) {
        this._error(box, ack.error);
        return;
      }
      await this.refresh();
      this._showZ(ack.report, Boolean(ack.print_job));
    });
  }

  _showZ(report, printed) {
    const { t } = this;
    const cashOff = signedCents(report.over_short.cash);
    const cardOff = signedCents(report.over_short.card);
    const box = this.dialog.show("drawer", [
      el("h2", { class: "dialog-title", text: t("drawer_z_title") }),
      el("p", { class: "notice", role: "status", text: t(printed ? "drawer_z_printed" : "drawer_z_kept") }),
      el(
        "table",
        { class: "z-table" },
        el(
          "tr",
          {},
          el("th"),
          ...["drawer_expected", "drawer_counted", "drawer_difference"].map((key) => el("th", { text: t(key) })),
        ),
        el(
          "tr",
          { dataset: { method: "cash" } },
          el("th", { text: t("cash") }),
          el("td", { text: money(report.expected.cash) }),
          el("td", { text: money(report.counted.cash) }),
          el("td", { id: "z-cash", class: "over-short", dataset: { sign: signOf(cashOff) }, text: overShortText(t, cashOff) }),
        ),
        el(
          "tr",
          { dataset: { method: "card" } },
          el("th", { text: t("card") }),
          el("td", { text: money(report.expected.card) }),
          el("td", { text: report.counted.card === null ? "—" : money(report.counted.card) }),
          el("td", { id: "z-card", class: "over-short", text: cardOff === null ? "—" : overShortText(t, cardOff) }),
        ),
      ),
      el(
        "div",
        { class: "dialog-buttons" },
        el("button", { type: "button", id: "z-done", class: "primary", text: t("dialog_done") }),
      ),
    ]);
    box.dataset.report = "z";
    $("#z-done", box).addEventListener("click", () => this.dialog.close());
  }
}
