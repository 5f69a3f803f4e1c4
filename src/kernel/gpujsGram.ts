/**
 * Gram accumulation through gpu.js (docs/design.md §6). gpu.js computes in float32: each kernel call forms the
 * float32 partial sums of B Bᵀ over at most `maxBlockCols` columns, and those are added into the float64 K
 * here, so float32 rounding is bounded per call and never compounds across blocks (docs/science.md A0).
 *
 * Kernel shape, chosen for gpu.js' webasm backend (the one that runs on CPU-only hosts):
 * - One thread = one 4×1 tile: rows r..r+3 against row j, returned as Array(4). webasm runs 4 adjacent
 *   threads (thread.x) as one f32x4 SIMD quad; the 4 row values b[r+q][c] are uniform across the quad
 *   (one scalar load + splat each), the b[j][c] of the 4 lanes is one gather feeding all 4 accumulators,
 *   so every column costs 8 loads for 16 multiply-adds (a 1×1 kernel costs 5 loads for 4).
 * - The inner loop runs along a contiguous row of B (row-major staging), so each lane streams memory.
 * - Only tiles that touch the upper triangle are computed: thread.y indexes a list of (row group, column
 *   tile) pairs, so the N(N+1)/2 useful entries cost ~N²/2 work and every thread has equal work, which keeps
 *   gpu.js' contiguous split across its worker pool balanced.
 * - Under mode 'async' a kernel with ≥ 4096 threads runs on gpu.js' worker pool (threads + SIMD), and the
 *   event loop stays free while it does; smaller ones are cheap enough to run inline.
 * - Compiled kernels are cached per (size, staged width); widths are powers of two, so a stream of blocks of
 *   varying width compiles at most a handful of kernels per size.
 * What limits it (measured with gpu.js 2.24.1): webasm keeps `let` counters and indices in float32 and
 * converts them to int32 at every array access, so one worker runs at about the float64 reference's speed
 * (~1 GMAC/s on this host); the gain is its worker pool, so it pays off with free cores (bench/gram.bench.ts).
 */
import { Code, SidecarError } from '../errors.js';
import { GPU, Kernel, type IKernelRunShortcut, type KernelOutput } from 'gpu.js';
import { checkAccumulateArgs, type GramBackend, type GramBackendOptions, type GramBlock } from './gramBackend.js';

/** Source text rather than a function: gpu.js parses it, and no bundler or coverage tool can rewrite it. */
const TILE_KERNEL = `function gramTile(b, tiles, w) {
  const r = tiles[this.thread.y * 2];
  const j = tiles[this.thread.y * 2 + 1] + this.thread.x;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let c = 0; c < w; c++) {
    const v = b[j][c];
    s0 += b[r][c] * v;
    s1 += b[r + 1][c] * v;
    s2 += b[r + 2][c] * v;
    s3 += b[r + 3][c] * v;
  }
  return [s0, s1, s2, s3];
}`;

/** Widest column tile: 64 threads = 16 SIMD quads per row group. */
const MAX_TILE = 64;
/**
 * Values of the staged block: row and column indices are exact in float32 below 2^24, and 2^24 values
 * (64 MiB) plus the output stay well inside webasm's 256 MiB memory.
 */
const MAX_STAGE_VALUES = 1 << 24;
/** Output values per call (16 MiB of float32); bigger Grams run their tiles in several calls. */
const DEFAULT_MAX_OUT_VALUES = 1 << 22;
const MIN_STAGE_COLS = 8;
const DEFAULT_MAX_BLOCK_COLS = 1024;
/** Compiled kernels kept per backend; each holds a wasm memory, so the cache is bounded. */
const MAX_SHAPES = 12;

interface TilePlan {
  size: number;
  /** Column tile width (threads per row group per tile), a multiple of 4. */
  tile: number;
  /** Staged rows: size rounded up to a multiple of `tile`; rows ≥ size stay zero. */
  rows: number;
  /** (first row, first column) per tile, in call order. */
  tiles: Int32Array;
  tileCount: number;
  tilesPerCall: number;
  /** The tile list cut into calls, each padded to tilesPerCall with a repeat of a valid tile (ignored). */
  batches: Float32Array[];
}

interface Shape {
  plan: TilePlan;
  width: number;
  kernel: IKernelRunShortcut;
  stage: Float32Array;
  /** Row views of `stage`: gpu.js reads a 2-D argument row by row, and indexes it in int32 arithmetic. */
  stageRows: Float32Array[];
}

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

function nextPow2(x: number): number {
  return 2 ** Math.ceil(Math.log2(x));
}

function planTiles(size: number, maxOutValues: number): TilePlan {
  const colTiles = Math.ceil(size / MAX_TILE);
  const tile = roundUp(Math.ceil(size / colTiles), 4);
  const rows = roundUp(size, tile);
  const pairs: number[] = [];
  for (let r = 0; r < size; r += 4) {
    for (let j0 = 0; j0 < size; j0 += tile) {
      if (j0 + tile - 1 >= r) pairs.push(r, j0);
    }
  }
  const tiles = Int32Array.from(pairs);
  const tileCount = tiles.length / 2;
  const tilesPerCall = Math.min(tileCount, Math.max(1, Math.floor(maxOutValues / (4 * tile))));
  const batches: Float32Array[] = [];
  for (let t0 = 0; t0 < tileCount; t0 += tilesPerCall) {
    const batch = new Float32Array(2 * tilesPerCall);
    for (let t = 0; t < tilesPerCall; t++) {
      const src = Math.min(t0 + t, tileCount - 1);
      batch[2 * t] = tiles[2 * src];
      batch[2 * t + 1] = tiles[2 * src + 1];
    }
    batches.push(batch);
  }
  return { size, tile, rows, tiles, tileCount, tilesPerCall, batches };
}

/** Reads a tilesPerCall×tile Array(4) result into one flat float32 array (cell-major, 4 values per cell). */
function flattenOutput(result: KernelOutput, tilesPerCall: number, tile: number): Float32Array {
  const cells = tilesPerCall * tile;
  const grid = result as unknown as ArrayLike<ArrayLike<ArrayLike<number>>>;
  const first = grid[0]?.[0];
  const last = grid[tilesPerCall - 1]?.[tile - 1];
  // webasm hands back subarray views of one packed buffer: read it directly.
  if (
    first instanceof Float32Array &&
    last instanceof Float32Array &&
    first.buffer === last.buffer &&
    first.byteOffset === 0 &&
    last.byteOffset === (cells - 1) * 16 &&
    first.buffer.byteLength >= cells * 16
  ) {
    return new Float32Array(first.buffer, 0, cells * 4);
  }
  const out = new Float32Array(cells * 4);
  for (let y = 0; y < tilesPerCall; y++) {
    const row = grid[y];
    for (let x = 0; x < tile; x++) {
      const cell = row[x];
      const o = (y * tile + x) * 4;
      out[o] = cell[0];
      out[o + 1] = cell[1];
      out[o + 2] = cell[2];
      out[o + 3] = cell[3];
    }
  }
  return out;
}

export class GpujsGramBackend implements GramBackend {
  private readonly gpu: GPU;
  private readonly maxBlockCols: number;
  private readonly maxOutValues: number;
  private readonly poolSize: number | undefined;
  private readonly plans = new Map<number, TilePlan>();
  private readonly shapes = new Map<string, Shape>();
  private mode: string | null = null;
  private degraded: string | null = null;
  private tail: Promise<void> = Promise.resolve();
  private disposed = false;

  constructor(opts: GramBackendOptions = {}) {
    const maxBlockCols = opts.maxBlockCols ?? DEFAULT_MAX_BLOCK_COLS;
    if (!Number.isInteger(maxBlockCols) || maxBlockCols < 1) {
      throw new SidecarError(Code.INVALID_ARGUMENT, `maxBlockCols must be a positive integer, got ${maxBlockCols}`);
    }
    this.maxBlockCols = maxBlockCols;
    const maxOutValues = opts.maxOutputValues ?? DEFAULT_MAX_OUT_VALUES;
    if (!Number.isInteger(maxOutValues) || maxOutValues < 1) {
      throw new SidecarError(Code.INVALID_ARGUMENT, `maxOutputValues must be a positive integer, got ${maxOutValues}`);
    }
    this.maxOutValues = maxOutValues;
    this.poolSize = opts.poolSize;
    this.gpu = new GPU({ mode: opts.gpuMode ?? 'async' });
  }

  /** 'gpujs-' + the gpu.js backend of the last kernel that ran ('webasm', 'webgpu', 'headlessgl', 'cpu'). */
  get name(): string {
    return this.mode === null ? 'gpujs' : `gpujs-${this.mode}`;
  }

  /** gpu.js' own reason for degrading a kernel to its cpu backend, if it did (kernel.fallbackReason). */
  get degradedReason(): string | null {
    return this.degraded;
  }

  async accumulate(k: Float64Array, size: number, block: GramBlock, cols: number): Promise<void> {
    checkAccumulateArgs(k, size, block, cols);
    if (this.disposed) throw new SidecarError(Code.FAILED_PRECONDITION, 'gpujs Gram backend used after dispose()');
    // One call at a time: calls share staging buffers and gpu.js kernels.
    const run = this.tail.then(() => this.run(k, size, block, cols));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async run(k: Float64Array, size: number, block: GramBlock, cols: number): Promise<void> {
    if (cols === 0) return;
    const plan = this.planFor(size);
    const maxWidth = Math.min(this.maxBlockCols, 2 ** Math.floor(Math.log2(MAX_STAGE_VALUES / plan.rows)));
    for (let c0 = 0; c0 < cols; c0 += maxWidth) {
      const w = Math.min(maxWidth, cols - c0);
      const shape = this.shapeFor(plan, Math.min(maxWidth, nextPow2(Math.max(w, MIN_STAGE_COLS))));
      const { stage, width } = shape;
      for (let r = 0; r < size; r++) {
        stage.set(block.subarray(r * cols + c0, r * cols + c0 + w), r * width);
      }
      for (let b = 0; b < plan.batches.length; b++) {
        const result = await shape.kernel(shape.stageRows, plan.batches[b], w);
        this.noteBackend(shape.kernel);
        addTiles(k, plan, b, flattenOutput(result as KernelOutput, plan.tilesPerCall, plan.tile));
      }
    }
  }

  private noteBackend(kernel: IKernelRunShortcut): void {
    const ran = kernel.kernel;
    this.mode = (ran.constructor as typeof Kernel).mode;
    if (ran.fallbackReason) this.degraded = ran.fallbackReason;
  }

  private planFor(size: number): TilePlan {
    let plan = this.plans.get(size);
    if (!plan) {
      plan = planTiles(size, this.maxOutValues);
      this.plans.set(size, plan);
    }
    return plan;
  }

  private shapeFor(plan: TilePlan, width: number): Shape {
    const key = `${plan.size}x${width}`;
    const hit = this.shapes.get(key);
    if (hit) {
      // Map order is the LRU order.
      this.shapes.delete(key);
      this.shapes.set(key, hit);
      return hit;
    }
    const kernel = this.gpu.createKernel(TILE_KERNEL, {
      output: [plan.tile, plan.tilesPerCall],
      argumentTypes: { b: 'Array', tiles: 'Array', w: 'Integer' },
      precision: 'single',
      ...(this.poolSize !== undefined ? { poolSize: this.poolSize } : {}),
    });
    // The column loop is bounded by the argument w ≤ width; gpu.js caps loops at loopMaxIterations.
    kernel.setLoopMaxIterations(width);
    const stage = new Float32Array(plan.rows * width);
    const stageRows: Float32Array[] = [];
    for (let r = 0; r < plan.rows; r++) stageRows.push(stage.subarray(r * width, (r + 1) * width));
    const shape: Shape = { plan, width, kernel, stage, stageRows };
    this.shapes.set(key, shape);
    while (this.shapes.size > MAX_SHAPES) {
      const [oldKey, old] = this.shapes.entries().next().value as [string, Shape];
      this.shapes.delete(oldKey);
      old.kernel.destroy();
    }
    return shape;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const shape of this.shapes.values()) shape.kernel.destroy();
    this.shapes.clear();
    this.plans.clear();
    // gpu.destroy() settles asynchronously (worker pools); nothing is left to wait for on our side.
    this.gpu.destroy().catch(() => undefined);
  }
}

/** Adds one call's float32 tile results into the upper triangle of the float64 K. */
function addTiles(k: Float64Array, plan: TilePlan, batch: number, out: Float32Array): void {
  const { size, tile, tiles, tileCount, tilesPerCall } = plan;
  const first = batch * tilesPerCall;
  const count = Math.min(tilesPerCall, tileCount - first);
  for (let t = 0; t < count; t++) {
    const r = tiles[2 * (first + t)];
    const j0 = tiles[2 * (first + t) + 1];
    const xEnd = Math.min(tile, size - j0);
    for (let x = 0; x < xEnd; x++) {
      const j = j0 + x;
      const o = (t * tile + x) * 4;
      // Entries below the diagonal of a diagonal tile are computed but not kept.
      const qEnd = Math.min(4, j - r + 1);
      for (let q = 0; q < qEnd; q++) k[(r + q) * size + j] += out[o + q];
    }
  }
}
