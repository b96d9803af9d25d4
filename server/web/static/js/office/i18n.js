// The office's and "/"'s words in the spa's language (the settings' default): German from
// STRINGS_DE over the English tables, English for anything not translated.

import { config } from "../lib/config.js";
import { STRINGS_DE, strings } from "../strings.js";

export function localized(page) {
  const english = strings(page);
  const german = config.language === "de" ? STRINGS_DE[page] || {} : {};
  return function t(key, vars) {
    if (!Object.prototype.hasOwnProperty.call(german, key)) return english(key, vars);
    const text = german[key];
    return vars ? text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole)) : text;
  };
}
