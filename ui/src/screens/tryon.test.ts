import { describe, expect, it } from "vitest";
import { dragged, fpsOf, frameImage, keyed, normalise, PRESETS, zoomed } from "./tryon";
import { t } from "../i18n";

describe("try-on orbit", () => {
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

  it("takes a frame of exactly px × px × 4 bytes and refuses any other", () => {
    const img = frameImage(new Uint8Array(4 * 4 * 4).fill(200).buffer, 4);
    expect(img.width).toBe(4);
    expect(img.data[0]).toBe(200);
    expect(() => frameImage(new ArrayBuffer(10), 4)).toThrow(/64 bytes, not 10/);
  });

  it("labels every garment and view in both languages", () => {
    for (const k of ["tshirt", "hoodie", "polo", "dress"] as const) {
      expect(t(`tryon.garment.${k}`, undefined, "en")).not.toBe(t(`tryon.garment.${k}`, undefined, "zh-CN"));
    }
    expect(t("tryon.view.34", undefined, "zh-CN")).toBe("四分之三侧面");
  });
});
