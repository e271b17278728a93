// Pure rendering and parsing for the review screen: data in, DOM or values
// out. Every title, comment and diff chunk is a text node (see dom.ts): a
// draft's text is shown as written, never interpreted.

import { el } from "../dom";
import { t } from "../i18n";
import { statusText } from "../render";
import type { AuditRecord, BulkOutcome, Comment, DiffChunk, DraftSummary, Listing, VersionDiff } from "../types";

/** The fields of a listing a comment can be anchored to, named as the core names them. */
export function listingFields(listing: Listing): string[] {
  return [
    "title",
    ...listing.bullets.map((_, i) => `bullets[${i}]`),
    "description",
    ...listing.keywords.map((_, i) => `keywords[${i}]`),
  ];
}

/** One bullet per non-empty line. */
export function parseLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Keywords separated by commas (ASCII or Chinese) or new lines. */
export function parseKeywords(text: string): string[] {
  return text
    .split(/[,，、\n]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** The edited listing: the form's four fields over the current listing (its marketplace extras kept). */
export function editedListing(
  current: Listing,
  form: { title: string; bullets: string; description: string; keywords: string },
): Listing {
  return {
    ...current,
    title: form.title.trim(),
    bullets: parseLines(form.bullets),
    description: form.description.trim(),
    keywords: parseKeywords(form.keywords),
  };
}

/** The pair of versions to compare first: the previous and the current; null with one version. */
export function defaultDiffRange(versions: number[]): { from: number; to: number } | null {
  const sorted = [...versions].sort((a, b) => a - b);
  if (sorted.length < 2) return null;
  return { from: sorted[sorted.length - 2] as number, to: sorted[sorted.length - 1] as number };
}

export function renderStatusBadge(status: string): HTMLElement {
  return el(
    "span",
    { class: `status-badge status-${status}`, testid: "review-status", attrs: { "data-status": status } },
    statusText(status),
  );
}

export function renderQueueItem(d: DraftSummary, selected: boolean, checked = false): HTMLLIElement {
  return el(
    "li",
    { class: "queue-row" },
    el("input", {
      class: "queue-check",
      testid: "review-select",
      attrs: { type: "checkbox", "data-draft-id": d.id, checked, "aria-label": t("review.selectDraft", { id: d.id }) },
    }),
    el(
      "button",
      {
        class: selected ? "queue-item selected" : "queue-item",
        testid: "review-item",
        attrs: { type: "button", "data-draft-id": d.id, "data-status": d.status, "aria-current": selected ? "true" : null },
      },
      el("span", { class: "queue-item-title", testid: "review-item-title" }, d.title || t("draft.untitled")),
      el("span", { class: "queue-item-meta" }, renderStatusBadge(d.status), ` #${d.id} · ${d.lang} · ${d.marketplace} · v${d.current_version}`),
    ),
  );
}

function chunkNode(c: DiffChunk): Node {
  switch (c.op) {
    case "insert":
      return el("ins", { attrs: { title: t("review.inserted") } }, c.text);
    case "delete":
      return el("del", { attrs: { title: t("review.deleted") } }, c.text);
    default:
      return document.createTextNode(c.text);
  }
}

/** The changed fields of a diff, deletions struck through and insertions underlined. */
export function renderDiff(diff: VersionDiff): HTMLElement {
  const changed = diff.fields.filter((f) => f.changed);
  const wrap = el("div", { class: "diff", testid: "review-diff", attrs: { "data-from": diff.from, "data-to": diff.to } });
  if (changed.length === 0) {
    wrap.appendChild(el("p", { class: "empty" }, t("review.diffSame", { from: diff.from, to: diff.to })));
    return wrap;
  }
  const list = el("dl", { class: "diff-fields" });
  for (const f of changed) {
    const body = el("dd", { class: "diff-text", testid: "diff-field", attrs: { "data-field": f.field } });
    for (const c of f.chunks) body.appendChild(chunkNode(c));
    list.append(el("dt", { class: "diff-field-name" }, f.field), body);
  }
  wrap.appendChild(list);
  return wrap;
}

export function renderComments(comments: Comment[]): HTMLElement {
  const list = el("ul", { class: "comments", testid: "review-comments" });
  if (comments.length === 0) {
    list.appendChild(el("li", { class: "empty" }, t("review.noComments")));
    return list;
  }
  for (const c of comments) {
    list.appendChild(
      el(
        "li",
        { class: "comment", testid: "review-comment" },
        el("p", { class: "comment-meta" }, t("review.comment", { author: c.author, field: c.field, version: c.version, at: c.created_at })),
        el("p", { class: "comment-body", testid: "review-comment-body" }, c.body),
      ),
    );
  }
  return list;
}

/** The note or reason an audit entry recorded, if any. */
export function auditNote(details: unknown): string | null {
  if (typeof details !== "object" || details === null) return null;
  const d = details as Record<string, unknown>;
  const override = d.override as Record<string, unknown> | undefined;
  if (override && typeof override.reason === "string") return override.reason;
  return typeof d.note === "string" ? d.note : null;
}

export function renderHistory(history: AuditRecord[]): HTMLElement {
  const list = el("ol", { class: "history", testid: "review-history" });
  for (const h of history) {
    const note = auditNote(h.details);
    list.appendChild(
      el(
        "li",
        { testid: "review-history-item", attrs: { "data-action": h.action } },
        t("review.historyItem", { at: h.at, actor: h.actor, action: h.action }),
        note ? el("q", { class: "history-note" }, note) : null,
      ),
    );
  }
  return list;
}

/** A bulk action's outcomes in a line, then one line per draft it did not change. */
export function renderBulkResult(outcomes: BulkOutcome[]): HTMLElement {
  const failed = outcomes.filter((o) => !o.ok);
  return el(
    "div",
    { class: "bulk-result", testid: "review-bulk-result" },
    el("p", {}, t("review.bulkDone", { done: outcomes.length - failed.length, failed: failed.length })),
    failed.length > 0
      ? el(
          "ul",
          { class: "bulk-failures" },
          ...failed.map((o) =>
            el("li", { testid: "review-bulk-failure", attrs: { "data-draft-id": o.draft_id, "data-code": o.code ?? null } }, t("review.bulkFailed", { id: o.draft_id, error: o.error ?? o.code ?? "" })),
          ),
        )
      : null,
  );
}
