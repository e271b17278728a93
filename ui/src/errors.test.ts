import { describe, expect, it } from "vitest";
import { isCancelled, toIpcError } from "./errors";

describe("toIpcError", () => {
  it("keeps a typed command error", () => {
    const e = toIpcError({ code: "corrupt_image", message: "a.jpg: cannot decode image", details: { path: "a.jpg" } });
    expect(e).toEqual({ code: "corrupt_image", message: "a.jpg: cannot decode image", details: { path: "a.jpg" } });
  });

  it("wraps Tauri's bare strings and JS errors", () => {
    expect(toIpcError("Command foo not found")).toEqual({ code: "ipc", message: "Command foo not found", details: null });
    expect(toIpcError(new Error("boom"))).toMatchObject({ code: "ui", message: "boom" });
    expect(toIpcError({ weird: true })).toMatchObject({ code: "unknown", message: '{"weird":true}' });
    expect(toIpcError(undefined).code).toBe("unknown");
  });

  it("recognises cancellation", () => {
    expect(isCancelled(toIpcError({ code: "cancelled", message: "cancelled" }))).toBe(true);
    expect(isCancelled(toIpcError("cancelled"))).toBe(false);
  });
});
