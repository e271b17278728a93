import { describe, expect, it } from "vitest";
import type { ModelStatus } from "../types";
import { BatchScreen } from "./batch";

const tiny: ModelStatus = { id: "smollm2-135m", name: "SmolLM2 135M", role: "light", installed: true, size_bytes: 1, path: "/m/tiny.gguf", default: false };

function screen(): BatchScreen {
  const none = async () => {
    throw new Error("not used here");
  };
  return new BatchScreen(
    { startBatch: none, listBatches: async () => [], batchDetail: none, pauseBatch: none, cancelBatch: none, resumeBatch: none, listModels: async () => [tiny] },
    () => {},
  );
}

describe("batch model choice", () => {
  it("offers installed models locally, and only the server's model with a remote backend", async () => {
    const s = screen();
    await s.refresh();
    const select = s.view.querySelector<HTMLSelectElement>('[data-testid="batch-model"]');
    expect([...(select?.options ?? [])].map((o) => o.value)).toContain("smollm2-135m");
    s.setRemote("m@http://127.0.0.1:8000");
    const offered = [...(select?.options ?? [])];
    expect(offered.map((o) => o.value)).toEqual([""]);
    expect(offered[0]?.textContent).toContain("m@http://127.0.0.1:8000");
    s.setRemote(null);
    expect([...(select?.options ?? [])].map((o) => o.value)).toContain("smollm2-135m");
  });
});
