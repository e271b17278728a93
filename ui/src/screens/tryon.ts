// Try-on: a product worn by a mannequin, turned with the pointer (drag to
// orbit, wheel or pinch to zoom) or the keyboard (arrows, + and −). The
// shell prepares the 3D scene once per product, photos, garment and size;
// each frame is then one draw, delivered as raw RGBA bytes (binary IPC, no
// base64) and put on the canvas as it is. Frame requests are paced by
// requestAnimationFrame, at most one in flight, the next asked for only on
// the animation frame after the last one landed: a fast drag skips the
// angles the renderer had no time for instead of queueing them, and the
// page stays free to paint and take input. Frames drawn while the view
// moves are unantialiased (cheap on a CPU); a final one follows when it stops.

import type { api as Api } from "../api";
import { el, replaceChildren } from "../dom";
import { setAttrText, setText, t, type Key } from "../i18n";
import type { ProductDetail, ProductSummary, TryOnInfo } from "../types";

type Backend = Pick<typeof Api, "listProducts" | "getProduct" | "tryonPrepare" | "tryonFrame" | "tryonSavePng">;

/** The canvas's backing size: 30+ fps on a software rasteriser. */
export const FRAME_PX = 512;
/**
 * While the view moves (turning, or input in the last SETTLE_MS) frames are
 * drawn without antialiasing, a fraction of a software rasteriser's work;
 * once it has been still this long, one antialiased frame replaces the last.
 */
export const SETTLE_MS = 150;

/** Whether a frame asked for at `now` is drawn as a moving one. */
export function movingAt(turning: boolean, now: number, lastInput: number): boolean {
  return turning || now - lastInput < SETTLE_MS;
}
export const GARMENTS = ["tshirt", "hoodie", "polo", "dress"] as const;
export const SIZES = ["S", "M", "L", "XL", "XXL"] as const;

export interface Orbit {
  /** Degrees around the figure; 0 looks at the front. */
  azimuth: number;
  /** Degrees above the horizon. */
  elevation: number;
  /** How many times closer than the preset (0.5..4). */
  zoom: number;
}

export const PRESETS = {
  front: { azimuth: 0, elevation: 8, zoom: 1 },
  back: { azimuth: 180, elevation: 8, zoom: 1 },
  "34": { azimuth: 35, elevation: 8, zoom: 1 },
} as const satisfies Record<string, Orbit>;
export type Preset = keyof typeof PRESETS;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The orbit kept in range: azimuth in [0, 360), elevation and zoom clamped. */
export function normalise(o: Orbit): Orbit {
  return {
    azimuth: ((o.azimuth % 360) + 360) % 360,
    elevation: clamp(o.elevation, -20, 60),
    zoom: clamp(o.zoom, 0.5, 4),
  };
}

/** A drag of (dx, dy) CSS pixels: half a degree a pixel across, a third up and down. */
export function dragged(o: Orbit, dx: number, dy: number): Orbit {
  return normalise({ azimuth: o.azimuth - dx * 0.5, elevation: o.elevation + dy * 0.3, zoom: o.zoom });
}

/** Zoomed by `factor` (> 1 is closer). */
export function zoomed(o: Orbit, factor: number): Orbit {
  return normalise({ ...o, zoom: o.zoom * factor });
}

/** What a key does to the orbit; null for keys the view does not use. */
export function keyed(o: Orbit, key: string): Orbit | null {
  switch (key) {
    case "ArrowLeft":
      return normalise({ ...o, azimuth: o.azimuth + 10 });
    case "ArrowRight":
      return normalise({ ...o, azimuth: o.azimuth - 10 });
    case "ArrowUp":
      return normalise({ ...o, elevation: o.elevation + 5 });
    case "ArrowDown":
      return normalise({ ...o, elevation: o.elevation - 5 });
    case "+":
    case "=":
      return zoomed(o, 1.25);
    case "-":
    case "_":
      return zoomed(o, 0.8);
    case "Home":
      return { ...PRESETS.front };
    default:
      return null;
  }
}

/**
 * Frames per second over the frames shown in the last `windowMs` before
 * the latest one (`times` ascending, in ms); null with fewer than 2.
 */
export function fpsOf(times: readonly number[], windowMs = 2000): number | null {
  const last = times[times.length - 1];
  if (last === undefined) return null;
  const recent = times.filter((x) => x >= last - windowMs);
  const first = recent[0];
  if (recent.length < 2 || first === undefined || last <= first) return null;
  return ((recent.length - 1) * 1000) / (last - first);
}

/** The median of some timings (ms); null when there are none. */
export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? null;
}

/** The frame's background outside the figure's box (sRGB), as the renderer clears it. */
export const BACKGROUND = "rgb(230 230 230)";

/** A frame as tryon_frame sends it: the figure's box within the px × px frame, and its pixels. */
export interface Frame {
  x: number;
  y: number;
  image: ImageData;
}

/**
 * Reads a frame: a 16-byte header (x, y, width, height; little-endian u32)
 * then the box's RGBA rows. Anything that does not fit the frame is refused.
 */
export function parseFrame(bytes: ArrayBuffer, px: number): Frame {
  if (bytes.byteLength < 16) throw new Error(`a frame has a 16-byte header; got ${bytes.byteLength} bytes`);
  const head = new DataView(bytes, 0, 16);
  const [x, y, w, h] = [0, 4, 8, 12].map((at) => head.getUint32(at, true)) as [number, number, number, number];
  if (w === 0 || h === 0 || x + w > px || y + h > px) throw new Error(`a ${w}×${h} box at (${x}, ${y}) does not fit a ${px}×${px} frame`);
  if (bytes.byteLength !== 16 + w * h * 4) throw new Error(`a ${w}×${h} box has ${w * h * 4} bytes, not ${bytes.byteLength - 16}`);
  return { x, y, image: new ImageData(new Uint8ClampedArray(bytes, 16), w, h) };
}

export class TryOnScreen {
  readonly view: HTMLElement;
  private readonly product = el("select", { testid: "tryon-product", attrs: { id: "tryon-product" } });
  private readonly garment = el("select", { testid: "tryon-garment", attrs: { id: "tryon-garment" } });
  private readonly size = el("select", { testid: "tryon-size", attrs: { id: "tryon-size" } });
  private readonly back = el("select", { testid: "tryon-back", attrs: { id: "tryon-back" } });
  private readonly canvas = el("canvas", {
    class: "tryon-canvas",
    testid: "tryon-canvas",
    attrs: { width: FRAME_PX, height: FRAME_PX, tabindex: 0, role: "img" },
  });
  private readonly fps = el("output", { class: "tryon-fps", testid: "tryon-fps", attrs: { "aria-live": "off" } });
  private readonly status = el("p", { class: "status", testid: "tryon-status", attrs: { role: "status" } });
  private readonly hint = el("p", { class: "hint", testid: "tryon-hint" });
  private readonly adapter = el("p", { class: "hint", testid: "tryon-adapter" });
  private readonly turn = el("button", { class: "ghost", testid: "tryon-turn", attrs: { type: "button", "aria-pressed": "false" } });
  private readonly save = setText(el("button", { class: "primary", testid: "tryon-save", attrs: { type: "button" } }), "tryon.save");
  private readonly empty = setText(el("p", { class: "empty", testid: "tryon-empty", attrs: { hidden: true } }), "tryon.noProducts");
  private readonly stage: HTMLElement;

  private products: ProductSummary[] = [];
  private detail: ProductDetail | null = null;
  private info: TryOnInfo | null = null;
  private orbit: Orbit = { ...PRESETS.front };
  /** The garment the user picked; null follows the product's category. */
  private chosenGarment: string | null = null;
  private preparing = 0;
  private dirty = false;
  private inFlight = false;
  private rafPending = false;
  private turning = false;
  /** When the user last moved the view (drag, wheel, pinch, key). */
  private lastInput = -Infinity;
  /** The canvas shows a moving (unantialiased) frame, to be replaced by a final one. */
  private roughShown = false;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  private shown: number[] = [];
  /** Per frame: the wait for the animation frame, the IPC round trip (render included), the canvas draw (ms). */
  private timings: { wait: number; ipc: number; draw: number }[] = [];
  private requestedAt = 0;
  private readonly pointers = new Map<number, { x: number; y: number }>();

  constructor(
    private readonly backend: Backend,
    private readonly onError: (err: unknown) => void,
    /** The product open in the Library, offered first. */
    private readonly libraryProduct: () => number | null,
  ) {
    this.fillSelects();
    const presets = el(
      "div",
      { class: "tryon-presets", attrs: { role: "group" } },
      ...(["front", "back", "34"] as const satisfies readonly Preset[]).map((p) => {
        const b = setText(el("button", { class: "ghost", testid: `tryon-view-${p}`, attrs: { type: "button" } }), `tryon.view.${p}`);
        b.addEventListener("click", () => this.setOrbit({ ...PRESETS[p] }));
        return b;
      }),
    );
    setAttrText(presets, "aria-label", "tryon.view");
    this.stage = el("div", { class: "tryon-stage" }, this.canvas, this.fps);
    this.view = el(
      "section",
      { class: "screen tryon-screen", testid: "tryon-screen", attrs: { id: "screen-tryon", "aria-labelledby": "tryon-heading", hidden: true } },
      setText(el("h2", { attrs: { id: "tryon-heading" } }), "tryon.title"),
      this.empty,
      el(
        "div",
        { class: "tryon-layout" },
        el(
          "div",
          { class: "tryon-controls" },
          this.field("tryon.product", this.product),
          this.field("tryon.garment", this.garment),
          this.field("tryon.size", this.size),
          this.field("tryon.back", this.back),
          presets,
          el("div", { class: "actions" }, this.turn, this.save),
          this.hint,
          this.status,
          this.adapter,
        ),
        this.stage,
      ),
    );
    this.product.addEventListener("change", () => {
      this.chosenGarment = null;
      void this.loadProduct(Number(this.product.value));
    });
    this.garment.addEventListener("change", () => {
      this.chosenGarment = this.garment.value;
      void this.prepare();
    });
    this.size.addEventListener("change", () => void this.prepare());
    this.back.addEventListener("change", () => void this.prepare());
    this.turn.addEventListener("click", () => this.setTurning(!this.turning));
    this.save.addEventListener("click", () => void this.savePng());
    this.bindPointer();
    this.canvas.addEventListener("keydown", (ev) => {
      const next = keyed(this.orbit, ev.key);
      if (!next) return;
      ev.preventDefault();
      this.moveTo(next);
    });
    this.relabel();
  }

  private field(label: Key, control: HTMLSelectElement): HTMLElement {
    return el("div", { class: "field" }, setText(el("label", { attrs: { for: control.id } }), label), control);
  }

  private fillSelects(): void {
    const g = this.garment.value;
    replaceChildren(this.garment, ...GARMENTS.map((k) => el("option", { attrs: { value: k } }, t(`tryon.garment.${k}`))));
    if (g) this.garment.value = g;
    if (this.size.options.length === 0) {
      replaceChildren(this.size, ...SIZES.map((s) => el("option", { attrs: { value: s } }, s)));
      this.size.value = "M";
    }
    this.fillBack();
  }

  private fillBack(): void {
    const b = this.back.value;
    const others = (this.detail?.photos ?? []).slice(1);
    replaceChildren(
      this.back,
      el("option", { attrs: { value: "" } }, t("tryon.backNone")),
      ...others.map((p) => el("option", { attrs: { value: String(p.id) } }, p.source_name)),
    );
    if (others.some((p) => String(p.id) === b)) this.back.value = b;
  }

  relabel(): void {
    this.fillSelects();
    setText(this.turn, this.turning ? "tryon.stop" : "tryon.turn");
    const name = this.detail?.name || t("library.theProduct");
    setAttrText(this.canvas, "aria-label", "tryon.canvas", { name });
    this.showInfo();
    this.showFps();
  }

  private showInfo(): void {
    const info = this.info;
    if (!info) {
      setText(this.hint, null);
      setText(this.adapter, null);
      return;
    }
    if (info.category && this.chosenGarment === null) setText(this.hint, "tryon.fromCategory", { category: info.category });
    else setText(this.hint, "tryon.help");
    setText(this.adapter, info.software ? "tryon.adapterSoftware" : "tryon.adapter", { adapter: info.adapter });
  }

  private showFps(): void {
    const fps = fpsOf(this.shown);
    this.canvas.dataset.frames = String(this.shown.length);
    // Medians of the recent frames, for measuring where a frame's time goes.
    const m = (k: "wait" | "ipc" | "draw") => median(this.timings.map((x) => x[k]))?.toFixed(1) ?? "";
    this.canvas.dataset.timing = `wait ${m("wait")} ms, ipc+render ${m("ipc")} ms, draw ${m("draw")} ms`;
    if (fps === null) {
      delete this.canvas.dataset.fps;
      this.fps.textContent = "";
      return;
    }
    this.canvas.dataset.fps = fps.toFixed(1);
    this.fps.textContent = t("tryon.fps", { fps: fps.toFixed(0) });
  }

  /** Called each time the screen is shown. */
  async refresh(): Promise<void> {
    try {
      this.products = withPhotos(await this.backend.listProducts());
      this.empty.hidden = this.products.length > 0;
      this.stage.hidden = this.products.length === 0;
      const current = Number(this.product.value) || null;
      replaceChildren(
        this.product,
        ...this.products.map((p) => el("option", { attrs: { value: String(p.id) } }, p.name || t("product.untitled", { id: p.id }))),
      );
      if (this.products.length === 0) return;
      const wanted = this.libraryProduct() ?? current ?? this.products[0]?.id ?? null;
      const pick = this.products.find((p) => p.id === wanted) ?? this.products[0];
      if (!pick) return;
      this.product.value = String(pick.id);
      if (pick.id !== this.detail?.id) {
        this.chosenGarment = null;
        await this.loadProduct(pick.id);
      } else {
        this.request();
      }
    } catch (err) {
      this.onError(err);
    }
  }

  private async loadProduct(id: number): Promise<void> {
    try {
      this.detail = await this.backend.getProduct(id);
      this.back.value = "";
      this.fillBack();
      this.relabel();
      await this.prepare();
    } catch (err) {
      this.onError(err);
    }
  }

  private async prepare(): Promise<void> {
    const product = this.detail;
    if (!product) return;
    const ticket = ++this.preparing;
    this.info = null;
    this.view.dataset.ready = "false";
    this.setBusy(true);
    setText(this.status, "tryon.preparing");
    try {
      const back = this.back.value ? Number(this.back.value) : null;
      const info = await this.backend.tryonPrepare(product.id, null, back, this.chosenGarment, this.size.value);
      if (ticket !== this.preparing) return;
      this.info = info;
      this.garment.value = info.garment;
      this.view.dataset.garment = info.garment;
      setText(this.status, null);
      this.showInfo();
      this.shown = [];
      this.view.dataset.ready = "true";
      this.request();
    } catch (err) {
      if (ticket === this.preparing) {
        setText(this.status, "tryon.failed");
        this.onError(err);
      }
    } finally {
      if (ticket === this.preparing) this.setBusy(false);
    }
  }

  private setBusy(busy: boolean): void {
    for (const c of [this.product, this.garment, this.size, this.back]) c.disabled = busy;
    this.save.disabled = busy;
  }

  private setOrbit(o: Orbit): void {
    this.orbit = normalise(o);
    this.request();
  }

  /** The user moved the view: frames are drawn as moving ones until it settles. */
  private moveTo(o: Orbit): void {
    this.lastInput = performance.now();
    this.setOrbit(o);
  }

  private isMoving(now: number): boolean {
    return movingAt(this.turning, now, this.lastInput);
  }

  /** Once the view has been still for SETTLE_MS, replace the moving frame by a final one. */
  private settleLater(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      if (!this.roughShown || this.inFlight || this.dirty) return;
      if (this.isMoving(performance.now())) this.settleLater();
      else this.request();
    }, SETTLE_MS);
  }

  private setTurning(on: boolean): void {
    this.turning = on;
    this.turn.setAttribute("aria-pressed", String(on));
    setText(this.turn, on ? "tryon.stop" : "tryon.turn");
    if (on) this.request();
  }

  /** Ask for a frame of the current orbit; coalesced to one per animation frame. */
  private request(): void {
    this.dirty = true;
    if (this.rafPending) return;
    this.requestedAt = performance.now();
    this.rafPending = true;
    requestAnimationFrame(() => {
      this.rafPending = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.inFlight || !this.dirty || !this.info || this.view.hidden) return;
    this.dirty = false;
    this.inFlight = true;
    const o = this.orbit;
    try {
      const t0 = performance.now();
      const moving = this.isMoving(t0);
      const bytes = await this.backend.tryonFrame(o.azimuth, o.elevation, o.zoom, FRAME_PX, moving);
      const t1 = performance.now();
      const frame = parseFrame(bytes, FRAME_PX);
      const ctx = this.canvas.getContext("2d");
      if (ctx) {
        ctx.fillStyle = BACKGROUND;
        ctx.fillRect(0, 0, FRAME_PX, FRAME_PX);
        ctx.putImageData(frame.image, frame.x, frame.y);
      }
      const t2 = performance.now();
      this.shown.push(t2);
      this.timings.push({ wait: t0 - this.requestedAt, ipc: t1 - t0, draw: t2 - t1 });
      if (this.shown.length > 120) this.shown.splice(0, this.shown.length - 120);
      if (this.timings.length > 60) this.timings.splice(0, this.timings.length - 60);
      this.canvas.dataset.azimuth = o.azimuth.toFixed(1);
      this.canvas.dataset.quality = moving ? "moving" : "final";
      this.roughShown = moving;
      this.showFps();
    } catch (err) {
      this.setTurning(false);
      this.onError(err);
      return;
    } finally {
      this.inFlight = false;
    }
    if (this.turning) {
      this.orbit = normalise({ ...this.orbit, azimuth: this.orbit.azimuth + 4 });
      this.dirty = true;
    }
    // The next frame leaves on the next animation frame, not at once: the
    // page gets to paint this one and to handle input in between (asked
    // back to back, WebKit's main thread once stayed busy long enough for
    // WebDriver to call the page hung), and whatever moved meanwhile is
    // folded into the one orbit that frame draws.
    if (this.dirty) this.request();
    else if (this.roughShown) this.settleLater();
  }

  private bindPointer(): void {
    const c = this.canvas;
    c.addEventListener("pointerdown", (ev) => {
      c.setPointerCapture(ev.pointerId);
      this.pointers.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
      c.focus();
    });
    c.addEventListener("pointermove", (ev) => {
      const last = this.pointers.get(ev.pointerId);
      if (!last) return;
      const others = [...this.pointers.entries()].filter(([id]) => id !== ev.pointerId);
      const other = others[0]?.[1];
      if (other) {
        // Pinch: the change in distance between two fingers zooms.
        const before = Math.hypot(last.x - other.x, last.y - other.y);
        const after = Math.hypot(ev.clientX - other.x, ev.clientY - other.y);
        if (before > 0 && after > 0) this.moveTo(zoomed(this.orbit, after / before));
      } else {
        this.moveTo(dragged(this.orbit, ev.clientX - last.x, ev.clientY - last.y));
      }
      this.pointers.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
    });
    const up = (ev: PointerEvent) => this.pointers.delete(ev.pointerId);
    c.addEventListener("pointerup", up);
    c.addEventListener("pointercancel", up);
    c.addEventListener(
      "wheel",
      (ev) => {
        ev.preventDefault();
        this.moveTo(zoomed(this.orbit, Math.exp(-ev.deltaY * 0.0015)));
      },
      { passive: false },
    );
  }

  private async savePng(): Promise<void> {
    if (!this.info) return;
    const o = this.orbit;
    this.save.disabled = true;
    try {
      const path = await this.backend.tryonSavePng(o.azimuth, o.elevation, o.zoom);
      setText(this.status, "tryon.saved", { path });
      this.status.dataset.path = path;
    } catch (err) {
      this.onError(err);
    } finally {
      this.save.disabled = false;
    }
  }
}

/** The products a try-on can show: those with a photo (catalogue rows
 * imported without one cannot be drawn, and offering them only leads to an
 * error). */
export function withPhotos(products: ProductSummary[]): ProductSummary[] {
  return products.filter((p) => p.photo_count > 0);
}
