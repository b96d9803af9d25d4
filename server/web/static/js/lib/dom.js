// Small DOM helpers. Lists are rebuilt with replaceChildren (old nodes are released) and
// clicks are handled by delegation, so a screen left on for days does not pile up listeners.

export const $ = (selector, root = document) => root.querySelector(selector);

/** el("li", {class: "row", dataset: {code: "A-001"}}, "text", child) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Enables a button unless an action of its own is still running (see whileBusy). */
export function setEnabled(button, enabled) {
  button.disabled = !enabled || button.dataset.busy === "1";
}

/** Shows one of a group of elements (screens, panels) and hides the rest. */
export function showOnly(elements, visible) {
  for (const element of elements) element.hidden = element !== visible;
}

/** Delegated clicks: handlers[data-action](button, event) for any [data-action] under root. */
export function onAction(root, handlers) {
  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    if (!button || !root.contains(button) || button.disabled) return;
    const handler = handlers[button.dataset.action];
    if (handler) handler(button, event);
  });
}

/** Keeps a message in an element for a while; a newer message replaces it. */
export function flash(element, text, ms = 6000) {
  clearTimeout(element._flashTimer);
  element.textContent = text;
  element.hidden = !text;
  if (text && ms) {
    element._flashTimer = setTimeout(() => {
      element.textContent = "";
      element.hidden = true;
    }, ms);
  }
}

/** A status from the wire ("in_service") in the page's words. */
export function statusText(t, status) {
  return t(`status_${status}`);
}

export function waitText(t, minutes) {
  if (minutes === null || minutes === undefined) return "";
  return minutes <= 0 ? t("wait_now") : t("wait_about", { n: minutes });
}

/** A room box's device name "room-2" → "2"; other room names as they are. */
export function roomName(room) {
  const match = /^room[\s_.#-]*(.+)$/i.exec(String(room ?? ""));
  return match ? match[1] : String(room ?? "");
}

/** "3" → "Room 3", "room-2" → "Room 2"; "" when there is no room. */
export function roomText(t, room) {
  return room === null || room === undefined || room === "" ? "" : t("room", { room: roomName(room) });
}
