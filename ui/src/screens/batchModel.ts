// The Batch screen's pure logic: what a batch row shows (status, share
// done, ETA) and which buttons apply, and how runner events update the
// live figures. No DOM here, so it is tested on its own.

import type { BatchCounts, BatchEvent, BatchRow, BatchStatus } from "../types";

/** What the row says: the store's status, except that a `running` batch no runner of this app holds was interrupted. */
export type ShownStatus = BatchStatus | "interrupted";

export function shownStatus(row: Pick<BatchRow, "status" | "active">): ShownStatus {
  if (row.status === "running" && !row.active) return "interrupted";
  if ((row.status === "queued" || row.status === "paused") && row.active) return "running";
  return row.status;
}

/** Items finished (done, failed or skipped) out of all, 0..=100, whole. */
export function percentDone(c: BatchCounts): number {
  if (c.total <= 0) return 0;
  return Math.min(100, Math.round(((c.done + c.failed + c.skipped) / c.total) * 100));
}

/** `1 h 02 min`, `3 min 05 s`, `42 s`; null for an unknown ETA. */
export function formatEta(secs: number | null | undefined): string | null {
  if (secs === null || secs === undefined || !Number.isFinite(secs) || secs < 0) return null;
  const s = Math.round(secs);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (h > 0) return `${h} h ${pad(m)} min`;
  if (m > 0) return `${m} min ${pad(rest)} s`;
  return `${rest} s`;
}

export interface Actions {
  pause: boolean;
  resume: boolean;
  cancel: boolean;
  retryFailed: boolean;
}

export function actionsFor(row: Pick<BatchRow, "status" | "active" | "counts">): Actions {
  const shown = shownStatus(row);
  const running = shown === "running";
  const finished = shown === "done" || shown === "cancelled";
  return {
    pause: running,
    resume: !running && !finished,
    cancel: !finished,
    retryFailed: !running && shown !== "cancelled" && row.counts.failed > 0,
  };
}

/** Live figures of a run, from its events. */
export interface Live {
  counts: BatchCounts | null;
  etaSecs: number | null;
  /** The item the runner works on now. */
  current: { kind: string; lang: string; productId: number } | null;
}

export function emptyLive(): Live {
  return { counts: null, etaSecs: null, current: null };
}

/** Apply one runner event to a batch's live figures (returns a new object). */
export function applyEvent(live: Live, event: BatchEvent): Live {
  switch (event.type) {
    case "started":
      return { counts: event.counts, etaSecs: null, current: null };
    case "item_started":
      return { ...live, current: { kind: event.kind, lang: event.lang, productId: event.product_id } };
    case "progress":
      return { ...live, counts: event.counts, etaSecs: event.eta_secs };
    default:
      return live;
  }
}

/** Outputs ticked in the form, in the core's order; at least one is needed. */
export function chosen<T extends string>(all: readonly T[], ticked: ReadonlySet<string>): T[] {
  return all.filter((o) => ticked.has(o));
}

/** The batch form's choices, remembered between sessions. */
export interface BatchPrefs {
  outputs: string[];
  langs: string[];
  marketplace: string;
}

export function parseBatchPrefs(raw: string | null): BatchPrefs {
  const prefs: BatchPrefs = { outputs: ["listing"], langs: ["en"], marketplace: "" };
  if (!raw) return prefs;
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    const strings = (x: unknown, allowed: readonly string[]) =>
      Array.isArray(x) ? x.filter((s): s is string => typeof s === "string" && allowed.includes(s)) : [];
    const outputs = strings(v.outputs, ["listing", "script", "reviews"]);
    const langs = strings(v.langs, ["en", "zh-CN"]);
    if (outputs.length > 0) prefs.outputs = outputs;
    if (langs.length > 0) prefs.langs = langs;
    if (typeof v.marketplace === "string" && ["", "generic", "shopify", "amazon", "taobao"].includes(v.marketplace)) prefs.marketplace = v.marketplace;
  } catch {
    // defaults
  }
  return prefs;
}
