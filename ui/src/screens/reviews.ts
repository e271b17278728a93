// The Reviews screen: summarise a file of customer reviews (typed path or
// dropped on the window), optionally for a product (the summary is then
// stored as its review_summary draft). Counts, charts, pros and cons,
// problems, verified quotes and suspicious reviews come from the core's
// analysis; the paragraph is the model's. Every piece of review text is
// written as text: a review holding markup or script shows as typed.

import type { api as Api } from "../api";
import { el, replaceChildren } from "../dom";
import { getLocale, setText, t } from "../i18n";
import { fillModelChoice } from "../render";
import type { Lang, ModelStatus, ProductSummary, ReviewsPayload, ReviewSummary } from "../types";
import { aspectChart, ratingChart } from "./charts";

type Backend = Pick<typeof Api, "summarizeReviews" | "listProducts" | "listModels">;

function aspectName(s: ReviewSummary, id: string, zh: boolean): string {
  const a = s.analysis.aspects.find((x) => x.id === id);
  if (!a) return id;
  return zh ? a.zh || a.en : a.en || a.zh;
}

export function renderSummary(s: ReviewSummary): HTMLElement {
  const a = s.analysis;
  const zh = getLocale() === "zh-CN";
  const mean = a.ratings.mean === null ? "–" : a.ratings.mean.toFixed(2);
  const list = (items: HTMLElement[], testid: string, empty: string) =>
    items.length > 0 ? el("ul", { testid }, ...items) : el("p", { class: "hint", testid }, empty);
  const pro = a.aspects.filter((x) => a.pros.includes(x.id));
  const con = a.aspects.filter((x) => a.cons.includes(x.id));
  return el(
    "div",
    { class: "review-summary", testid: "review-summary" },
    el(
      "p",
      { class: "review-counts", testid: "review-counts" },
      t("reviews.counts", { total: a.total, usable: a.usable, dup: a.duplicates.length, sus: a.suspicious.length, mean }),
    ),
    el(
      "div",
      { class: "charts" },
      el("figure", {}, ratingChart(a.ratings, t("reviews.ratingChart")), el("figcaption", {}, t("reviews.ratingCaption", { unrated: a.ratings.unrated }))),
      el("figure", {}, aspectChart(a.aspects, zh, t("reviews.aspectChart")), el("figcaption", {}, t("reviews.aspectCaption"))),
    ),
    el(
      "div",
      { class: "pros-cons" },
      el(
        "section",
        {},
        el("h4", {}, t("reviews.pros")),
        list(
          pro.map((x) => el("li", {}, t("reviews.proLine", { name: aspectName(s, x.id, zh), n: x.positive, of: x.mentions }))),
          "review-pros",
          t("reviews.noneFound"),
        ),
      ),
      el(
        "section",
        {},
        el("h4", {}, t("reviews.cons")),
        list(
          con.map((x) => el("li", {}, t("reviews.conLine", { name: aspectName(s, x.id, zh), n: x.negative, of: x.mentions }))),
          "review-cons",
          t("reviews.noneFound"),
        ),
      ),
    ),
    a.problems.length > 0
      ? el("section", {}, el("h4", {}, t("reviews.problems")), el("ul", { testid: "review-problems" }, ...a.problems.map((p) => el("li", {}, t("reviews.problemLine", { kind: p.kind, n: p.reviews })))))
      : null,
    el("h4", {}, t("reviews.paragraph")),
    el("p", { class: "review-paragraph", testid: "review-paragraph", attrs: { lang: s.lang } }, s.paragraph || t("reviews.noParagraph")),
    el("p", { class: "hint", testid: "review-source" }, t(`reviews.source.${s.paragraph_source === "model" ? "model" : s.paragraph_source === "template" ? "template" : "notEnough"}`, { model: s.model_id ?? "" })),
    a.quotes.length > 0
      ? el(
          "section",
          {},
          el("h4", {}, t("reviews.quotes")),
          el(
            "ul",
            { class: "review-quotes", testid: "review-quotes" },
            ...a.quotes.map((q) =>
              el("li", { class: `quote quote-${q.polarity}` }, el("q", { testid: "review-quote" }, q.text), " ", el("span", { class: "hint" }, `#${q.review_id} · ${aspectName(s, q.aspect, zh)}`)),
            ),
          ),
        )
      : null,
    a.suspicious.length > 0
      ? el(
          "section",
          {},
          el("h4", {}, t("reviews.suspicious")),
          el(
            "ul",
            { class: "review-suspicious", testid: "review-suspicious" },
            ...a.suspicious.map((x) =>
              el("li", {}, `#${x.review_id}: `, ...x.reasons.flatMap((r) => [el("q", { testid: "suspicious-match" }, r.matched), " ", el("span", { class: "hint" }, r.why), " "])),
            ),
          ),
        )
      : null,
    s.notices.length > 0 ? el("ul", { class: "draft-warnings", testid: "review-notices" }, ...s.notices.map((n) => el("li", {}, n))) : null,
    s.draft_id !== undefined ? el("p", { class: "hint", testid: "review-draft" }, t("reviews.savedDraft", { id: s.draft_id })) : null,
  );
}

export class ReviewsScreen {
  readonly view: HTMLElement;
  private readonly path = el("input", { testid: "reviews-path", attrs: { id: "reviews-path", type: "text", autocomplete: "off", spellcheck: "false", "aria-describedby": "reviews-path-hint" } });
  private readonly product = el("select", { testid: "reviews-product", attrs: { id: "reviews-product" } });
  private readonly lang = el(
    "select",
    { testid: "reviews-lang", attrs: { id: "reviews-lang" } },
    el("option", { attrs: { value: "en" } }, "English"),
    el("option", { attrs: { value: "zh-CN", lang: "zh-CN" } }, "简体中文"),
  );
  private readonly model = el("select", { testid: "reviews-model", attrs: { id: "reviews-model" } });
  private models: ModelStatus[] = [];
  private remote: string | null = null;
  private readonly run = el("button", { class: "primary", testid: "reviews-run", attrs: { type: "submit" } });
  private readonly status = el("p", { class: "status", testid: "reviews-status", attrs: { role: "status" } });
  private readonly result = el("div", { class: "review-summary-slot", attrs: { "aria-live": "polite" } });
  private products: ProductSummary[] = [];
  private last: ReviewSummary | null = null;
  private running = false;

  constructor(
    private readonly backend: Backend,
    private readonly onError: (err: unknown) => void,
    /** Told when a summary was stored as a product's draft. */
    private readonly onSaved: (productId: number) => void,
  ) {
    setText(this.run, "reviews.run");
    const form = el(
      "form",
      { class: "reviews-form", testid: "reviews-form" },
      el(
        "div",
        { class: "field wide" },
        setText(el("label", { attrs: { for: "reviews-path" } }), "reviews.file"),
        this.path,
        setText(el("p", { class: "hint", attrs: { id: "reviews-path-hint" } }), "reviews.fileHint"),
      ),
      el("div", { class: "field" }, setText(el("label", { attrs: { for: "reviews-product" } }), "reviews.product"), this.product),
      el("div", { class: "field" }, setText(el("label", { attrs: { for: "reviews-lang" } }), "reviews.lang"), this.lang),
      el("div", { class: "field" }, setText(el("label", { attrs: { for: "reviews-model" } }), "generate.model"), this.model),
      el("div", { class: "actions" }, this.run),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.summarize();
    });
    this.view = el(
      "section",
      { class: "screen reviews-screen", testid: "reviews-screen", attrs: { id: "screen-reviews", "aria-labelledby": "reviews-heading", hidden: true } },
      setText(el("h2", { attrs: { id: "reviews-heading" } }), "reviews.title"),
      setText(el("p", { class: "hint" }), "reviews.intro"),
      form,
      this.status,
      this.result,
    );
    this.fillProducts();
  }

  private fillProducts(): void {
    const value = this.product.value;
    replaceChildren(
      this.product,
      el("option", { attrs: { value: "" } }, t("reviews.noProduct")),
      ...this.products.map((p) => el("option", { attrs: { value: p.id } }, `#${p.id} ${p.name || t("product.untitled", { id: p.id })}`)),
    );
    this.product.value = this.products.some((p) => String(p.id) === value) ? value : "";
  }

  /** `model@server` when a remote server generates (Settings): the core
   * refuses a local model pin then, so only the server's model is offered. */
  setRemote(backend: string | null): void {
    this.remote = backend;
    this.fillModels();
  }

  private fillModels(): void {
    fillModelChoice(this.model, this.models, this.remote);
  }


  relabel(): void {
    this.fillProducts();
    this.fillModels();
    if (this.last) replaceChildren(this.result, renderSummary(this.last));
  }

  async refresh(): Promise<void> {
    try {
      const [products, models] = await Promise.all([this.backend.listProducts(), this.backend.listModels()]);
      this.products = products;
      this.models = models;
      this.fillProducts();
      this.fillModels();
    } catch (err) {
      this.onError(err);
    }
  }

  acceptDrop(paths: string[]): void {
    const first = paths[0];
    if (!first) return;
    this.path.value = first;
    this.path.focus();
  }

  onEvent(ev: ReviewsPayload): void {
    if (!this.running) return;
    switch (ev.type) {
      case "step":
        if (ev.what === "paragraph") setText(this.status, "reviews.writing");
        else setText(this.status, "reviews.chunk", { n: ev.done + 1, total: ev.total });
        break;
      case "loadingModel":
        setText(this.status, "generate.loading", { model: ev.model_id });
        break;
      case "retry":
        setText(this.status, "reviews.retry", { reason: ev.reason });
        break;
    }
  }

  private async summarize(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.run.disabled = true;
    setText(this.status, "reviews.reading");
    const productId = this.product.value ? Number(this.product.value) : null;
    try {
      const summary = await this.backend.summarizeReviews(this.path.value.trim(), productId, this.lang.value as Lang, this.model.value || null);
      this.last = summary;
      setText(this.status, "reviews.done", { s: (summary.total_ms / 1000).toFixed(1) });
      replaceChildren(this.result, renderSummary(summary));
      if (productId !== null && summary.draft_id !== undefined) this.onSaved(productId);
    } catch (err) {
      setText(this.status, null);
      this.onError(err);
    } finally {
      this.running = false;
      this.run.disabled = false;
    }
  }
}
