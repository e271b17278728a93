// The checks' findings in the UI's language. The core writes each finding's
// explanation in English with its particulars (counts, the marketplace, the
// offending words) baked in; here a finding's rule picks a translated
// sentence and those particulars are filled back in: the excerpt (the
// offending span) and the field from the finding itself, numbers and names
// from the English sentence by rule. A rule without its own sentence falls
// back to one for its check, so nothing shows in English in the zh UI; the
// English original stays in the item's tooltip.

import { getLocale, isKey, t, type Key } from "./i18n";
import type { Finding } from "./types";

/** `title`, `bullets[2]`, `segments[3].hook` in the UI's language. */
export function fieldLabel(field: string): string {
  if (getLocale() === "en") return field;
  const m = /^([a-z_]+)(?:\[(\d+)\])?(?:\.([a-z_]+))?$/.exec(field);
  if (!m) return field;
  const [, name, n] = m;
  const key = `check.field.${name}${n ? ".n" : ""}`;
  return isKey(key) ? t(key, { n: n ?? "" }) : field;
}

/** The particulars of a finding's English explanation, by the shape of its rule's sentence. */
export function particulars(f: Finding): Record<string, string> {
  const e = f.explanation;
  const vars: Record<string, string> = {};
  const grab = (re: RegExp, ...names: string[]) => {
    const m = re.exec(e);
    if (m) names.forEach((n, i) => (vars[n] = m[i + 1] ?? ""));
  };
  if (f.rule.endsWith("_max_chars")) grab(/has (\d+) characters; (.+) allows (\d+)/, "n", "market", "max");
  else if (f.rule === "title_max_width") grab(/is (\d+) bytes wide.*; (.+) allows (\d+)/, "n", "market", "max");
  else if (f.rule === "bullet_count") grab(/^(\d+) \S+ instead of (\d+)/, "n", "max");
  else if (f.rule === "category_contradiction" || f.rule.endsWith("_contradiction")) grab(/ is ([^`]+)$/, "facts");
  else if (f.rule === "language") grab(/should be in (.+); .+ has (.+)$/, "asked", "found");
  else if (/ does not allow /.test(e)) grab(/^(.+?) does not allow/, "market");
  else if (/ allows (\d+)/.test(e)) grab(/(\d+)[^\d]*$/, "max");
  return vars;
}

function ruleKey(f: Finding): Key {
  const own = `check.rule.${f.rule}`;
  if (isKey(own)) return own;
  if (f.rule.endsWith("_contradiction")) return "check.rule.any_contradiction";
  if (f.rule.endsWith("_max_chars")) return "check.rule.any_max_chars";
  const kind = `check.kind.${f.check}`;
  return isKey(kind) ? kind : "check.kind.other";
}

/** The finding's explanation in the UI's language (English: the core's own). */
export function explainFinding(f: Finding): string {
  if (getLocale() === "en") return f.explanation;
  return t(ruleKey(f), { field: fieldLabel(f.field), excerpt: f.excerpt, ...particulars(f) });
}

/** How to fix it in the UI's language; null when there is no advice. */
export function suggestFix(f: Finding): string | null {
  if (!f.suggestion) return null;
  if (getLocale() === "en") return f.suggestion;
  const own = `check.fix.${f.rule}`;
  const key = isKey(own) ? own : f.rule.endsWith("_max_chars") ? "check.fix.any_max_chars" : f.excerpt ? "check.fix.generic" : null;
  // Without a sentence of its own or a span to name, the English advice
  // stays in the tooltip rather than showing half translated.
  return key ? t(key, { excerpt: f.excerpt, ...particulars(f) }) : null;
}
