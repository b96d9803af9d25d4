// Corrections at the till: a discount on a line or the order (percent or amount, with a reason;
// a manager's PIN above the spa's share), a line removed before payment, a bill voided before
// payment and money refunded after it (whole or per item), both with a manager's PIN.
// Commands: cashier_discount, front_desk_remove_item, cashier_void, cashier_refund.

import { $, el, flash } from "../lib/dom.js";
import { whileBusy } from "../lib/live.js";
import { centsToWire, money, toCents } from "../lib/money.js";
import { errorText } from "../strings.js";
import { centsText, percentOff } from "./amount.js";
import { AmountPad } from "./amount_pad.js";
import { reasonPicker, stepButton } from "./dialog.js";
import { withManager } from "./manager.js";

const MAX_PERCENT = 10000; // 100 %, in hundredths

/** What a line comes to after its own discount, in cents. */
export function lineNet(item) {
  return toCents(item.line_total) - (toCents(item.discount || "0") || 0);
}

export class Corrections {
  constructor({ live, t, dialog, manager, withCashier, onView, onNotice }) {
    this.live = () => live();
    this.t = t;
    this.dialog = dialog;
    this.manager = manager;
    this.withCashier = withCashier;
    this.onView = onView; // (transaction view) → void: the till shows it
    this.onNotice = onNotice; // (text) → void
  }

  _error(box, error, overrides) {
    flash($(".dialog-error", box), errorText(this.t, error, overrides), 12000);
  }

  // ---- discounts -------------------------------------------------------------------------------

  discount(view, item) {
    const { t } = this;
    const base = item ? lineNet(item) + (toCents(item.discount || "0") || 0) : view.items.reduce((sum, i) => sum + lineNet(i), 0);
    const had = item ? toCents(item.discount || "0") > 0 : toCents(view.order_discount || "0") > 0;
    let kind = "percent";
    const pad = new AmountPad({
      t,
      id: "discount-pad",
      label: t("discount_percent"),
      max: MAX_PERCENT,
      format: (cents) => (kind === "percent" ? `${centsText(cents)} %` : money(cents)),
    });
    const reason = reasonPicker(t, "discount-reason", "discount_reasons");
    const kinds = el(
      "div",
      { class: "method kinds", role: "group" },
      el("button", { type: "button", id: "discount-kind-percent", dataset: { kind: "percent" }, "aria-pressed": "true", text: "%" }),
      el("button", {
        type: "button",
        id: "discount-kind-amount",
        dataset: { kind: "amount" },
        "aria-pressed": "false",
        text: t("discount_amount_key"),
      }),
    );
    const preview = el("p", { id: "discount-preview", class: "discount-preview" });
    const title = item
      ? t("discount_line_title", { name: item.name, amount: money(base) })
      : t("discount_order_title", { code: view.code, amount: money(base) });
    const box = this.dialog.show("discount", [
      el("h2", { class: "dialog-title", text: title }),
      el(
        "div",
        { class: "dialog-columns" },
        el("div", { class: "pad-column" }, kinds, pad.element),
        el("div", { class: "pad-column" }, reason.box, preview),
      ),
      el("p", { class: "error dialog-error", role: "alert", hidden: true }),
      el(
        "div",
        { class: "dialog-buttons" },
        el("button", { type: "button", id: "discount-cancel", text: t("cancel") }),
        had ? el("button", { type: "button", id: "discount-remove", text: t("discount_take_off") }) : null,
        el("button", { type: "button", id: "discount-apply", class: "primary", text: t("discount_apply") }),
      ),
    ]);
    const apply = $("#discount-apply", box);
    const off = () => {
      const value = pad.cents;
      if (value === null) return null;
      return kind === "percent" ? percentOff(base, value) : value;
    };
    const update = () => {
      const cents = off();
      const tooMuch = cents !== null && cents > base;
      if (cents === null) preview.textContent = "";
      else if (tooMuch) preview.textContent = t("discount_too_much", { amount: money(base) });
      else preview.textContent = t("discount_preview", { off: money(cents), left: money(base - cents) });
      preview.dataset.bad = String(tooMuch);
      apply.disabled = !pad.cents || tooMuch || !reason.input.value.trim() || apply.dataset.busy === "1";
      const remove = $("#discount-remove", box);
      if (remove) remove.disabled = !reason.input.value.trim() || remove.dataset.busy === "1";
    };
    pad.onChange = update;
    reason.input.addEventListener("input", update);
    kinds.addEventListener("click", (event) => {
      const button = event.target.closest("[data-kind]");
      if (!button) return;
      kind = button.dataset.kind;
      pad.max = kind === "percent" ? MAX_PERCENT : base;
      pad.set(null);
      pad.setLabel(t(kind === "percent" ? "discount_percent" : "discount_amount"));
      for (const b of kinds.querySelectorAll("[data-kind]")) b.setAttribute("aria-pressed", String(b === button));
      update();
    });
    update();
    $("#discount-cancel", box).addEventListener("click", () => this.dialog.close());
    const send = async (button, value) => {
      const body = { transaction_id: view.id, reason: reason.input.value.trim() };
      if (item) body.item_id = item.id;
      body[kind] = centsToWire(value);
      const ack = await whileBusy(button, () =>
        withManager(
          this.manager,
          t,
          (manager) => this.live().command("cashier_discount", this.withCashier(manager ? { ...body, manager } : body), { keyed: true }),
          { why: t("manager_for_discount") },
        ),
      );
      update();
      if (!ack) return; // the manager's PIN was not given
      if (!ack.ok) {
        this._error(box, ack.error, { manager_needed: t("manager_needed") });
        return;
      }
      this.dialog.close();
      this.onView(ack.transaction);
      const total = money(ack.transaction.total);
      this.onNotice(t(value ? "discount_done" : "discount_removed", { total }));
    };
    apply.addEventListener("click", () => {
      if (pad.cents) send(apply, pad.cents);
    });
    const remove = $("#discount-remove", box);
    if (remove) remove.addEventListener("click", () => send(remove, 0));
  }

  // ---- removing a line -------------------------------------------------------------------------

  async remove(view, item, button) {
    const { t } = this;
    const yes = await this.dialog.ask("remove", {
      title: t("remove_title", { name: item.name, code: view.code }),
      text: t("remove_text", { amount: money(lineNet(item)) }),
      yes: t("remove_yes"),
      no: t("remove_no"),
      danger: true,
    });
    if (!yes) return null;
    // The till that holds the payment removes it as itself (a front-desk command: no cashier_token).
    return whileBusy(button, () =>
      this.live().command("front_desk_remove_item", { transaction_id: view.id, item_id: item.id }, { keyed: true }),
    );
  }

  // ---- void ------------------------------------------------------------------------------------

  void(view) {
    const { t } = this;
    const reason = reasonPicker(t, "void-reason", "void_reasons");
    const box = this.dialog.show("void", [
      el("h2", { class: "dialog-title", text: t("void_title", { code: view.code, amount: money(view.total) }) }),
      el("p", { class: "dialog-text", text: t("void_text") }),
      reason.box,
      el("p", { class: "error dialog-error", role: "alert", hidden: true }),
      el(
        "div",
        { class: "dialog-buttons" },
        el("button", { type: "button", id: "void-cancel", text: t("cancel") }),
        el("button", { type: "button", id: "void-send", class: "danger", text: t("void_yes") }),
      ),
    ]);
    const send = $("#void-send", box);
    const update = () => {
      send.disabled = !reason.input.value.trim() || send.dataset.busy === "1";
    };
    reason.input.addEventListener("input", update);
    update();
    $("#void-cancel", box).addEventListener("click", () => this.dialog.close());
    send.addEventListener("click", async () => {
      const body = { transaction_id: view.id, reason: reason.input.value.trim() };
      const ack = await whileBusy(send, () =>
        withManager(
          this.manager,
          t,
          (manager) => this.live().command("cashier_void", this.withCashier({ ...body, manager }), { keyed: true }),
          { always: true, why: t("manager_for_void", { code: view.code }) },
        ),
      );
      update();
      if (!ack) return;
      if (!ack.ok) {
        this._error(box, ack.error);
        return;
      }
      this.dialog.close();
      this.onView(ack.transaction);
      this.onNotice(t(ack.print_job ? "void_done" : "void_done_no_printer", { code: view.code }));
    });
  }

  // ---- refund ----------------------------------------------------------------------------------

  /** payment: how it was paid here (the cashier_pay ack's), when the till knows it. */
  refund(view, payment) {
    const { t } = this;
    const chosen = new Map(view.items.map((i) => [i.id, i.quantity])); // item id → how many come back
    const split = Boolean(payment && payment.method === "split");
    let method = split ? "cash" : null; // null: back the way it was paid
    const rows = view.items.map((item) =>
      el(
        "li",
        { class: "refund-row", dataset: { itemId: item.id } },
        el("span", { class: "refund-name", text: item.name }),
        stepButton(t, -1, { item: item.id }),
        el("output", { class: "refund-qty", dataset: { item: item.id } }),
        stepButton(t, 1, { item: item.id }),
        el("span", { class: "refund-of", text: t("refund_of", { n: item.quantity, amount: money(lineNet(item)) }) }),
      ),
    );
    const methods = ["as_paid", "cash", "card"].filter((m) => !(split && m === "as_paid"));
    const reason = reasonPicker(t, "refund-reason", "refund_reasons");
    const box = this.dialog.show("refund", [
      el("h2", { class: "dialog-title", text: t("refund_title", { code: view.code }) }),
      el(
        "div",
        { class: "dialog-columns" },
        el(
          "div",
          { class: "pad-column" },
          el("ul", { class: "refund-items" }, ...rows),
          el("span", { class: "pad-label", text: t("refund_method") }),
          el(
            "div",
            { class: "method refund-methods", role: "group" },
            ...methods.map((m) =>
              el("button", { type: "button", id: `refund-method-${m}`, dataset: { refundMethod: m }, text: t(`refund_${m}`) }),
            ),
          ),
        ),
        el("div", { class: "pad-column" }, reason.box),
      ),
      el("p", { class: "error dialog-error", role: "alert", hidden: true }),
      el(
        "div",
        { class: "dialog-buttons" },
        el("button", { type: "button", id: "refund-cancel", text: t("cancel") }),
        el("button", { type: "button", id: "refund-send", class: "danger", text: t("refund_yes") }),
      ),
    ]);
    const send = $("#refund-send", box);
    const update = () => {
      for (const out of box.querySelectorAll(".refund-qty")) out.textContent = String(chosen.get(Number(out.dataset.item)));
      for (const b of box.querySelectorAll("[data-refund-method]")) {
        b.setAttribute("aria-pressed", String((b.dataset.refundMethod === "as_paid" ? null : b.dataset.refundMethod) === method));
      }
      const any = [...chosen.values()].some((n) => n > 0);
      send.disabled = !any || !reason.input.value.trim() || send.dataset.busy === "1";
    };
    box.addEventListener("click", (event) => {
      const step = event.target.closest("[data-step]");
      if (step) {
        const id = Number(step.dataset.item);
        const item = view.items.find((i) => i.id === id);
        chosen.set(id, Math.min(item.quantity, Math.max(0, chosen.get(id) + Number(step.dataset.step))));
      }
      const m = event.target.closest("[data-refund-method]");
      if (m) method = m.dataset.refundMethod === "as_paid" ? null : m.dataset.refundMethod;
      update();
    });
    reason.input.addEventListener("input", update);
    update();
    $("#refund-cancel", box).addEventListener("click", () => this.dialog.close());
    send.addEventListener("click", async () => {
      const whole = view.items.every((i) => chosen.get(i.id) === i.quantity);
      const body = { transaction_id: view.id, reason: reason.input.value.trim() };
      if (!whole) {
        body.items = view.items.filter((i) => chosen.get(i.id) > 0).map((i) => ({ item_id: i.id, quantity: chosen.get(i.id) }));
      }
      if (method) body.method = method;
      const ack = await whileBusy(send, () =>
        withManager(
          this.manager,
          t,
          (manager) => this.live().command("cashier_refund", this.withCashier({ ...body, manager }), { keyed: true }),
          { always: true, why: t("manager_for_refund", { code: view.code }) },
        ),
      );
      update();
      if (!ack) return;
      if (!ack.ok) {
        this._error(box, ack.error, {
          invalid_payload: /split/.test((ack.error && ack.error.message) || "") ? t("refund_pick_method") : undefined,
        });
        return;
      }
      this.onView(ack.transaction);
      this._refunded(view, ack);
    });
  }

  _refunded(view, ack) {
    const { t } = this;
    const refund = ack.refund;
    const names = new Map(view.items.map((i) => [i.id, i.name]));
    const box = this.dialog.show("refund-result", [
      el("h2", { class: "dialog-title", text: t("refund_done_title", { code: view.code }) }),
      el("output", { id: "refund-amount", class: "change-due", text: money(refund.amount) }),
      el("p", {
        id: "refund-how",
        class: "refund-how",
        text: t(refund.method === "cash" ? "refund_give_cash" : "refund_to_card", { amount: money(refund.amount) }),
      }),
      refund.receipt_number
        ? el("p", { id: "refund-number", class: "muted", text: t("refund_number", { number: refund.receipt_number }) })
        : null,
      el(
        "ul",
        { class: "refund-lines" },
        ...refund.items.map((i) =>
          el(
            "li",
            {},
            el("span", { text: `${i.quantity} × ${names.get(i.item_id) || i.item_id}` }),
            el("strong", { text: money(i.amount) }),
          ),
        ),
      ),
      el("p", { class: "muted", text: t(ack.print_job ? "refund_slip" : "refund_no_printer") }),
      el(
        "div",
        { class: "dialog-buttons" },
        el("button", { type: "button", id: "refund-done", class: "primary", text: t("dialog_done") }),
      ),
    ]);
    $("#refund-done", box).addEventListener("click", () => this.dialog.close());
    this.onNotice(t("refund_notice", { amount: money(refund.amount), code: view.code }));
  }
}
