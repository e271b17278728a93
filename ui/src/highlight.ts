// The checks panel's highlighting: a finding names a field (`title`,
// `bullets[2]`, `segments[3].hook`…) and, when the problem is a piece of
// it, a span in characters (Unicode scalar values, as Rust counts them).
// This splits a field's text into plain and flagged pieces; the page then
// writes each piece as text inside a <mark> or not, never as markup.

import type { Finding } from "./types";

export interface Piece {
  text: string;
  /** The findings that flag this piece (empty for plain text). */
  findings: Finding[];
}

/** Split `text` at the spans of the findings for `field`. Overlapping spans are merged into the pieces they cover. */
export function highlightPieces(text: string, field: string, findings: readonly Finding[]): Piece[] {
  const chars = Array.from(text);
  const mine = findings.filter((f) => f.field === field && f.span && f.span[1] > f.span[0]);
  if (mine.length === 0) return [{ text, findings: [] }];
  const bounds = new Set<number>([0, chars.length]);
  for (const f of mine) {
    const [s, e] = f.span as [number, number];
    bounds.add(Math.max(0, Math.min(s, chars.length)));
    bounds.add(Math.max(0, Math.min(e, chars.length)));
  }
  const cuts = [...bounds].sort((a, b) => a - b);
  const pieces: Piece[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const a = cuts[i] as number;
    const b = cuts[i + 1] as number;
    if (b <= a) continue;
    const covering = mine.filter((f) => (f.span as [number, number])[0] <= a && (f.span as [number, number])[1] >= b);
    const last = pieces[pieces.length - 1];
    const piece = chars.slice(a, b).join("");
    if (last && last.findings.length === 0 && covering.length === 0) last.text += piece;
    else pieces.push({ text: piece, findings: covering });
  }
  return pieces;
}

/** Findings about a field as a whole (no span), or whose field this text has no span for. */
export function fieldFindings(field: string, findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.field === field);
}
