// Pure rendering: data in, DOM nodes out. Everything user- or model-provided
// goes through text nodes (see dom.ts), so it is displayed, never interpreted.

import { el } from "./dom";
import type { Draft, DraftSummary, Fact, Listing, ModelStatus, ProductSummary } from "./types";

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

/** Facts of a product: colours as swatches (largest share first), then the rest. */
export function renderFacts(facts: Fact[]): HTMLElement {
  const colours = facts
    .filter(isColourFact)
    .map((f) => ({ fact: f, info: colourInfo(f) }))
    .sort((a, b) => (b.info.share ?? 0) - (a.info.share ?? 0));
  const others = facts.filter((f) => !isColourFact(f));

  const list = el("ul", { class: "facts", testid: "fact-list", attrs: { "aria-label": "Facts" } });
  for (const { fact, info } of colours) {
    const swatch = el("span", { class: "swatch", testid: "colour-swatch", attrs: { "aria-hidden": "true" } });
    // CSSOM, not an inline style attribute: allowed under style-src 'self'.
    if (info.hex) swatch.style.backgroundColor = info.hex;
    const share = info.share === null ? null : formatPercent(info.share);
    list.appendChild(
      el(
        "li",
        {
          class: "fact fact-colour",
          testid: "fact-colour",
          attrs: { "data-value": fact.value, "data-source": fact.source },
        },
        swatch,
        el("span", { class: "fact-name", testid: "fact-colour-en" }, fact.label_en || fact.value),
        el("span", { class: "fact-name-zh", testid: "fact-colour-zh", attrs: { lang: "zh-CN" } }, fact.label_zh),
        share === null ? null : el("span", { class: "fact-share", testid: "fact-colour-share" }, share),
        info.hex ? el("span", { class: "fact-hex" }, info.hex) : null,
      ),
    );
  }
  for (const fact of others) {
    list.appendChild(
      el(
        "li",
        { class: "fact", testid: "fact", attrs: { "data-key": fact.key, "data-source": fact.source } },
        el("span", { class: "fact-key" }, fact.key),
        el("span", { class: "fact-name" }, fact.label_en || fact.value),
        fact.label_zh ? el("span", { class: "fact-name-zh", attrs: { lang: "zh-CN" } }, fact.label_zh) : null,
      ),
    );
  }
  if (facts.length === 0) {
    list.appendChild(el("li", { class: "empty" }, "No facts yet."));
  }
  return list;
}

/** A listing as title / bullets / description / keywords, all as text. */
export function renderListing(listing: Listing, lang?: string): HTMLElement {
  const article = el("article", { class: "listing", testid: "listing", attrs: { lang: lang || null } });
  article.append(
    el("h3", { class: "listing-title", testid: "listing-title" }, listing.title),
    el(
      "ul",
      { class: "listing-bullets", testid: "listing-bullets", attrs: { "aria-label": "Bullet points" } },
      ...listing.bullets.map((b) => el("li", { testid: "listing-bullet" }, b)),
    ),
    el("p", { class: "listing-description", testid: "listing-description" }, listing.description),
    el(
      "ul",
      { class: "listing-keywords", testid: "listing-keywords", attrs: { "aria-label": "Keywords" } },
      ...listing.keywords.map((k) => el("li", { class: "chip", testid: "listing-keyword" }, k)),
    ),
  );
  return article;
}

/** The current version of a draft, with a line saying how it was made. */
export function renderDraft(draft: Draft): HTMLElement {
  const current = draft.versions[draft.versions.length - 1];
  const wrap = el("section", {
    class: "draft",
    testid: "draft",
    attrs: { "data-draft-id": draft.id, "aria-label": `Draft ${draft.id}` },
  });
  if (!current) {
    wrap.appendChild(el("p", { class: "empty" }, "This draft has no versions."));
    return wrap;
  }
  const p = current.provenance;
  const meta = [
    `Draft #${draft.id}`,
    `v${current.version}`,
    draft.lang,
    draft.marketplace,
    draft.status,
    p ? p.model_id : current.author,
    p && p.cached ? "from the generation cache" : null,
    p && !p.cached ? `${p.generated_tokens} tokens in ${(p.total_ms / 1000).toFixed(1)} s` : null,
    p && p.attempts > 1 ? `${p.attempts} attempts` : null,
  ].filter((x): x is string => Boolean(x));
  wrap.append(el("p", { class: "draft-meta", testid: "draft-meta" }, meta.join(" · ")), renderListing(current.listing, draft.lang));
  const warnings = p?.warnings ?? [];
  if (warnings.length > 0) {
    const list = el("ul", { class: "draft-warnings", testid: "draft-warnings", attrs: { "aria-label": "Check warnings" } });
    for (const w of warnings) list.appendChild(el("li", {}, w));
    wrap.appendChild(list);
  }
  return wrap;
}

export function renderProductItem(p: ProductSummary, selected: boolean): HTMLLIElement {
  const drafts = p.draft_count === 1 ? "1 draft" : `${p.draft_count} drafts`;
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
      el("span", { class: "product-item-name" }, p.name || `Product ${p.id}`),
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
      el("span", { class: "draft-item-title", testid: "draft-item-title" }, d.title || "(untitled)"),
      el("span", { class: "draft-item-meta" }, `${d.lang} · ${d.marketplace} · v${d.current_version} · ${d.updated_at}`),
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
    const none = el("option", { attrs: { value: "" } }, "No model installed — run: vitrine models fetch");
    return { options: [none], selected: null };
  }
  const options = installed.map((m) => {
    const label = `${m.name || m.id} (${m.role}, ${formatBytes(m.size_bytes)})${m.default ? " — default" : ""}`;
    return el("option", { attrs: { value: m.id, selected: m.id === selected } }, label);
  });
  return { options, selected };
}
