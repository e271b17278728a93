import { describe, expect, it } from "vitest";
import { actionsFor, applyEvent, chosen, emptyLive, formatEta, parseBatchPrefs, percentDone, shownStatus } from "./batchModel";
import { renderBatchDetail, renderBatchRow, scriptMinutes } from "./batch";
import type { BatchCounts, BatchRow } from "../types";

const counts = (c: Partial<BatchCounts>): BatchCounts => ({ total: 4, pending: 0, running: 0, done: 0, failed: 0, skipped: 0, ...c });

function row(over: Partial<BatchRow>): BatchRow {
  return {
    id: 3,
    source: "/tmp/e2e/catalogue.csv",
    spec: { outputs: ["listing"], langs: ["en"], marketplace: "generic", concurrency: 1 },
    status: "running",
    error: null,
    created_at: "",
    updated_at: "",
    finished_at: null,
    counts: counts({ pending: 4 }),
    import_errors: 0,
    active: true,
    ...over,
  };
}

describe("batch model", () => {
  it("shows a running batch no runner holds as interrupted", () => {
    expect(shownStatus({ status: "running", active: true })).toBe("running");
    expect(shownStatus({ status: "running", active: false })).toBe("interrupted");
    expect(shownStatus({ status: "paused", active: true })).toBe("running");
    expect(shownStatus({ status: "done", active: false })).toBe("done");
  });

  it("counts done, failed and skipped items as finished", () => {
    expect(percentDone(counts({ done: 1, failed: 1, pending: 2 }))).toBe(50);
    expect(percentDone(counts({ total: 0 }))).toBe(0);
    expect(percentDone(counts({ total: 3, done: 1 }))).toBe(33);
  });

  it("formats the ETA for people", () => {
    expect(formatEta(null)).toBeNull();
    expect(formatEta(Number.NaN)).toBeNull();
    expect(formatEta(-1)).toBeNull();
    expect(formatEta(42.4)).toBe("42 s");
    expect(formatEta(185)).toBe("3 min 05 s");
    expect(formatEta(3720)).toBe("1 h 02 min");
  });

  it("offers the buttons that apply", () => {
    expect(actionsFor(row({}))).toEqual({ pause: true, resume: false, cancel: true, retryFailed: false });
    expect(actionsFor(row({ active: false }))).toEqual({ pause: false, resume: true, cancel: true, retryFailed: false });
    expect(actionsFor(row({ status: "paused", active: false }))).toMatchObject({ pause: false, resume: true, cancel: true });
    expect(actionsFor(row({ status: "done", active: false, counts: counts({ done: 3, failed: 1 }) }))).toEqual({
      pause: false,
      resume: false,
      cancel: false,
      retryFailed: true,
    });
    expect(actionsFor(row({ status: "cancelled", active: false, counts: counts({ failed: 1 }) })).retryFailed).toBe(false);
  });

  it("follows the runner's events", () => {
    let live = applyEvent(emptyLive(), { type: "started", batch_id: 3, counts: counts({ pending: 4 }), concurrency: 1 });
    expect(live.counts?.pending).toBe(4);
    live = applyEvent(live, { type: "item_started", item_id: 9, product_id: 12, kind: "listing", lang: "en" });
    expect(live.current).toEqual({ kind: "listing", lang: "en", productId: 12 });
    live = applyEvent(live, { type: "progress", counts: counts({ done: 1, pending: 3 }), eta_secs: 30 });
    expect(live).toMatchObject({ etaSecs: 30, current: { productId: 12 } });
    expect(live.counts?.done).toBe(1);
    expect(applyEvent(live, { type: "item_failed", item_id: 9, product_id: 12, error: "x" })).toBe(live);
  });

  it("keeps the form's choices in the core's order and drops unknown ones", () => {
    expect(chosen(["listing", "script", "reviews"] as const, new Set(["reviews", "listing"]))).toEqual(["listing", "reviews"]);
    expect(parseBatchPrefs(null)).toEqual({ outputs: ["listing"], langs: ["en"], marketplace: "" });
    expect(parseBatchPrefs('{"outputs":["script","x"],"langs":["zh-CN"],"marketplace":"amazon"}')).toEqual({
      outputs: ["script"],
      langs: ["zh-CN"],
      marketplace: "amazon",
    });
    expect(parseBatchPrefs('{"outputs":[],"marketplace":"<b>"}')).toEqual({ outputs: ["listing"], langs: ["en"], marketplace: "" });
    expect(parseBatchPrefs("not json")).toEqual({ outputs: ["listing"], langs: ["en"], marketplace: "" });
  });

  it("renders a row with live progress and ETA, and errors as text", () => {
    const live = applyEvent(emptyLive(), { type: "progress", counts: counts({ done: 2, pending: 2 }), eta_secs: 65 });
    const li = renderBatchRow(row({ error: "<img src=x onerror=alert(1)>" }), live, null);
    const bar = li.querySelector("progress");
    expect(bar?.getAttribute("value")).toBe("2");
    expect(bar?.getAttribute("max")).toBe("4");
    expect(li.querySelector('[data-testid="batch-figures"]')?.textContent).toContain("1 min 05 s");
    expect(li.querySelector('[data-testid="batch-name"]')?.textContent).toBe("#3 · catalogue.csv");
    expect(li.querySelector("img")).toBeNull();
    expect(li.querySelector('[data-testid="batch-error"]')?.textContent).toBe("<img src=x onerror=alert(1)>");
    expect(li.querySelector('[data-action="pause"]')).not.toBeNull();
    expect(li.querySelector('[data-action="resume"]')).toBeNull();
  });

  it("takes script minutes in range only", () => {
    expect(scriptMinutes("0.5")).toBe(0.5);
    expect(scriptMinutes("")).toBeNull();
    expect(scriptMinutes("0.1")).toBeNull();
    expect(scriptMinutes("11")).toBeNull();
    expect(scriptMinutes("abc")).toBeNull();
  });

  it("lists failed items and rows not imported", () => {
    const d = renderBatchDetail({
      batch: row({}),
      failures: [{ id: 1, batch_id: 3, product_id: 7, kind: "listing", lang: "en", status: "failed", attempts: 1, draft_id: null, error: "no facts <b>" }],
      import_errors: [{ line: 4, handle: "tee", message: "missing title" }],
    });
    expect(d.querySelectorAll('[data-testid="batch-failure"]').length).toBe(1);
    expect(d.textContent).toContain("no facts <b>");
    expect(d.querySelector("b")).toBeNull();
    expect(d.textContent).toContain("line 4 · tee: missing title");
  });
});
