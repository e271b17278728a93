import { describe, expect, it } from "vitest";
import { StreamView } from "./stream";

describe("StreamView", () => {
  it("accumulates tokens as text", () => {
    const pre = document.createElement("pre");
    const view = new StreamView(pre);
    view.push("{\"title\": \"<script>alert(1)</script>");
    view.push("\"}");
    view.flush();
    expect(pre.textContent).toBe('{"title": "<script>alert(1)</script>"}');
    expect(pre.querySelector("script")).toBeNull();
    view.clear();
    expect(pre.textContent).toBe("");
    expect(view.value).toBe("");
  });
});
