// "/" — the spa's name, links to its screens and the office. Words from strings.js.

import { localized } from "./office/i18n.js";
import { applyStrings } from "./strings.js";

applyStrings(document, localized("landing"));
