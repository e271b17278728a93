import { describe, expect, it } from "vitest";
import { errorTitle, isCancelled, toIpcError } from "./errors";
import { setLocale, t } from "./i18n";

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

describe("error titles", () => {
  it("name the kind of problem in the UI's language", () => {
    expect(t(errorTitle("blocked"))).toBe("The checks block approval");
    expect(t(errorTitle("corrupt_image"))).toBe("This file cannot be added");
    expect(t(errorTitle("something_new"))).toBe("Something went wrong");
    setLocale("zh-CN");
    expect(t(errorTitle("forbidden"))).toBe("没有权限");
    setLocale("en");
  });
});

describe("error messages in the UI's language", () => {
  it("words core errors in Chinese with their details, keeping the core's message", async () => {
    const { errorText } = await import("./errors");
    const { setLocale } = await import("./i18n");
    const e = { code: "not_found", message: "product 42 not found", details: null };
    expect(errorText(e)).toBe("product 42 not found");
    setLocale("zh-CN");
    try {
      expect(errorText(e)).toBe("找不到所请求的记录（product 42 not found）");
      expect(errorText({ code: "remote_status", message: "http://h/v1/models: HTTP 401", details: { status: 401 } })).toBe("服务器返回 HTTP 401（http://h/v1/models: HTTP 401）");
      expect(errorText({ code: "brand_new_code", message: "m", details: null })).toBe("出现了问题（m）");
    } finally {
      setLocale("en");
    }
  });
});
