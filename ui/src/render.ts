// Pure rendering: data in, DOM nodes out. Everything user- or model-provided
// goes through text nodes (see dom.ts), so it is displayed, never interpreted.

import { el, replaceChildren } from "./dom";
import { highlightPieces } from "./highlight";
import { explainFinding, fieldLabel, suggestFix } from "./checkText";
import { getLocale, plural, t } from "./i18n";
import type { Draft, DraftSummary, Fact, FactOptions, Finding, Listing, ModelStatus, ProductSummary, Script, ScriptSegment } from "./types";

const HEX = /^#[0-9a-fA-F]{6}$/;

export interface ColourInfo {
  hex: string | null;
  share: number | null;
}

/** The swatch colour and share stored in a colour fact's `data`, if well-formed. */
export function colourInfo(fact: Fact): ColourInfo {
  const data = fact.data as Record<string, unknown> | null;
  if (typeof data !== "object" || data === null) return { hex: null, share: null };
  const hex = typeof data.hex === "string" && HEX.test(data.hex) ? data.hex : null;
  const share = typeof data.share === "number" && Number.isFinite(data.share) ? data.share : null;
  return { hex, share };
}

export function formatPercent(share: number): string {
  return `${Math.round(Math.min(Math.max(share, 0), 1) * 100)}%`;
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return "0 B";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function isColourFact(f: Fact): boolean {
  return f.key === "colour" || f.key === "color";
}

/** The short text of a fact's source badge: where the fact came from and, for a model's guess, how sure it was. */
export function sourceText(fact: Fact): string {
  const sure = Number.isFinite(fact.confidence) ? ` ${formatPercent(fact.confidence)}` : "";
  switch (fact.source) {
    case "colour":
      return t("source.colour");
    case "classifier":
      return t("source.classifier", { sure });
    case "vision":
      return t("source.vision", { sure });
    case "ocr":
      return t("source.ocr");
    case "import":
      return fromTitle(fact) ? t("source.title") : t("source.import");
    case "user":
      return t("source.user");
    default:
      return String(fact.source);
  }
}

/** Whether an imported fact was read from the product's title ("Navy Polo Shirt"). */
function fromTitle(fact: Fact): boolean {
  const data = fact.data;
  return typeof data === "object" && data !== null && (data as { from?: unknown }).from === "title";
}

/** A fact's source as a badge; screen readers hear "Source: classifier 53%". */
export function sourceBadge(fact: Fact): HTMLElement {
  return el(
    "span",
    { class: `source-badge source-${fact.source}`, testid: "fact-source", attrs: { "data-source": fact.source } },
    el("span", { class: "visually-hidden" }, t("source.prefix")),
    sourceText(fact),
  );
}

export interface KeyLabel {
  en: string;
  zh: string;
}

const BUILTIN_KEY_LABELS: Record<string, KeyLabel> = {
  category: { en: "category", zh: "类目" },
  colour: { en: "colour", zh: "颜色" },
};

/** The English and Chinese names of a fact key, from the editor's options when it has them. */
export function keyLabel(key: string, options: FactOptions | null): KeyLabel {
  const k = options?.keys.find((x) => x.key === key);
  if (k) return { en: k.en, zh: k.zh };
  return BUILTIN_KEY_LABELS[key] ?? { en: key.replace(/_/g, " "), zh: "" };
}

export interface FactGroup {
  key: string;
  /** The facts in use, the user's first: where the user set the key, only theirs. */
  used: Fact[];
  /** Machine facts the user's values replace (kept, shown, but not used). */
  replaced: Fact[];
  /** Whether the editor may change this key. */
  editable: boolean;
}

function byShare(a: Fact, b: Fact): number {
  if (isColourFact(a) && isColourFact(b)) return (colourInfo(b).share ?? 0) - (colourInfo(a).share ?? 0);
  return b.confidence - a.confidence;
}

/**
 * Facts grouped by key, as the listing prompt uses them: where the user set
 * a key their values win and the machine's are only shown as replaced. The
 * category comes first, then colours, then the editor's key order, then any
 * other key alphabetically. `alsoShow` adds empty groups (a key being added).
 */
export function factGroups(facts: Fact[], options: FactOptions | null = null, alsoShow: string[] = []): FactGroup[] {
  const byKey = new Map<string, Fact[]>();
  const keyOf = (f: Fact) => (isColourFact(f) ? "colour" : f.key);
  for (const f of facts) {
    const list = byKey.get(keyOf(f)) ?? [];
    list.push(f);
    byKey.set(keyOf(f), list);
  }
  if (options) byKey.set("category", byKey.get("category") ?? []);
  for (const k of alsoShow) byKey.set(k, byKey.get(k) ?? []);

  const editorOrder = options?.keys.map((k) => k.key) ?? [];
  const rank = (key: string): [number, number, string] => {
    if (key === "category") return [0, 0, key];
    if (key === "colour") return [1, 0, key];
    const i = editorOrder.indexOf(key);
    return i >= 0 ? [2, i, key] : [3, 0, key];
  };
  const keys = [...byKey.keys()].sort((a, b) => {
    const [ra, ia, ka] = rank(a);
    const [rb, ib, kb] = rank(b);
    return ra - rb || ia - ib || ka.localeCompare(kb);
  });

  return keys.map((key) => {
    const all = [...(byKey.get(key) ?? [])].sort(byShare);
    const user = all.filter((f) => f.source === "user");
    const machine = all.filter((f) => f.source !== "user");
    return {
      key,
      used: user.length > 0 ? user : machine,
      replaced: user.length > 0 ? machine : [],
      editable: editorOrder.includes(key),
    };
  });
}

function renderColourFact(fact: Fact): HTMLElement {
  const info = colourInfo(fact);
  const swatch = el("span", { class: "swatch", testid: "colour-swatch", attrs: { "aria-hidden": "true" } });
  // CSSOM, not an inline style attribute: allowed under style-src 'self'.
  if (info.hex) swatch.style.backgroundColor = info.hex;
  const share = info.share === null || fact.source === "user" ? null : formatPercent(info.share);
  return el(
    "li",
    {
      class: "fact fact-colour",
      testid: "fact-colour",
      attrs: { "data-key": "colour", "data-value": fact.value, "data-source": fact.source },
    },
    swatch,
    el("span", { class: "fact-name", testid: "fact-colour-en" }, fact.label_en || fact.value),
    el("span", { class: "fact-name-zh", testid: "fact-colour-zh", attrs: { lang: "zh-CN" } }, fact.label_zh),
    share === null ? null : el("span", { class: "fact-share", testid: "fact-colour-share" }, share),
    info.hex ? el("span", { class: "fact-hex" }, info.hex) : null,
    sourceBadge(fact),
  );
}

function renderFact(fact: Fact): HTMLElement {
  if (isColourFact(fact)) return renderColourFact(fact);
  return el(
    "li",
    { class: "fact", testid: "fact", attrs: { "data-key": fact.key, "data-value": fact.value, "data-source": fact.source } },
    el("span", { class: "fact-name", testid: "fact-name" }, fact.label_en || fact.value),
    fact.label_zh ? el("span", { class: "fact-name-zh", attrs: { lang: "zh-CN" } }, fact.label_zh) : null,
    sourceBadge(fact),
  );
}

/**
 * Facts of a product grouped by key, each with its source badge; with the
 * editor's options, a key it may change gets an Edit button (`fact-edit`,
 * `data-key`), which the facts panel wires up.
 */
export function renderFacts(facts: Fact[], options: FactOptions | null = null, alsoShow: string[] = []): HTMLElement {
  const list = el("ul", { class: "facts", testid: "fact-list", attrs: { "aria-label": t("facts.label") } });
  for (const group of factGroups(facts, options, alsoShow)) {
    const label = keyLabel(group.key, options);
    const headingId = `fact-key-${group.key}`;
    const values = el("ul", { class: "fact-values", attrs: { "aria-labelledby": headingId } });
    for (const f of group.used) values.appendChild(renderFact(f));
    for (const f of group.replaced) {
      const item = renderFact(f);
      item.classList.add("fact-replaced");
      item.appendChild(el("span", { class: "fact-replaced-note", testid: "fact-replaced" }, t("facts.notUsed")));
      values.appendChild(item);
    }
    if (group.used.length === 0) {
      values.appendChild(el("li", { class: "fact empty", testid: "fact-unset" }, t("facts.notSet")));
    }
    list.appendChild(
      el(
        "li",
        { class: "fact-group", testid: "fact-group", attrs: { "data-key": group.key } },
        el(
          "div",
          { class: "fact-group-head" },
          el(
            "span",
            { class: "fact-key", attrs: { id: headingId } },
            label.en,
            label.zh ? el("span", { class: "fact-key-zh", attrs: { lang: "zh-CN" } }, ` ${label.zh}`) : null,
          ),
          group.editable
            ? el(
                "button",
                {
                  class: "ghost small",
                  testid: "fact-edit",
                  attrs: { type: "button", "data-key": group.key, "aria-expanded": "false", "aria-label": t("facts.editKey", { key: label.en }) },
                },
                t("facts.edit"),
              )
            : null,
        ),
        values,
      ),
    );
  }
  if (list.childElementCount === 0) {
    list.appendChild(el("li", { class: "empty" }, t("facts.none")));
  }
  return list;
}

/**
 * A field's text with the pieces the checks flag wrapped in <mark> (each
 * piece a text node; the mark's title says why).
 */
export function markedText(text: string, field: string, findings: readonly Finding[]): Node[] {
  return highlightPieces(text, field, findings).map((p) => {
    if (p.findings.length === 0) return document.createTextNode(p.text);
    const severity = p.findings.some((f) => f.severity === "blocking") ? "blocking" : "warning";
    return el(
      "mark",
      {
        class: `flag flag-${severity}`,
        testid: "flagged-span",
        attrs: { "data-field": field, "data-rule": p.findings.map((f) => f.rule).join(" "), title: p.findings.map((f) => explainFinding(f)).join("\n") },
      },
      p.text,
    );
  });
}

/** A listing as title / bullets / description / keywords, all as text; with findings, their spans are highlighted. */
export function renderListing(listing: Listing, lang?: string, findings: readonly Finding[] = []): HTMLElement {
  const article = el("article", { class: "listing", testid: "listing", attrs: { lang: lang || null } });
  article.append(
    el("h3", { class: "listing-title", testid: "listing-title" }, ...markedText(listing.title, "title", findings)),
    el(
      "ul",
      { class: "listing-bullets", testid: "listing-bullets", attrs: { "aria-label": t("draft.bullets") } },
      ...listing.bullets.map((b, i) => el("li", { testid: "listing-bullet" }, ...markedText(b, `bullets[${i + 1}]`, findings))),
    ),
    el("p", { class: "listing-description", testid: "listing-description" }, ...markedText(listing.description, "description", findings)),
    el(
      "ul",
      { class: "listing-keywords", testid: "listing-keywords", attrs: { "aria-label": t("draft.keywords") } },
      ...listing.keywords.map((k, i) => el("li", { class: "chip", testid: "listing-keyword" }, ...markedText(k, `keywords[${i + 1}]`, findings))),
    ),
  );
  return article;
}

/** Whether a draft's content is a livestream script the page can show. */
export function asScript(content: unknown): Script | null {
  if (typeof content !== "object" || content === null) return null;
  const c = content as Record<string, unknown>;
  if (!Array.isArray(c.segments)) return null;
  const segments = c.segments.filter(
    (s): s is ScriptSegment => typeof s === "object" && s !== null && typeof (s as ScriptSegment).host === "string" && typeof (s as ScriptSegment).kind === "string",
  );
  return {
    title: typeof c.title === "string" ? c.title : "",
    lang: typeof c.lang === "string" ? c.lang : "",
    target_seconds: typeof c.target_seconds === "number" ? c.target_seconds : 0,
    measured_seconds: typeof c.measured_seconds === "number" ? c.measured_seconds : 0,
    offer: typeof c.offer === "string" ? c.offer : null,
    segments: segments.map((s) => ({ ...s, cues: Array.isArray(s.cues) ? s.cues.filter((x) => typeof x === "string") : [] })),
  };
}

/** A livestream script: timed segments, the host's lines (flagged spans highlighted) and the camera cues, all as text. */
export function renderScript(script: Script, lang: string, findings: readonly Finding[] = []): HTMLElement {
  const list = el("ol", { class: "script-segments", testid: "script-segments" });
  script.segments.forEach((s, i) => {
    list.appendChild(
      el(
        "li",
        { class: "script-segment", testid: "script-segment" },
        el("p", { class: "script-time" }, `${s.start}–${s.end} · ${s.kind}`),
        el("p", { class: "script-host", testid: "script-host" }, ...markedText(s.host, `segments[${i + 1}].${s.kind}`, findings)),
        s.cues.length > 0 ? el("p", { class: "script-cues" }, s.cues.map((c) => `[${c}]`).join(" ")) : null,
      ),
    );
  });
  return el(
    "article",
    { class: "script", testid: "script", attrs: { lang: lang || null } },
    el("h3", { class: "listing-title", testid: "script-title" }, script.title),
    el("p", { class: "draft-meta" }, t("script.timing", { measured: script.measured_seconds, target: script.target_seconds })),
    list,
  );
}

/** The current version of a draft, with a line saying how it was made. */
export function renderDraft(draft: Draft): HTMLElement {
  const current = draft.versions[draft.versions.length - 1];
  const wrap = el("section", {
    class: "draft",
    testid: "draft",
    attrs: { "data-draft-id": draft.id, "aria-label": t("draft.label", { id: draft.id }) },
  });
  if (!current) {
    wrap.appendChild(el("p", { class: "empty" }, t("draft.noVersions")));
    return wrap;
  }
  const p = current.provenance;
  const meta = [
    `Draft #${draft.id}`,
    `v${current.version}`,
    draft.lang,
    draft.marketplace,
    statusText(draft.status),
    p ? p.model_id : current.author,
    p && p.cached ? t("draft.fromCache") : null,
    p && !p.cached ? t("draft.tokens", { n: p.generated_tokens, s: (p.total_ms / 1000).toFixed(1) }) : null,
    p && p.attempts > 1 ? t("draft.attempts", { n: p.attempts }) : null,
  ].filter((x): x is string => Boolean(x));
  const findings = p?.findings ?? [];
  const script = draft.kind === "script" ? asScript(current.content) : null;
  wrap.append(
    el("p", { class: "draft-meta", testid: "draft-meta" }, meta.join(" · ")),
    script ? renderScript(script, draft.lang, findings) : renderListing(current.listing, draft.lang, findings),
  );
  const warnings = p?.warnings ?? [];
  if (warnings.length > 0) {
    const list = el("ul", { class: "draft-warnings", testid: "draft-warnings", attrs: { "aria-label": t("draft.warnings") } });
    for (const w of warnings) list.appendChild(el("li", {}, w));
    wrap.appendChild(list);
  }
  if (findings.length > 0) wrap.appendChild(renderFindings(findings));
  return wrap;
}

/** The checks' findings, blocking first: what is wrong, where, and how to fix it. */
export function renderFindings(findings: Finding[]): HTMLElement {
  const blocking = findings.filter((f) => f.severity === "blocking").length;
  const heading = blocking > 0 ? plural(blocking, "findings.blocking.one", "findings.blocking.other") : t("findings.notes");
  const list = el("ul", { class: "findings", attrs: { "aria-label": t("findings.label") } });
  for (const f of findings) {
    const item = el(
      "li",
      { class: `finding finding-${f.severity}`, testid: "finding", attrs: { "data-severity": f.severity, "data-rule": f.rule } },
      el("span", { class: "finding-severity" }, f.severity === "blocking" ? t("findings.blockingTag") : t("findings.warningTag")),
      " ",
      el("span", { class: "finding-field" }, fieldLabel(f.field)),
      ": ",
    );
    const explained = explainFinding(f);
    item.append(el("span", { class: "finding-explanation", testid: "finding-explanation" }, explained));
    // The core's English wording stays at hand for reports and support.
    if (getLocale() !== "en") item.setAttribute("title", f.suggestion ? `${f.explanation} (${f.suggestion})` : f.explanation);
    // A translated sentence that already quotes the span does not repeat it.
    if (f.excerpt && !explained.includes(`“${f.excerpt}”`)) item.append(" ", el("q", { class: "finding-excerpt" }, f.excerpt));
    const fix = suggestFix(f);
    if (fix) item.append(" ", el("span", { class: "finding-fix" }, t("findings.fix", { text: fix })));
    list.appendChild(item);
  }
  return el(
    "section",
    { class: blocking > 0 ? "draft-findings blocking" : "draft-findings", testid: "draft-findings" },
    el("h3", { class: "findings-heading" }, heading),
    list,
  );
}

/** Whether a product matches the library's search: its name (any case) or its number. */
export function matchesProduct(p: ProductSummary, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return p.name.toLowerCase().includes(q) || `#${p.id}` === q || String(p.id) === q;
}

export function renderProductItem(p: ProductSummary, selected: boolean): HTMLLIElement {
  const drafts = plural(p.draft_count, "product.drafts.one", "product.drafts.other");
  return el(
    "li",
    {},
    el(
      "button",
      {
        class: selected ? "product-item selected" : "product-item",
        testid: "product-item",
        attrs: { type: "button", "data-product-id": p.id, "aria-current": selected ? "true" : null },
      },
      el("span", { class: "product-item-name" }, p.name || t("product.untitled", { id: p.id })),
      el("span", { class: "product-item-meta" }, drafts),
    ),
  );
}

export function renderDraftItem(d: DraftSummary, selected: boolean): HTMLLIElement {
  return el(
    "li",
    {},
    el(
      "button",
      {
        class: selected ? "draft-item selected" : "draft-item",
        testid: "draft-item",
        attrs: { type: "button", "data-draft-id": d.id, "aria-current": selected ? "true" : null },
      },
      el("span", { class: "draft-item-title", testid: "draft-item-title" }, d.title || t("draft.untitled")),
      el(
        "span",
        { class: "draft-item-meta" },
        `${d.lang} · ${d.marketplace} · ${statusText(d.status)} · v${d.current_version} · ${d.updated_at}`,
      ),
    ),
  );
}

/** Installed models only, the default one first choice; null when none is installed. */
export function pickModels(models: ModelStatus[]): { installed: ModelStatus[]; selected: string | null } {
  const installed = models.filter((m) => m.installed);
  const preferred = installed.find((m) => m.default) ?? installed[0];
  return { installed, selected: preferred ? preferred.id : null };
}

export function renderModelOptions(models: ModelStatus[]): { options: HTMLOptionElement[]; selected: string | null } {
  const { installed, selected } = pickModels(models);
  if (installed.length === 0) {
    const none = el("option", { attrs: { value: "" } }, t("generate.noModel"));
    return { options: [none], selected: null };
  }
  const options = installed.map((m) => {
    const label = `${m.name || m.id} (${m.role}, ${formatBytes(m.size_bytes)})${m.default ? ` — ${t("generate.default")}` : ""}`;
    return el("option", { attrs: { value: m.id, selected: m.id === selected } }, label);
  });
  return { options, selected };
}

const STATUS_KEYS = {
  draft: "status.draft",
  in_review: "status.in_review",
  approved: "status.approved",
  changes_requested: "status.changes_requested",
  rejected: "status.rejected",
  exported: "status.exported",
} as const;

/** A review state in the UI's language; an unknown one as stored. */
export function statusText(status: string): string {
  return Object.prototype.hasOwnProperty.call(STATUS_KEYS, status) ? t(STATUS_KEYS[status as keyof typeof STATUS_KEYS]) : status;
}

/** A model select for work the user starts and leaves (batches, review
 * summaries): "auto", then the installed models, keeping the choice while it
 * is still offered; or only the remote server's model (`model@server`) when
 * Settings name one, since the core refuses a local pin then. */
export function fillModelChoice(select: HTMLSelectElement, models: ModelStatus[], remote: string | null): void {
  if (remote !== null) {
    replaceChildren(select, el("option", { attrs: { value: "" } }, t("generate.remoteModel", { backend: remote })));
    select.value = "";
    return;
  }
  const chosen = select.value;
  const { options } = renderModelOptions(models);
  replaceChildren(select, el("option", { attrs: { value: "" } }, t("batch.modelAuto")), ...options.filter((o) => o.value !== ""));
  select.value = chosen;
}
