/**
 * The float64 TypeScript Gram backend: the oracle every other backend is tested against (docs/design.md §6).
 * K[i][j] += Σ_c B[i][c]·B[j][c] for i ≤ j, every product and sum in float64.
 */
import { checkAccumulateArgs, type GramBackend, type GramBlock } from './gramBackend.js';

/** Values (float64) one column panel may hold: 2^18 × 8 B = 2 MiB, about what L2/L3 keeps hot. */
const PANEL_VALUES = 1 << 18;
const PANEL_MAX_COLS = 512;
const PANEL_MIN_COLS = 8;

function dot(p: Float64Array, a: number, b: number, w: number): number {
  let s = 0;
  for (let c = 0; c < w; c++) s += p[a + c] * p[b + c];
  return s;
}

/**
 * Adds B Bᵀ into the upper triangle of k. `panel` is scratch of at least size·min(cols, panel width) values.
 *
 * Loop order, and why:
 * - Columns outermost, in panels of w ≤ 512 columns copied into a float64 scratch (size×w, ≤ 2 MiB): the copy
 *   turns a float32 or float64 block into one monomorphic Float64Array (V8 then compiles a single fast path)
 *   and gives rows of stride w, so one panel stays in L2/L3 while every (i, j) pair of rows reads it.
 * - Then a strip of 4 rows i..i+3 (4·w·8 B ≤ 16 KiB, held in L1) against each later pair of rows j, j+1
 *   streamed contiguously: a 4×2 register block computes 8 dot products from 6 loads per column, instead of
 *   2 loads per product. Only j ≥ i is visited: symmetry halves the work (N(N+1)/2 dot products).
 * - k receives one add per entry per panel, i.e. 1/w of the inner-loop traffic.
 */
export function accumulateGramReference(
  k: Float64Array,
  size: number,
  block: GramBlock,
  cols: number,
  panel?: Float64Array,
): void {
  checkAccumulateArgs(k, size, block, cols);
  if (cols === 0) return;
  const width = panelCols(size, cols);
  const p = panel && panel.length >= size * width ? panel : new Float64Array(size * width);
  for (let c0 = 0; c0 < cols; c0 += width) {
    const w = Math.min(width, cols - c0);
    for (let r = 0; r < size; r++) {
      const src = r * cols + c0;
      const dst = r * w;
      for (let c = 0; c < w; c++) p[dst + c] = block[src + c];
    }
    addPanel(k, size, p, w);
  }
}

/** Columns per panel for a Gram of this size (exported so a backend can size its scratch once). */
export function panelCols(size: number, cols: number): number {
  const fit = Math.floor(PANEL_VALUES / size);
  return Math.max(1, Math.min(cols, Math.max(PANEL_MIN_COLS, Math.min(PANEL_MAX_COLS, fit))));
}

function addPanel(k: Float64Array, size: number, p: Float64Array, w: number): void {
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    const a0 = i * w;
    const a1 = a0 + w;
    const a2 = a1 + w;
    const a3 = a2 + w;
    // The 4×4 diagonal block: only its upper triangle.
    for (let q = 0; q < 4; q++) {
      const row = (i + q) * size;
      for (let j = i + q; j < i + 4; j++) k[row + j] += dot(p, (i + q) * w, j * w, w);
    }
    let j = i + 4;
    for (; j + 2 <= size; j += 2) {
      const b0 = j * w;
      const b1 = b0 + w;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let c = 0; c < w; c++) {
        const y0 = p[b0 + c];
        const y1 = p[b1 + c];
        const x0 = p[a0 + c];
        s00 += x0 * y0;
        s01 += x0 * y1;
        const x1 = p[a1 + c];
        s10 += x1 * y0;
        s11 += x1 * y1;
        const x2 = p[a2 + c];
        s20 += x2 * y0;
        s21 += x2 * y1;
        const x3 = p[a3 + c];
        s30 += x3 * y0;
        s31 += x3 * y1;
      }
      const r0 = i * size + j;
      k[r0] += s00;
      k[r0 + 1] += s01;
      k[r0 + size] += s10;
      k[r0 + size + 1] += s11;
      k[r0 + 2 * size] += s20;
      k[r0 + 2 * size + 1] += s21;
      k[r0 + 3 * size] += s30;
      k[r0 + 3 * size + 1] += s31;
    }
    if (j < size) {
      const b0 = j * w;
      for (let q = 0; q < 4; q++) k[(i + q) * size + j] += dot(p, (i + q) * w, b0, w);
    }
  }
  // The last size mod 4 rows.
  for (; i < size; i++) {
    for (let j = i; j < size; j++) k[i * size + j] += dot(p, i * w, j * w, w);
  }
}

export class ReferenceGramBackend implements GramBackend {
  readonly name = 'reference';
  private panel = new Float64Array(0);

  /** @param fallbackReason why 'auto' chose this backend over gpu.js, when it did. */
  constructor(readonly fallbackReason?: string) {}

  async accumulate(k: Float64Array, size: number, block: GramBlock, cols: number): Promise<void> {
    checkAccumulateArgs(k, size, block, cols);
    if (cols === 0) return;
    const need = size * panelCols(size, cols);
    if (this.panel.length < need) this.panel = new Float64Array(need);
    accumulateGramReference(k, size, block, cols, this.panel);
  }

  dispose(): void {
    this.panel = new Float64Array(0);
  }
}
