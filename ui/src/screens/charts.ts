// Charts of a review summary, drawn by us as SVG from the analysis' data:
// a bar per star rating and, per aspect, a bar split into the share of
// positive and negative mentions. Geometry is computed by pure functions
// (tested); the SVG is built with createElementNS and textContent only.

import type { AspectStats, RatingStats } from "../types";

const SVG = "http://www.w3.org/2000/svg";

export interface Bar {
  label: string;
  value: number;
  /** Width in the chart's units, 0..=width. */
  width: number;
}

/** One bar per star, 5★ first, scaled to the largest count. */
export function ratingBars(stats: RatingStats, width: number): Bar[] {
  const max = Math.max(1, ...stats.counts);
  const bars: Bar[] = [];
  for (let star = 5; star >= 1; star--) {
    const value = stats.counts[star - 1] ?? 0;
    bars.push({ label: `${star}★`, value, width: (value / max) * width });
  }
  return bars;
}

export interface AspectBar {
  id: string;
  label: string;
  mentions: number;
  /** Widths of the positive, neutral and negative parts, summing to the bar's width. */
  positive: number;
  neutral: number;
  negative: number;
}

/** Aspects with mentions, most mentioned first (at most `limit`); a bar's length is its share of the most mentioned one. */
export function aspectBars(aspects: readonly AspectStats[], zh: boolean, width: number, limit = 8): AspectBar[] {
  const mentioned = aspects.filter((a) => a.mentions > 0).sort((a, b) => b.mentions - a.mentions || a.id.localeCompare(b.id));
  const shown = mentioned.slice(0, limit);
  const max = Math.max(1, ...shown.map((a) => a.mentions));
  return shown.map((a) => {
    const total = (a.mentions / max) * width;
    const pos = a.mentions > 0 ? (a.positive / a.mentions) * total : 0;
    const neg = a.mentions > 0 ? (a.negative / a.mentions) * total : 0;
    return {
      id: a.id,
      label: zh ? a.zh || a.en : a.en || a.zh,
      mentions: a.mentions,
      positive: pos,
      negative: neg,
      neutral: Math.max(0, total - pos - neg),
    };
  });
}

function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function text(x: number, y: number, value: string, cls: string, anchor = "start"): SVGTextElement {
  const node = svgEl("text", { x, y, class: cls, "text-anchor": anchor });
  node.textContent = value;
  return node;
}

const ROW = 26;
const LABEL_W = 120;
const BAR_W = 300;
const VALUE_W = 56;

/** The rating distribution; `title` is the chart's accessible name. */
export function ratingChart(stats: RatingStats, title: string): SVGSVGElement {
  const bars = ratingBars(stats, BAR_W);
  const height = bars.length * ROW + 4;
  const svg = svgEl("svg", { viewBox: `0 0 ${LABEL_W / 2 + BAR_W + VALUE_W} ${height}`, role: "img", class: "chart rating-chart" });
  svg.dataset.testid = "rating-chart";
  const t = svgEl("title", {});
  t.textContent = title;
  svg.appendChild(t);
  bars.forEach((b, i) => {
    const y = i * ROW + 2;
    svg.appendChild(text(0, y + 17, b.label, "chart-label"));
    const rect = svgEl("rect", { x: LABEL_W / 2, y: y + 4, width: b.width.toFixed(1), height: ROW - 8, rx: 3, class: "bar bar-rating" });
    rect.dataset.testid = "rating-bar";
    rect.dataset.value = String(b.value);
    svg.appendChild(rect);
    svg.appendChild(text(LABEL_W / 2 + b.width + 6, y + 17, String(b.value), "chart-value"));
  });
  return svg;
}

/** Aspect bars: positive, neutral and negative mentions side by side. */
export function aspectChart(aspects: readonly AspectStats[], zh: boolean, title: string): SVGSVGElement {
  const bars = aspectBars(aspects, zh, BAR_W);
  const height = Math.max(1, bars.length) * ROW + 4;
  const svg = svgEl("svg", { viewBox: `0 0 ${LABEL_W + BAR_W + VALUE_W} ${height}`, role: "img", class: "chart aspect-chart" });
  svg.dataset.testid = "aspect-chart";
  const t = svgEl("title", {});
  t.textContent = title;
  svg.appendChild(t);
  bars.forEach((b, i) => {
    const y = i * ROW + 2;
    svg.appendChild(text(0, y + 17, b.label, "chart-label"));
    let x = LABEL_W;
    for (const [part, w] of [
      ["positive", b.positive],
      ["neutral", b.neutral],
      ["negative", b.negative],
    ] as const) {
      if (w > 0) {
        const rect = svgEl("rect", { x: x.toFixed(1), y: y + 4, width: w.toFixed(1), height: ROW - 8, class: `bar bar-${part}` });
        rect.dataset.testid = `aspect-bar-${part}`;
        svg.appendChild(rect);
      }
      x += w;
    }
    svg.appendChild(text(x + 6, y + 17, String(b.mentions), "chart-value"));
  });
  return svg;
}
