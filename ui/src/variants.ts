// Variants side by side: several listings of one product, each generated
// with its own seed and stored as its own draft, shown next to each other
// with their checks. Keeping one opens it as the product's draft; the others
// are rejected through the review workflow (with a note naming the kept
// draft), so they leave the queue but stay in the audit trail and can be
// reopened from the Review queue.

import { el } from "./dom";
import { t } from "./i18n";
import { renderDraft } from "./render";
import type { Draft } from "./types";

export const VARIANT_COUNTS = [2, 3] as const;

/** Blocking and warning findings of a draft's current version. */
export function findingCounts(d: Draft): { blocking: number; warnings: number } {
  const findings = d.versions[d.versions.length - 1]?.provenance?.findings ?? [];
  const blocking = findings.filter((f) => f.severity === "blocking").length;
  return { blocking, warnings: findings.length - blocking };
}

/** The note the rejected variants get in the audit trail (stored text: English, as other notes). */
export function discardNote(keptId: number): string {
  return `variant not kept: draft #${keptId} was kept instead`;
}

/** The drafts that are rejected when `keptId` is kept. */
export function toDiscard(drafts: readonly Draft[], keptId: number): number[] {
  return drafts.filter((d) => d.id !== keptId).map((d) => d.id);
}

/** The variants as columns, each with its checks and a Keep button (disabled while `busy`). */
export function renderVariants(drafts: readonly Draft[], onKeep: (draftId: number) => void, busy = false): HTMLElement {
  const columns = drafts.map((d, i) => {
    const { blocking, warnings } = findingCounts(d);
    const summary =
      blocking + warnings === 0 ? t("variants.clean") : t("variants.findings", { blocking, warnings });
    const keep = el(
      "button",
      { class: "primary small", testid: "variant-keep", attrs: { type: "button", "data-draft-id": d.id, disabled: busy } },
      t("variants.keep"),
    );
    keep.addEventListener("click", () => onKeep(d.id));
    return el(
      "article",
      {
        class: blocking > 0 ? "variant variant-blocked" : "variant",
        testid: "variant",
        attrs: { "data-draft-id": d.id, "aria-label": t("variants.label", { n: i + 1, id: d.id }) },
      },
      el("header", { class: "variant-head" }, el("h4", {}, t("variants.label", { n: i + 1, id: d.id })), el("p", { class: "hint", testid: "variant-checks" }, summary), keep),
      renderDraft(d),
    );
  });
  return el(
    "section",
    { class: "variants", testid: "variants", attrs: { "aria-label": t("variants.heading") } },
    el("h3", {}, t("variants.heading")),
    el("p", { class: "hint" }, t("variants.hint")),
    el("div", { class: "variants-grid" }, ...columns),
  );
}
