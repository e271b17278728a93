// The review queue: listing drafts filtered by state; one draft with its
// current text, the checks' findings, an editor that saves a new version,
// the workflow's actions (with a note, and an override reason when blocking
// findings stand), its versions with a diff, comments and the audit trail.

import type { api as Api } from "../api";
import { el, replaceChildren } from "../dom";
import { toIpcError } from "../errors";
import { setAttrText, setText, t, tspan, type Key } from "../i18n";
import { renderFindings, renderListing } from "../render";
import { DRAFT_STATUSES, type DraftSummary, type ReviewAction, type ReviewDetail } from "../types";
import {
  defaultDiffRange,
  editedListing,
  listingFields,
  renderBulkResult,
  renderComments,
  renderDiff,
  renderHistory,
  renderQueueItem,
  renderStatusBadge,
} from "./reviewRender";

type Backend = Pick<
  typeof Api,
  "listDrafts" | "getReview" | "diffVersions" | "reviewAction" | "bulkReview" | "addComment" | "editDraft"
>;

const ACTIONS: readonly ReviewAction[] = ["submit", "approve", "request_changes", "reject", "reopen"];
export const REVIEW_FILTER_KEY = "vitrine.review.filter";

function isAction(a: string): a is ReviewAction {
  return (ACTIONS as readonly string[]).includes(a);
}

function field(labelKey: Key, control: HTMLElement, id: string): HTMLElement {
  control.id = id;
  return el("div", { class: "field" }, setText(el("label", { attrs: { for: id } }), labelKey), control);
}

export class ReviewScreen {
  readonly view: HTMLElement;
  private readonly filter: HTMLSelectElement;
  private readonly list = el("ul", { class: "queue", testid: "review-list" });
  private readonly detail = el("div", { class: "review-detail", testid: "review-detail", attrs: { "aria-live": "polite" } });
  private readonly status = el("p", { class: "status", testid: "review-message", attrs: { role: "status" } });
  private drafts: DraftSummary[] = [];
  private selected: number | null = null;
  private current: ReviewDetail | null = null;
  private editing = false;
  /** Drafts ticked for a bulk action. */
  private readonly chosen = new Set<number>();
  private readonly selectAll = el("input", { testid: "review-select-all", attrs: { type: "checkbox", id: "review-select-all" } });
  private readonly bulkApprove = el("button", { class: "ghost small", testid: "review-bulk-approve", attrs: { type: "button" } });
  private readonly bulkReject = el("button", { class: "ghost small", testid: "review-bulk-reject", attrs: { type: "button" } });
  private readonly bulkResult = el("div", { class: "bulk-slot", attrs: { "aria-live": "polite" } });

  constructor(
    private readonly backend: Backend,
    private readonly onError: (err: unknown) => void,
  ) {
    this.filter = el("select", { testid: "review-filter" });
    this.fillFilter();
    try {
      const stored = localStorage.getItem(REVIEW_FILTER_KEY);
      if (stored !== null && [...this.filter.options].some((o) => o.value === stored)) this.filter.value = stored;
    } catch {
      // default filter
    }
    this.filter.addEventListener("change", () => {
      try {
        localStorage.setItem(REVIEW_FILTER_KEY, this.filter.value);
      } catch {
        // not remembered
      }
      void this.refresh();
    });
    const refresh = el("button", { class: "ghost", testid: "review-refresh", attrs: { type: "button" } });
    setText(refresh, "review.refresh");
    refresh.addEventListener("click", () => void this.refresh());
    setAttrText(this.list, "aria-label", "review.list");
    setText(this.bulkApprove, "review.bulkApprove");
    setText(this.bulkReject, "review.bulkReject");
    this.bulkApprove.addEventListener("click", () => void this.bulk("approve"));
    this.bulkReject.addEventListener("click", () => void this.bulk("reject"));
    this.selectAll.addEventListener("change", () => {
      this.chosen.clear();
      if (this.selectAll.checked) for (const d of this.drafts) this.chosen.add(d.id);
      this.renderList();
    });
    this.list.addEventListener("change", (ev) => {
      const box = ev.target as HTMLInputElement | null;
      const id = Number(box?.dataset.draftId);
      if (!box || !Number.isFinite(id) || box.dataset.testid !== "review-select") return;
      if (box.checked) this.chosen.add(id);
      else this.chosen.delete(id);
      this.updateBulk();
    });
    const bulkBar = el(
      "div",
      { class: "bulk-bar" },
      el("span", { class: "field checkbox" }, this.selectAll, setText(el("label", { attrs: { for: "review-select-all" } }), "review.selectAll")),
      this.bulkApprove,
      this.bulkReject,
    );

    this.view = el(
      "section",
      { class: "screen review-screen", testid: "review-screen", attrs: { id: "screen-review", "aria-labelledby": "review-heading", hidden: true } },
      setText(el("h2", { attrs: { id: "review-heading" } }), "review.title"),
      el("div", { class: "toolbar" }, field("review.filter", this.filter, "review-filter"), refresh),
      this.status,
      el("div", { class: "review-layout" }, el("div", { class: "queue-pane" }, bulkBar, this.bulkResult, this.list), this.detail),
    );
    this.renderDetail();
  }

  private fillFilter(): void {
    const value = this.filter.value;
    replaceChildren(
      this.filter,
      el("option", { attrs: { value: "all" } }, t("status.all")),
      ...DRAFT_STATUSES.map((s) => el("option", { attrs: { value: s } }, t(`status.${s}`))),
    );
    if (value) this.filter.value = value;
  }

  /** Draw again in the current language. */
  relabel(): void {
    this.fillFilter();
    this.renderList();
    // An open editor keeps what the user typed; it is relabelled when it closes.
    if (!this.editing) this.renderDetail();
  }

  async refresh(): Promise<void> {
    try {
      const status = this.filter.value === "all" ? null : this.filter.value;
      this.drafts = await this.backend.listDrafts(status);
      const shown = new Set(this.drafts.map((d) => d.id));
      for (const id of [...this.chosen]) if (!shown.has(id)) this.chosen.delete(id);
      this.renderList();
      if (this.selected !== null) await this.open(this.selected);
    } catch (err) {
      this.onError(err);
    }
  }

  private updateBulk(): void {
    const none = this.chosen.size === 0;
    this.bulkApprove.disabled = none;
    this.bulkReject.disabled = none;
    this.selectAll.checked = this.drafts.length > 0 && this.chosen.size === this.drafts.length;
  }

  private async bulk(action: "approve" | "reject"): Promise<void> {
    const ids = [...this.chosen];
    if (ids.length === 0) return;
    this.bulkApprove.disabled = true;
    this.bulkReject.disabled = true;
    try {
      const outcomes = await this.backend.bulkReview(ids, action, null);
      replaceChildren(this.bulkResult, renderBulkResult(outcomes));
      this.chosen.clear();
      await this.refresh();
    } catch (err) {
      this.onError(err);
    } finally {
      this.updateBulk();
    }
  }

  private renderList(): void {
    this.updateBulk();
    replaceChildren(this.list);
    if (this.drafts.length === 0) {
      this.list.appendChild(el("li", { class: "empty", testid: "review-empty" }, t("review.empty")));
      return;
    }
    for (const d of this.drafts) {
      const item = renderQueueItem(d, d.id === this.selected, this.chosen.has(d.id));
      item.querySelector("button")?.addEventListener("click", () => {
        setText(this.status, null);
        this.editing = false;
        void this.open(d.id);
      });
      this.list.appendChild(item);
    }
  }

  async open(draftId: number): Promise<void> {
    try {
      const detail = await this.backend.getReview(draftId);
      this.selected = draftId;
      this.current = detail;
      this.renderList();
      this.renderDetail();
      const range = defaultDiffRange(detail.draft.versions.map((v) => v.version));
      if (range) await this.showDiff(range.from, range.to);
    } catch (err) {
      this.onError(err);
    }
  }

  private renderDetail(): void {
    const d = this.current;
    if (!d) {
      replaceChildren(this.detail, el("p", { class: "empty", testid: "review-pick" }, t("review.pick")));
      return;
    }
    const draft = d.draft;
    const version = draft.versions[draft.versions.length - 1];
    const blocking = d.findings.filter((f) => f.severity === "blocking").length;
    replaceChildren(
      this.detail,
      el(
        "header",
        { class: "review-head" },
        el("h3", { class: "review-title", testid: "review-title", attrs: { lang: draft.lang } }, version?.listing.title || t("draft.untitled")),
        el(
          "p",
          { class: "draft-meta" },
          renderStatusBadge(draft.status),
          " ",
          t("review.meta", { id: draft.id, product: draft.product_id, lang: draft.lang, marketplace: draft.marketplace, version: version?.version ?? 0 }),
        ),
        el("p", { class: "hint" }, t("review.actingAs", { name: d.actor.name, role: t(`role.${d.actor.role}`) })),
      ),
      this.actionsForm(d, blocking),
      el("h4", {}, t("review.fields")),
      this.editing && version ? this.editForm(draft.id, version.listing) : null,
      !this.editing && version ? renderListing(version.listing, draft.lang) : null,
      !this.editing && version ? this.editButton() : null,
      el("h4", {}, t("review.findings")),
      d.findings.length > 0 ? renderFindings(d.findings) : el("p", { class: "empty", testid: "review-no-findings" }, t("findings.none")),
      this.versionsSection(d),
      el("h4", {}, t("review.comments")),
      renderComments(d.comments),
      version ? this.commentForm(draft.id, listingFields(version.listing)) : null,
      el("h4", {}, t("review.history")),
      renderHistory(d.history),
    );
  }

  private actionsForm(d: ReviewDetail, blocking: number): HTMLElement {
    const actions = d.actions.filter(isAction);
    const note = el("input", { testid: "review-note", attrs: { type: "text", autocomplete: "off" } });
    const canOverride = d.actor.role === "admin" && blocking > 0 && actions.includes("approve");
    const override = el("input", { testid: "review-override", attrs: { type: "text", autocomplete: "off" } });
    const form = el(
      "form",
      { class: "review-actions", testid: "review-actions", attrs: { "aria-label": t("review.actions") } },
      actions.length > 0 ? field("review.note", note, "review-note") : null,
      canOverride ? field("review.override", override, "review-override") : null,
      canOverride ? el("p", { class: "hint" }, t("review.overrideNeeded")) : null,
    );
    const buttons = el("div", { class: "actions" });
    if (actions.length === 0) buttons.appendChild(el("p", { class: "empty" }, t("review.noActions")));
    for (const a of actions) {
      const b = el(
        "button",
        { class: a === "approve" ? "primary" : "ghost", testid: `review-action-${a}`, attrs: { type: "button", "data-action": a } },
        t(`review.action.${a}`),
      );
      b.addEventListener("click", () => void this.act(form, a, note.value, canOverride ? override.value : ""));
      buttons.appendChild(b);
    }
    form.appendChild(buttons);
    form.addEventListener("submit", (ev) => ev.preventDefault());
    return form;
  }

  private async act(form: HTMLElement, action: ReviewAction, note: string, override: string): Promise<void> {
    const id = this.selected;
    if (id === null) return;
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    try {
      const out = await this.backend.reviewAction(id, action, note.trim() || null, action === "approve" && override.trim() ? override.trim() : null);
      setText(this.status, out.overridden ? "review.done.approveOverride" : `review.done.${action}`);
      await this.refresh();
    } catch (err) {
      for (const b of form.querySelectorAll("button")) b.disabled = false;
      this.onError(err);
    }
  }

  private editButton(): HTMLElement {
    const b = el("button", { class: "ghost", testid: "review-edit", attrs: { type: "button" } }, t("review.edit"));
    b.addEventListener("click", () => {
      this.editing = true;
      this.renderDetail();
      this.detail.querySelector<HTMLInputElement>('[data-testid="review-edit-title"]')?.focus();
    });
    return b;
  }

  private editForm(draftId: number, listing: ReviewDetail["draft"]["versions"][number]["listing"]): HTMLElement {
    const title = el("input", { testid: "review-edit-title", attrs: { type: "text", autocomplete: "off" } });
    title.value = listing.title;
    const bullets = el("textarea", { testid: "review-edit-bullets", attrs: { rows: 4 } });
    bullets.value = listing.bullets.join("\n");
    const description = el("textarea", { testid: "review-edit-description", attrs: { rows: 5 } });
    description.value = listing.description;
    const keywords = el("input", { testid: "review-edit-keywords", attrs: { type: "text", autocomplete: "off" } });
    keywords.value = listing.keywords.join(", ");
    const save = el("button", { class: "primary", testid: "review-edit-save", attrs: { type: "submit" } }, t("review.editSave"));
    const cancel = el("button", { class: "ghost", testid: "review-edit-cancel", attrs: { type: "button" } }, t("review.editCancel"));
    const form = el(
      "form",
      { class: "review-edit", testid: "review-edit-form", attrs: { "aria-label": t("review.edit") } },
      field("review.editTitle", title, "review-edit-title"),
      field("review.editBullets", bullets, "review-edit-bullets"),
      field("review.editDescription", description, "review-edit-description"),
      field("review.editKeywords", keywords, "review-edit-keywords"),
      el("div", { class: "actions" }, save, cancel),
    );
    cancel.addEventListener("click", () => {
      this.editing = false;
      this.renderDetail();
    });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const next = editedListing(listing, { title: title.value, bullets: bullets.value, description: description.value, keywords: keywords.value });
      save.disabled = true;
      this.backend
        .editDraft(draftId, next)
        .then(async (draft) => {
          this.editing = false;
          setText(this.status, "review.edited", { version: draft.versions[draft.versions.length - 1]?.version ?? 0 });
          await this.refresh();
        })
        .catch((err) => {
          save.disabled = false;
          this.onError(err);
        });
    });
    return form;
  }

  private versionsSection(d: ReviewDetail): HTMLElement {
    const versions = d.draft.versions;
    const list = el(
      "ul",
      { class: "versions", testid: "review-versions" },
      ...versions.map((v) => el("li", {}, t("review.version", { version: v.version, author: v.author, at: v.created_at }))),
    );
    const section = el("section", { class: "review-versions" }, el("h4", {}, t("review.versions")), list);
    if (versions.length < 2) {
      section.appendChild(el("p", { class: "empty" }, t("review.diffOne")));
      return section;
    }
    const options = () => versions.map((v) => el("option", { attrs: { value: v.version } }, `v${v.version}`));
    const from = el("select", { testid: "review-diff-from" }, ...options());
    const to = el("select", { testid: "review-diff-to" }, ...options());
    const range = defaultDiffRange(versions.map((v) => v.version));
    if (range) {
      from.value = String(range.from);
      to.value = String(range.to);
    }
    const show = el("button", { class: "ghost", testid: "review-diff-show", attrs: { type: "submit" } }, t("review.diffShow"));
    const form = el(
      "form",
      { class: "diff-form", attrs: { "aria-label": t("review.diff") } },
      field("review.diffFrom", from, "review-diff-from"),
      field("review.diffTo", to, "review-diff-to"),
      show,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.showDiff(Number(from.value), Number(to.value));
    });
    section.append(form, el("div", { class: "diff-slot", testid: "review-diff-slot" }));
    return section;
  }

  private async showDiff(from: number, to: number): Promise<void> {
    const id = this.selected;
    if (id === null) return;
    try {
      const diff = await this.backend.diffVersions(id, from, to);
      const slot = this.detail.querySelector<HTMLElement>('[data-testid="review-diff-slot"]');
      if (slot && this.selected === id) replaceChildren(slot, renderDiff(diff));
    } catch (err) {
      this.onError(err);
    }
  }

  private commentForm(draftId: number, fields: string[]): HTMLElement {
    const which = el("select", { testid: "review-comment-field" }, ...fields.map((f) => el("option", { attrs: { value: f } }, f)));
    const body = el("textarea", { testid: "review-comment-body-input", attrs: { rows: 2 } });
    const add = el("button", { class: "ghost", testid: "review-comment-add", attrs: { type: "submit" } }, tspan("review.commentAdd"));
    const form = el(
      "form",
      { class: "comment-form", attrs: { "aria-label": t("review.commentAdd") } },
      field("review.commentField", which, "review-comment-field"),
      field("review.commentBody", body, "review-comment-body-input"),
      add,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!body.value.trim()) return;
      add.disabled = true;
      this.backend
        .addComment(draftId, which.value, body.value)
        .then(async () => {
          setText(this.status, "review.commentAdded");
          await this.open(draftId);
        })
        .catch((err) => {
          add.disabled = false;
          this.onError(toIpcError(err));
        });
    });
    return form;
  }
}
