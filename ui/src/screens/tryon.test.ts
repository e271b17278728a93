import { describe, expect, it } from "vitest";
import { dragged, fpsOf, keyed, median, movingAt, normalise, parseFrame, PRESETS, SETTLE_MS, withPhotos, zoomed } from "./tryon";
import { t } from "../i18n";

describe("try-on orbit", () => {
  it("offers only products with a photo", () => {
    const p = (id: number, photo_count: number) => ({ id, name: `p${id}`, created_at: "", photo_count, draft_count: 0, thumbnail_path: null });
    expect(withPhotos([p(1, 0), p(2, 1), p(3, 2)]).map((x) => x.id)).toEqual([2, 3]);
  });

  it("keeps the orbit in range", () => {
    expect(normalise({ azimuth: -30, elevation: 90, zoom: 10 })).toEqual({ azimuth: 330, elevation: 60, zoom: 4 });
    expect(normalise({ azimuth: 725, elevation: -45, zoom: 0.1 })).toEqual({ azimuth: 5, elevation: -20, zoom: 0.5 });
  });

  it("turns with a drag: right drags the figure round to the right", () => {
    const o = dragged(PRESETS.front, 20, -10);
    expect(o.azimuth).toBe(350);
    expect(o.elevation).toBeCloseTo(5);
    expect(o.zoom).toBe(1);
  });

  it("answers the keys a keyboard user needs and ignores the rest", () => {
    expect(keyed(PRESETS.front, "ArrowLeft")?.azimuth).toBe(10);
    expect(keyed(PRESETS.front, "ArrowRight")?.azimuth).toBe(350);
    expect(keyed(PRESETS.front, "ArrowUp")?.elevation).toBe(13);
    expect(keyed(PRESETS.front, "+")?.zoom).toBeCloseTo(1.25);
    expect(keyed(PRESETS.back, "Home")).toEqual(PRESETS.front);
    expect(keyed(PRESETS.front, "a")).toBeNull();
    expect(zoomed(PRESETS.front, 100).zoom).toBe(4);
  });
});

describe("try-on frames", () => {
  it("measures frames per second over the recent frames", () => {
    expect(fpsOf([])).toBeNull();
    expect(fpsOf([5])).toBeNull();
    expect(fpsOf([0, 25, 50, 75, 100])).toBeCloseTo(40);
    // A pause long ago does not count: only the last two seconds do.
    expect(fpsOf([0, 10_000, 10_050, 10_100])).toBeCloseTo(20);
  });

  it("reads the figure's box and its pixels, and refuses what does not fit the frame", () => {
    const frame = (x: number, y: number, w: number, h: number, pixels = w * h * 4) => {
      const b = new ArrayBuffer(16 + pixels);
      const v = new DataView(b);
      [x, y, w, h].forEach((n, i) => v.setUint32(i * 4, n, true));
      new Uint8Array(b, 16).fill(200);
      return b;
    };
    const f = parseFrame(frame(1, 2, 3, 2), 8);
    expect([f.x, f.y, f.image.width, f.image.height]).toEqual([1, 2, 3, 2]);
    expect(f.image.data[0]).toBe(200);
    expect(() => parseFrame(new ArrayBuffer(10), 8)).toThrow(/16-byte header/);
    expect(() => parseFrame(frame(6, 0, 3, 2), 8)).toThrow(/does not fit/);
    expect(() => parseFrame(frame(0, 0, 3, 2, 5), 8)).toThrow(/24 bytes, not 5/);
  });

  it("draws moving frames while turning or just after input, final ones once still", () => {
    expect(movingAt(true, 10_000, -Infinity)).toBe(true);
    expect(movingAt(false, 1_000, 1_000 - SETTLE_MS / 2)).toBe(true);
    expect(movingAt(false, 1_000, 1_000 - SETTLE_MS)).toBe(false);
    expect(movingAt(false, 1_000, -Infinity)).toBe(false);
  });

  it("takes the median of timings", () => {
    expect(median([])).toBeNull();
    expect(median([30, 10, 20])).toBe(20);
  });

  it("labels every garment and view in both languages", () => {
    for (const k of ["tshirt", "hoodie", "polo", "dress"] as const) {
      expect(t(`tryon.garment.${k}`, undefined, "en")).not.toBe(t(`tryon.garment.${k}`, undefined, "zh-CN"));
    }
    expect(t("tryon.view.34", undefined, "zh-CN")).toBe("四分之三侧面");
  });
});
