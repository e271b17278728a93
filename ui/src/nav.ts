// The tab bar between screens. Buttons in a <nav>: Tab reaches the bar,
// the arrow keys (and Home/End) move between screens, Enter or Space opens
// one; the open screen's button carries aria-current="page". The last
// screen opened is remembered, so the app reopens where the user was.

import { el } from "./dom";
import { setText, type Key } from "./i18n";

export const SCREEN_KEY = "vitrine.screen";

export interface Screen {
  id: string;
  label: Key;
  view: HTMLElement;
  /** Called each time the screen is shown (to refresh its data). */
  onShow?: () => void;
}

/** Where an arrow key moves the focus in a bar of `count` buttons; null for other keys. */
export function nextIndex(current: number, key: string, count: number): number | null {
  if (count <= 0) return null;
  switch (key) {
    case "ArrowRight":
    case "ArrowDown":
      return (current + 1) % count;
    case "ArrowLeft":
    case "ArrowUp":
      return (current - 1 + count) % count;
    case "Home":
      return 0;
    case "End":
      return count - 1;
    default:
      return null;
  }
}

/** The screen to start on: the remembered one if it still exists, else the first. */
export function initialScreen(stored: string | null, ids: readonly string[]): string | undefined {
  return stored !== null && ids.includes(stored) ? stored : ids[0];
}

export class Nav {
  private readonly buttons = new Map<string, HTMLButtonElement>();
  private currentId: string | null = null;

  constructor(
    readonly element: HTMLElement,
    private readonly screens: Screen[],
  ) {
    const list = el("ul", { class: "tabs" });
    for (const s of screens) {
      const button = el("button", {
        class: "tab",
        testid: `nav-${s.id}`,
        attrs: { type: "button", "data-screen": s.id, "aria-controls": s.view.id || null },
      });
      setText(button, s.label);
      button.addEventListener("click", () => this.show(s.id));
      this.buttons.set(s.id, button);
      list.appendChild(el("li", {}, button));
    }
    list.addEventListener("keydown", (ev) => {
      const ids = screens.map((s) => s.id);
      const focused = ids.findIndex((id) => this.buttons.get(id) === document.activeElement);
      if (focused < 0) return;
      const next = nextIndex(focused, ev.key, ids.length);
      if (next === null) return;
      ev.preventDefault();
      this.buttons.get(ids[next] ?? "")?.focus();
    });
    element.appendChild(list);
  }

  get current(): string | null {
    return this.currentId;
  }

  show(id: string): void {
    const screen = this.screens.find((s) => s.id === id);
    if (!screen) return;
    this.currentId = id;
    for (const s of this.screens) {
      s.view.hidden = s.id !== id;
      const b = this.buttons.get(s.id);
      if (b) {
        if (s.id === id) b.setAttribute("aria-current", "page");
        else b.removeAttribute("aria-current");
      }
    }
    try {
      localStorage.setItem(SCREEN_KEY, id);
    } catch {
      // not remembered this time
    }
    screen.onShow?.();
  }

  /** Open the remembered screen. */
  start(): void {
    let stored: string | null = null;
    try {
      stored = localStorage.getItem(SCREEN_KEY);
    } catch {
      stored = null;
    }
    const id = initialScreen(
      stored,
      this.screens.map((s) => s.id),
    );
    if (id) this.show(id);
  }
}
