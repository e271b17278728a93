import { afterEach, describe, expect, it } from "vitest";
import { el } from "./dom";
import { initialScreen, Nav, nextIndex, SCREEN_KEY } from "./nav";
import { applyTheme, parseTheme } from "./theme";

afterEach(() => localStorage.clear());

describe("navigation", () => {
  it("moves with the arrow keys, wrapping, and Home/End", () => {
    expect(nextIndex(0, "ArrowRight", 4)).toBe(1);
    expect(nextIndex(3, "ArrowRight", 4)).toBe(0);
    expect(nextIndex(0, "ArrowLeft", 4)).toBe(3);
    expect(nextIndex(2, "ArrowUp", 4)).toBe(1);
    expect(nextIndex(2, "Home", 4)).toBe(0);
    expect(nextIndex(0, "End", 4)).toBe(3);
    expect(nextIndex(0, "a", 4)).toBeNull();
    expect(nextIndex(0, "ArrowRight", 0)).toBeNull();
  });

  it("reopens the remembered screen if it still exists", () => {
    expect(initialScreen("review", ["library", "review"])).toBe("review");
    expect(initialScreen("batch", ["library", "review"])).toBe("library");
    expect(initialScreen(null, ["library", "review"])).toBe("library");
  });

  it("shows one screen, marks its tab and remembers it", () => {
    const views = ["a", "b", "c"].map((id) => el("section", { attrs: { id: `screen-${id}` } }));
    let shown = 0;
    const bar = el("nav");
    document.body.appendChild(bar);
    const nav = new Nav(bar, [
      { id: "library", label: "nav.library", view: views[0] as HTMLElement },
      { id: "review", label: "nav.review", view: views[1] as HTMLElement, onShow: () => (shown += 1) },
      { id: "export", label: "nav.export", view: views[2] as HTMLElement },
    ]);
    nav.start();
    expect(nav.current).toBe("library");
    const review = bar.querySelector<HTMLButtonElement>('[data-testid="nav-review"]');
    expect(review?.textContent).toBe("Review queue");
    expect(review?.getAttribute("aria-controls")).toBe("screen-b");
    review?.click();
    expect(shown).toBe(1);
    expect(views.map((v) => v.hidden)).toEqual([true, false, true]);
    expect(review?.getAttribute("aria-current")).toBe("page");
    expect(bar.querySelectorAll('[aria-current="page"]').length).toBe(1);
    expect(localStorage.getItem(SCREEN_KEY)).toBe("review");

    review?.focus();
    review?.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    expect(document.activeElement?.getAttribute("data-screen")).toBe("export");
    bar.remove();
  });

  it("applies a theme and falls back to the system's", () => {
    const root = el("div");
    applyTheme("dark", root);
    expect(root.dataset.theme).toBe("dark");
    applyTheme("system", root);
    expect(root.dataset.theme).toBeUndefined();
    expect(parseTheme("light")).toBe("light");
    expect(parseTheme("purple")).toBe("system");
    expect(parseTheme(null)).toBe("system");
  });
});
