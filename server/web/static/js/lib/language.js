// The customer's own language on the kiosk and the phone page: a button showing the other
// language by its own name (with more languages, a small chooser). The choice lives in this
// tab's sessionStorage, where strings.js's pageLanguage() finds it before the spa's default;
// the staff screens have no button, so only a customer's tab ever holds one. This module
// imports nothing, as strings.js imports it.

const KEY = "spa.language";

// Each language in its own name: the same words whatever language the page speaks, so they
// are not in strings.js's per-language tables.
const NAMES = { en: "English", de: "Deutsch" };

export function languageName(code) {
  return NAMES[code] || String(code).toUpperCase();
}

/** The language chosen in this tab, if the spa offers it; else null. */
export function chosenLanguage(languages) {
  let chosen = null;
  try {
    chosen = sessionStorage.getItem(KEY);
  } catch {
    return null; // storage switched off: the spa's default
  }
  return chosen && Array.isArray(languages) && languages.includes(chosen) ? chosen : null;
}

/** The language a page speaks: the tab's choice, else the spa's default, else English. */
export function languageOf(config) {
  const settings = config || {};
  return chosenLanguage(settings.languages) || settings.language || "en";
}

export function chooseLanguage(code) {
  try {
    sessionStorage.setItem(KEY, code);
  } catch {
    // storage switched off: the page stays in the spa's language
  }
}

/** Drops the tab's choice. True when the page was speaking another language than the spa's
 * default, i.e. it has to be drawn again. */
export function forgetLanguage(config) {
  const before = languageOf(config);
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    return false;
  }
  return before !== languageOf(config);
}

function option(code, className) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = className;
  button.lang = code;
  button.dataset.language = code;
  button.textContent = languageName(code);
  return button;
}

/**
 * The language button for a page with `config` ({language, languages}); null with one language.
 * onChoose(code) is called with the language picked. Its clicks stop here, so a screen's
 * delegated actions (the kiosk's "touch anywhere to start") never see them.
 */
export function languageButton(config, onChoose) {
  const current = languageOf(config);
  const others = (config.languages || []).filter((code) => code !== current);
  if (others.length === 0) return null;
  const box = document.createElement("div");
  box.className = "language";
  let list = null;
  if (others.length === 1) {
    box.append(option(others[0], "language-button"));
  } else {
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "language-button language-toggle";
    toggle.lang = current;
    toggle.textContent = `${languageName(current)} ▾`;
    toggle.setAttribute("aria-haspopup", "true");
    toggle.setAttribute("aria-expanded", "false");
    list = document.createElement("div");
    list.className = "language-list";
    list.hidden = true;
    list.append(...others.map((code) => option(code, "language-option")));
    box.append(toggle, list);
    document.addEventListener("click", (event) => {
      if (!box.contains(event.target)) setOpen(false);
    });
  }
  function setOpen(open) {
    if (!list) return;
    list.hidden = !open;
    box.querySelector(".language-toggle").setAttribute("aria-expanded", String(open));
  }
  box.addEventListener("click", (event) => {
    event.stopPropagation();
    const button = event.target.closest("button");
    if (!button || button.disabled) return;
    if (button.dataset.language) {
      setOpen(false);
      onChoose(button.dataset.language);
    } else {
      setOpen(list.hidden);
    }
  });
  return box;
}
