// Every word the screens show or say, in one place, one table per page: translate here.
// "{name}" placeholders are filled in by the page. Amounts arrive already formatted.

export const LANGUAGE = "en";

export const STRINGS = {
  common: {
    connecting: "Connecting…",
    reconnecting: "Reconnecting…",
    refused: "This screen is not authorised. Ask the manager to set it up again.",
    no_token: "This screen has no device token. Open it as {path}#token=…",
    loading: "Loading…",
    close: "Close",
    back: "Back",
    cancel: "Cancel",
    sign_in: "Sign in",
    sign_out: "Sign out",
    session_over: "The sign-in has ended. Please sign in again.",
    minutes: "{n} min",
    wait_now: "now",
    wait_about: "about {n} min",
    room: "Room {room}",
    items_count_one: "1 service",
    items_count: "{n} services",
    status_pending_therapist: "Waiting",
    status_therapist_confirmed: "Called",
    status_in_service: "In treatment",
    status_awaiting_payment: "To pay",
    status_paying: "Paying",
    status_paid: "Paid",
    status_cancelled: "Cancelled",
  },

  // Acknowledgement errors by code, in plain words; pages may override a code in their own table.
  errors: {
    invalid_payload: "That was not accepted: {message}",
    forbidden: "Not allowed: {message}",
    not_found: "Not found: {message}",
    queue_empty: "Nobody is waiting right now.",
    invalid_state: "That is not possible right now: {message}",
    insufficient_payment: "Not enough money: {message}",
    unknown_service: "That service is no longer offered.",
    conflict: "Someone else changed this at the same moment. Please try again.",
    busy: "The server is busy. Please try again in a moment.",
    internal_error: "Something went wrong on the server; nothing was changed.",
    timeout: "No answer from the server. Please try again.",
    offline: "Not connected to the server. Please wait a moment and try again.",
    wrong_pin: "Wrong PIN. Please try again.",
  },

  signin: {
    signin_title: "Who are you?",
    signin_pin_title: "PIN for {name}",
    signin_ok: "Sign in",
    signin_no_staff: "Nobody can sign in here yet: staff need a PIN.",
    signin_token_label: "Or paste a staff token",
    signin_token_use: "Use token",
    signin_token_placeholder: "st_…",
  },

  kiosk: {
    title: "Welcome",
    attract_title: "Welcome",
    attract_text: "Choose your treatments here and take a seat — we will call your code.",
    start: "Touch to start",
    choose_title: "Choose your treatments",
    start_over: "Start over",
    cart_title: "Your selection",
    cart_empty: "Touch a treatment to add it.",
    total: "Total",
    next: "Next",
    add: "Add",
    remove_one: "One less",
    add_one: "One more",
    in_cart: "× {n}",
    duration: "{n} min",
    name_title: "Your name",
    name_hint: "Type your name",
    confirm: "Confirm",
    shift: "⇧",
    space: "space",
    backspace: "⌫",
    accents: "àé",
    letters: "abc",
    too_many: "At most {n} of one treatment.",
    ticket_intro: "Your code",
    ticket_position: "Place in queue",
    ticket_wait: "Estimated wait",
    ticket_done: "Done",
    ticket_cancel: "Cancel my visit",
    ticket_cancel_question: "Cancel your visit?",
    ticket_cancel_yes: "Yes, cancel",
    ticket_cancel_no: "No, keep it",
    ticket_pending_therapist: "Please take a seat. Watch the screen for your code.",
    ticket_therapist_confirmed: "It is your turn! Please go to room {room}.",
    ticket_therapist_confirmed_no_room: "It is your turn! Please go to reception.",
    ticket_in_service: "Enjoy your treatment.",
    ticket_awaiting_payment: "Please go to the cashier.",
    ticket_paying: "At the cashier.",
    ticket_paid: "Thank you for your visit!",
    ticket_cancelled: "Your visit has been cancelled.",
    catalog_failed: "The treatments could not be loaded. Trying again…",
  },

  therapist: {
    title: "Therapist",
    signed_in_as: "{name}",
    room_label: "Room {room}",
    current_title: "Your customer",
    no_current: "No customer with you.",
    next_customer: "Next customer",
    start: "Start",
    add_service: "Add service",
    finish: "Finish",
    release: "Give back",
    add_title: "Add a service",
    total: "Total",
    waiting_title: "Waiting",
    waiting_empty: "Nobody is waiting.",
    waited: "{n} min",
    finished: "{code} is done and goes to the cashier.",
    released: "{code} went back to the queue.",
    added: "{service} added.",
    queue_empty: "Nobody is waiting right now.",
    another_customer: "Switch",
  },

  cashier: {
    title: "Cashier",
    lookup_placeholder: "Scan or type a code",
    lookup_button: "Find",
    claim_next: "Next to pay",
    queue_title: "Waiting to pay",
    queue_empty: "Nobody is waiting to pay.",
    paying_at: "at {desk}",
    no_transaction: "Scan a receipt code, type it and press Enter, or take the next customer.",
    total: "Total",
    tendered: "Tendered",
    change: "Change",
    change_due: "Change due",
    short_by: "Short by {amount}",
    cash: "Cash",
    card: "Card",
    exact: "Exact",
    clear: "C",
    backspace: "⌫",
    pay: "Pay {amount}",
    pay_plain: "Pay",
    paid: "Paid",
    release: "Put back",
    done: "Next",
    reprint: "Reprint",
    not_ready: "{code} is not ready to pay yet ({status}).",
    already_paid: "{code} is already paid.",
    cancelled: "{code} was cancelled.",
    print_pending: "Printing the receipt…",
    print_ok: "Receipt printed.",
    print_failed: "The receipt did not print: {detail}",
    print_unknown: "Did the receipt print?",
    print_unknown_hint: "The printer stopped before confirming it ({detail}). If not, press Reprint: a copy, the drawer stays shut.",
    print_none: "No receipt printer at this till.",
    print_slow: "The printer has not answered yet.",
    insufficient_payment: "Not enough: {paid} was tendered but {due} is due.",
    queue_empty: "Nobody is waiting to pay.",
    not_found: "No ticket {code} today.",
    not_a_code: "“{code}” is not a ticket code like A-042.",
    signed_in_as: "{name}",
    till_only: "Till",
    enter_amount: "Enter the amount tendered.",
    // The till appliance's devices, as its heartbeats report them.
    device_problem: "{device}: {state}",
    device_printer: "Printer",
    device_scanner: "Scanner",
    device_drawer: "Cash drawer",
    health_missing: "not connected",
    health_offline: "offline",
    health_paper_low: "paper low",
    health_paper_out: "out of paper",
    health_error: "not working",
  },

  lobby: {
    title: "Lobby",
    serving_title: "Now serving",
    waiting_title: "Waiting",
    cashier_title: "Please go to the cashier",
    serving_empty: "—",
    waiting_empty: "Nobody is waiting.",
    cashier_empty: "—",
    room: "Room {room}",
    wait_about: "~{n} min",
    no_room: "Reception",
    desk: "{desk}",
    more: "+ {n} more",
    voice_on: "Voice on",
    voice_off: "Voice off",
    // What the lobby says; {code} is spelled for speech ("A 42").
    say_room: "{code}, {name}, please go to room {room}.",
    say_no_room: "{code}, {name}, please come to reception.",
    say_cashier: "{code}, {name}, please go to the cashier.",
    speech_lang: "en-GB",
  },
};

/** A lookup for one page: its own table first, then the shared ones. */
export function strings(page) {
  const tables = [STRINGS[page] || {}, STRINGS.signin, STRINGS.common, STRINGS.errors];
  return function t(key, vars) {
    let text;
    for (const table of tables) {
      if (Object.prototype.hasOwnProperty.call(table, key)) {
        text = table[key];
        break;
      }
    }
    if (text === undefined) return key;
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
  };
}

/** Fills [data-t] (text), [data-t-label] (aria-label) and [data-t-placeholder] under root. */
export function applyStrings(root, t) {
  for (const el of root.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of root.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
  for (const el of root.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
}

/** The plain-words message for a failed acknowledgement. */
export function errorText(t, error, overrides = {}) {
  const code = (error && error.code) || "internal_error";
  const message = (error && error.message) || "";
  if (overrides[code]) return overrides[code];
  const text = t(code, { message });
  return text === code ? message || t("internal_error") : text;
}
