// Small form builders for the office: labelled inputs, checkbox lists, and reading them back.

import { el } from "../lib/dom.js";

let counter = 0;

/** A labelled field: <label>text <input …></label>; attrs go to the input. */
export function field(label, attrs = {}, tag = "input") {
  const id = attrs.id || `f${++counter}`;
  const input = el(tag, { ...attrs, id });
  return el("div", { class: "field" }, el("label", { for: id, text: label }), input);
}

export function select(label, name, options, value) {
  const id = `f${++counter}`;
  const box = el(
    "select",
    { id, name },
    ...options.map(([v, text]) => el("option", { value: v, selected: v === value, text })),
  );
  return el("div", { class: "field" }, el("label", { for: id, text: label }), box);
}

/** Checkboxes named `name`, one per [value, text]; `checked` a set of values. */
export function checks(legend, name, options, checked) {
  return el(
    "fieldset",
    { class: "checks" },
    el("legend", { text: legend }),
    ...options.map(([value, text]) =>
      el(
        "label",
        { class: "check" },
        el("input", { type: "checkbox", name, value: String(value), checked: checked.has(value) }),
        text,
      ),
    ),
  );
}

/** The ids ticked in a checkbox list. */
export function checkedIds(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => Number(box.value));
}

export function value(form, name) {
  const input = form.elements[name];
  return input ? input.value.trim() : "";
}
