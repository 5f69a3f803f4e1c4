/**
 * One snapshot's reassembly state machine: SnapshotHeader → TensorChunk… → SnapshotEnd (docs/design.md §3).
 * It validates each message against the header and the run's probe shape and tracks coverage; it never
 * holds tensor data (accepted chunks are handed back to the caller), so memory is the interval bookkeeping.
 * Called on the event loop for every message: per chunk the only O(bytes) work is the optional CRC-32C, and
 * `accept(chunk, { deferChecksum: true })` hands even that to the caller (the sidecar verifies it in the
 * compute worker before decoding, verifyChunkCrc32c, with the same DATA_LOSS code and message).
 *
 * Fault scopes (the catalogue is docs/errors.md): shape, length, range, checksum and coverage faults reject
 * the snapshot (SidecarError scope 'snapshot' → ack{accepted: false}); the size limits (max rows, max chunk
 * bytes, max snapshot bytes) are RESOURCE_EXHAUSTED and end the stream (scope 'stream'), as docs/design.md §3 puts
 * "limits exceeded" among stream-level faults.
 */
import { Code, SidecarError, snapshotError } from '../errors.js';
import type { DType__Output } from '../gen/ntksidecar/v1/DType.js';
import type { SnapshotEnd__Output } from '../gen/ntksidecar/v1/SnapshotEnd.js';
import type { SnapshotHeader__Output } from '../gen/ntksidecar/v1/SnapshotHeader.js';
import type { TensorChunk__Output } from '../gen/ntksidecar/v1/TensorChunk.js';
import type { TensorKind__Output } from '../gen/ntksidecar/v1/TensorKind.js';
import { verifyChunkCrc32c } from './crc32c.js';
import { dtypeSize } from './decodeTensor.js';
import { IntervalSet } from './intervalSet.js';

/** The run's probe set: n samples, C outputs (N = n·C); `sketchDim` = m from RunStart.sketch (0/absent: not checked). */
export interface ProbeShape {
  samples: number;
  outputs: number;
  sketchDim?: number;
  /** n_eval of RunStart.eval_probe; 0/absent: no evaluation probe, TENSOR_KIND_EVAL_LOGITS is refused. */
  evalSamples?: number;
}

export interface IngestLimits {
  /** Largest N = n·C accepted. */
  maxRows: number;
  /** Largest TensorChunk.data accepted, in bytes. */
  maxChunkBytes: number;
  /** Largest snapshot accepted, as declared by its header (sum of rows·cols·element size), in bytes. */
  maxSnapshotBytes: number;
}

import type { KernelReduction as Reduction } from '../kernel/kernelAccumulator.js';

/** How a tensor is streamed: column blocks of all rows (Jacobian, sketch) or blocks of whole rows (Gram, logits). */
export type ChunkLayout = 'columns' | 'rows';

export interface TensorPlan {
  kind: TensorKind__Output;
  dtype: DType__Output;
  rows: number;
  cols: number;
}

export interface AcceptedChunk {
  kind: TensorKind__Output;
  dtype: DType__Output;
  /** First column (layout 'columns') or first row (layout 'rows') of the block. */
  offset: number;
  rows: number;
  cols: number;
  /** rows·cols little-endian elements of dtype, row-major within the block (the caller's buffer, not copied). */
  data: Uint8Array;
  layout: ChunkLayout;
  /** The declared CRC-32C still to verify over `data` (accept with deferChecksum); 0 when none was sent or it was verified here. */
  crc32c: number;
  /** "snapshot 7: TENSOR_KIND_SKETCH chunk at column 0": what a deferred checksum fault names. */
  where: string;
}

export interface AcceptOptions {
  /** Leave the CRC-32C to the caller (returned as AcceptedChunk.crc32c, to pass to verifyChunkCrc32c). */
  deferChecksum?: boolean;
}

export type AssemblerState = 'open' | 'ended' | 'rejected';

interface PlanState extends TensorPlan {
  layout: ChunkLayout;
  unit: 'columns' | 'rows';
  /** Columns (layout 'columns') or rows (layout 'rows') to cover. */
  extent: number;
  elementSize: number;
  coverage: IntervalSet;
}

/** The tensor kinds a kernel is built from; a snapshot carries at most one of them. */
export const KERNEL_TENSOR_KINDS: readonly TensorKind__Output[] = ['TENSOR_KIND_JACOBIAN', 'TENSOR_KIND_SKETCH', 'TENSOR_KIND_GRAM'];
const KINDS: readonly TensorKind__Output[] = [...KERNEL_TENSOR_KINDS, 'TENSOR_KIND_LOGITS', 'TENSOR_KIND_EVAL_LOGITS'];
const DTYPES: readonly DType__Output[] = ['DTYPE_F32', 'DTYPE_F64', 'DTYPE_F16', 'DTYPE_BF16'];

/** Gaps listed per tensor in an incomplete-snapshot message. */
const MISSING_LISTED = 5;

export class SnapshotAssembler {
  readonly snapshotId: number;
  readonly step: number;
  readonly reduction: Reduction;
  readonly plans: TensorPlan[];
  /** Sum of the plans' byte sizes as declared by the header. */
  readonly declaredBytes: number;
  readonly header: SnapshotHeader__Output;

  private readonly limits: IngestLimits;
  private readonly byKind = new Map<string, PlanState>();
  private readonly states: PlanState[] = [];
  private bytes = 0;
  private chunks = 0;
  private status: AssemblerState = 'open';

  /** Validates the header against the probe shape and limits; throws SidecarError (see the file comment). */
  constructor(header: SnapshotHeader__Output, probe: ProbeShape, limits: IngestLimits) {
    this.header = header;
    this.limits = limits;
    this.snapshotId = header.snapshot_id;
    this.step = header.step;
    const id = this.snapshotId;
    const n = probe.samples;
    const c = probe.outputs;
    const bigN = n * c;

    if (bigN > limits.maxRows) {
      throw new SidecarError(
        Code.RESOURCE_EXHAUSTED,
        `snapshot ${id}: N = n·C = ${n}·${c} = ${bigN} rows exceeds this sidecar's max rows ${limits.maxRows} ` +
          `(the kernel alone needs 8·N² = ${fmtBytes(8 * bigN * bigN)}); use fewer probe samples or outputs, ` +
          `or start the sidecar with a larger --max-rows`,
        'stream',
      );
    }

    const specs = header.tensors ?? [];
    if (specs.length === 0) {
      throw snapshotError(
        Code.INVALID_ARGUMENT,
        `snapshot ${id}: SnapshotHeader.tensors is empty; declare every tensor that follows (kind, dtype, rows, cols)`,
      );
    }

    switch (header.kernel_reduction) {
      case 'KERNEL_REDUCTION_TRACE':
        this.reduction = 'trace';
        break;
      case 'KERNEL_REDUCTION_FULL':
      case 'KERNEL_REDUCTION_UNSPECIFIED':
      case undefined:
        this.reduction = 'full';
        break;
      default:
        throw snapshotError(
          Code.INVALID_ARGUMENT,
          `snapshot ${id}: unknown kernel_reduction ${String(header.kernel_reduction)}; ` +
            `use KERNEL_REDUCTION_FULL or KERNEL_REDUCTION_TRACE`,
        );
    }

    let declared = 0;
    for (let s = 0; s < specs.length; s++) {
      const spec = specs[s];
      const kind = spec.tensor;
      const where = `snapshot ${id}: tensors[${s}]`;
      if (!KINDS.includes(kind)) {
        throw snapshotError(
          Code.INVALID_ARGUMENT,
          `${where} has tensor kind ${String(kind)}; use TENSOR_KIND_JACOBIAN, _SKETCH, _GRAM, _LOGITS or _EVAL_LOGITS`,
        );
      }
      if (this.byKind.has(kind)) {
        throw snapshotError(
          Code.INVALID_ARGUMENT,
          `${where} declares ${kind} a second time; at most one tensor per kind in a snapshot`,
        );
      }
      if (!DTYPES.includes(spec.dtype)) {
        throw snapshotError(
          Code.INVALID_ARGUMENT,
          `${where} (${kind}) has dtype ${String(spec.dtype)}; set DTYPE_F32, DTYPE_F64, DTYPE_F16 or DTYPE_BF16`,
        );
      }
      const { rows, cols } = spec;
      if (!isCount(rows) || !isCount(cols)) {
        throw snapshotError(
          Code.INVALID_ARGUMENT,
          `${where} (${kind}) has shape ${rows}×${cols}; rows and cols must be integers between 1 and 2^53`,
        );
      }
      const shapeError = (expected: string): SidecarError =>
        snapshotError(
          Code.INVALID_ARGUMENT,
          `${where} (${kind}) has shape ${rows}×${cols}, expected ${expected} for the run's probe set ` +
            `(n = ${n} samples, C = ${c} outputs, N = ${bigN})`,
        );
      let layout: ChunkLayout;
      switch (kind) {
        case 'TENSOR_KIND_JACOBIAN':
          if (rows !== bigN) throw shapeError(`N = ${bigN} rows × P columns`);
          layout = 'columns';
          break;
        case 'TENSOR_KIND_SKETCH':
          if (rows !== bigN) throw shapeError(`N = ${bigN} rows × m columns`);
          if (probe.sketchDim && cols !== probe.sketchDim) {
            throw shapeError(`N = ${bigN} rows × m = ${probe.sketchDim} columns (RunStart.sketch.dim)`);
          }
          layout = 'columns';
          break;
        case 'TENSOR_KIND_GRAM': {
          const order = this.reduction === 'trace' ? n : bigN;
          if (rows !== order || cols !== order) {
            throw shapeError(
              this.reduction === 'trace'
                ? `n×n = ${n}×${n} with KERNEL_REDUCTION_TRACE (send N×N = ${bigN}×${bigN} with KERNEL_REDUCTION_FULL)`
                : `N×N = ${bigN}×${bigN} with KERNEL_REDUCTION_FULL (send n×n = ${n}×${n} with KERNEL_REDUCTION_TRACE)`,
            );
          }
          layout = 'rows';
          break;
        }
        case 'TENSOR_KIND_EVAL_LOGITS':
          if (!probe.evalSamples) {
            throw snapshotError(Code.INVALID_ARGUMENT, `${where} sends TENSOR_KIND_EVAL_LOGITS but the run declared no RunStart.eval_probe; declare it at RunStart`);
          }
          if (rows !== probe.evalSamples || cols !== c) throw shapeError(`n_eval×C = ${probe.evalSamples}×${c} (RunStart.eval_probe)`);
          layout = 'rows';
          break;
        default: // TENSOR_KIND_LOGITS
          if (rows !== n || cols !== c) throw shapeError(`n×C = ${n}×${c}`);
          layout = 'rows';
      }
      const elementSize = dtypeSize(spec.dtype);
      declared += rows * cols * elementSize;
      const state: PlanState = {
        kind,
        dtype: spec.dtype,
        rows,
        cols,
        layout,
        unit: layout,
        extent: layout === 'columns' ? cols : rows,
        elementSize,
        coverage: new IntervalSet(),
      };
      this.byKind.set(kind, state);
      this.states.push(state);
    }

    if (declared > limits.maxSnapshotBytes) {
      throw new SidecarError(
        Code.RESOURCE_EXHAUSTED,
        `snapshot ${id}: declared tensors total ${declared} bytes (${fmtBytes(declared)}), over this sidecar's ` +
          `max snapshot bytes ${limits.maxSnapshotBytes} (${fmtBytes(limits.maxSnapshotBytes)}); send a sketch or ` +
          `a Gram instead of the raw Jacobian, or start the sidecar with a larger --max-snapshot-bytes`,
        'stream',
      );
    }
    this.declaredBytes = declared;
    this.plans = this.states.map(({ kind, dtype, rows, cols }) => ({ kind, dtype, rows, cols }));
  }

  /** Bytes of chunk data accepted so far. */
  get receivedBytes(): number {
    return this.bytes;
  }

  /** Chunks accepted so far. */
  get chunkCount(): number {
    return this.chunks;
  }

  get state(): AssemblerState {
    return this.status;
  }

  /** Coverage bookkeeping: disjoint received ranges held over all tensors (1 per tensor when sent in order). */
  get intervalCount(): number {
    let k = 0;
    for (const p of this.states) k += p.coverage.size;
    return k;
  }

  /** True once every declared tensor is fully covered. */
  get complete(): boolean {
    return this.states.every((p) => p.coverage.coversAll(p.extent));
  }

  /**
   * Validates one chunk and records its coverage. Throws SidecarError on any fault (the assembler is then
   * 'rejected' and refuses further messages); the returned chunk aliases `chunk.data`.
   */
  accept(chunk: TensorChunk__Output, opts: AcceptOptions = {}): AcceptedChunk {
    this.requireOpen('TensorChunk');
    try {
      return this.acceptChunk(chunk, opts.deferChecksum === true);
    } catch (err) {
      this.status = 'rejected';
      throw err;
    }
  }

  /** Validates SnapshotEnd: id, full coverage of every tensor, and the counts when non-zero. */
  end(end: SnapshotEnd__Output): void {
    this.requireOpen('SnapshotEnd');
    try {
      this.checkEnd(end);
      this.status = 'ended';
    } catch (err) {
      this.status = 'rejected';
      throw err;
    }
  }

  private acceptChunk(chunk: TensorChunk__Output, deferChecksum: boolean): AcceptedChunk {
    const id = this.snapshotId;
    const data: Uint8Array = chunk.data ?? new Uint8Array(0);
    const len = data.length;
    if (len > this.limits.maxChunkBytes) {
      throw new SidecarError(
        Code.RESOURCE_EXHAUSTED,
        `snapshot ${id}: ${String(chunk.tensor)} chunk of ${len} bytes is over this sidecar's max chunk bytes ` +
          `${this.limits.maxChunkBytes} (RunAccepted.max_chunk_bytes); split it into smaller blocks (4 MiB is a good size)`,
        'stream',
      );
    }
    if (chunk.snapshot_id !== id) {
      throw snapshotError(
        Code.INVALID_ARGUMENT,
        `snapshot ${id}: got a chunk for snapshot ${chunk.snapshot_id} while snapshot ${id} is open; ` +
          `send every chunk of a snapshot between its header and its end`,
      );
    }
    const plan = this.byKind.get(chunk.tensor);
    if (!plan) {
      throw snapshotError(
        Code.INVALID_ARGUMENT,
        `snapshot ${id}: chunk of ${String(chunk.tensor)}, which the header does not declare ` +
          `(declared: ${this.states.map((p) => p.kind).join(', ')}); add it to SnapshotHeader.tensors`,
      );
    }
    const kind = plan.kind;
    if (chunk.dtype !== plan.dtype) {
      throw snapshotError(
        Code.INVALID_ARGUMENT,
        `snapshot ${id}: ${kind} chunk has dtype ${String(chunk.dtype)} but the header declares ${plan.dtype}; ` +
          `every chunk of a tensor carries the tensor's dtype`,
      );
    }
    const { offset, rows, cols } = chunk;
    if (!isCount(rows) || !isCount(cols)) {
      throw snapshotError(
        Code.INVALID_ARGUMENT,
        `snapshot ${id}: ${kind} chunk at offset ${offset} has shape ${rows}×${cols}; a chunk needs at least one row and one column`,
      );
    }
    // The block's extent along the streamed axis.
    let span: number;
    if (plan.layout === 'columns') {
      if (rows !== plan.rows) {
        throw snapshotError(
          Code.INVALID_ARGUMENT,
          `snapshot ${id}: ${kind} chunk at column ${offset} has ${rows} rows; column blocks carry all N = ${plan.rows} rows`,
        );
      }
      span = cols;
    } else {
      if (cols !== plan.cols) {
        throw snapshotError(
          Code.INVALID_ARGUMENT,
          `snapshot ${id}: ${kind} chunk at row ${offset} has ${cols} columns; row blocks carry whole rows of ${plan.cols} columns`,
        );
      }
      span = rows;
    }
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + span > plan.extent) {
      const axis = plan.unit;
      const field = plan.layout === 'columns' ? 'cols' : 'rows';
      throw snapshotError(
        Code.OUT_OF_RANGE,
        `snapshot ${id}: ${kind} chunk covers ${axis} ${fmtRange(offset, offset + span)} but the tensor has ` +
          `${plan.extent} ${axis} (0–${plan.extent - 1}): offset + ${field} = ${offset} + ${span} = ${offset + span} > ` +
          `${plan.extent}; keep offset + ${field} ≤ ${plan.extent} as declared in the header`,
      );
    }
    const expected = rows * cols * plan.elementSize;
    if (len !== expected) {
      throw snapshotError(
        Code.INVALID_ARGUMENT,
        `snapshot ${id}: ${kind} chunk at ${unitAt(plan, offset)} holds ${len} bytes, expected ${expected} ` +
          `(${rows}×${cols} ${plan.dtype} elements of ${plan.elementSize} bytes)`,
      );
    }
    const where = `snapshot ${id}: ${kind} chunk at ${unitAt(plan, offset)}`;
    const sent = (chunk.crc32c ?? 0) >>> 0;
    if (!deferChecksum) verifyChunkCrc32c(data, sent, where);
    const overlap = plan.coverage.add(offset, offset + span);
    if (overlap) {
      throw snapshotError(
        Code.ABORTED,
        `snapshot ${id}: ${kind} ${plan.unit} ${fmtRange(overlap[0], overlap[1])} sent twice (this chunk covers ` +
          `${plan.unit} ${fmtRange(offset, offset + span)}); every ${plan.unit === 'columns' ? 'column' : 'row'} ` +
          `must arrive exactly once; resend the snapshot`,
      );
    }
    this.bytes += len;
    this.chunks++;
    return { kind, dtype: plan.dtype, offset, rows, cols, data, layout: plan.layout, crc32c: deferChecksum ? sent : 0, where };
  }

  private checkEnd(end: SnapshotEnd__Output): void {
    const id = this.snapshotId;
    if (end.snapshot_id !== id) {
      throw snapshotError(
        Code.INVALID_ARGUMENT,
        `snapshot ${id}: got SnapshotEnd for snapshot ${end.snapshot_id} while snapshot ${id} is open; ` +
          `close a snapshot with its own snapshot_id`,
      );
    }
    const counts =
      end.chunk_count && end.chunk_count !== this.chunks
        ? `; ${this.chunks} chunks arrived, SnapshotEnd.chunk_count says ${end.chunk_count}`
        : '';
    const gaps: string[] = [];
    for (const plan of this.states) {
      if (plan.coverage.coversAll(plan.extent)) continue;
      const m = plan.coverage.missing(plan.extent, MISSING_LISTED);
      const listed = m.ranges.map(([a, b]) => fmtRange(a, b)).join(', ');
      const more = m.gapCount > m.ranges.length ? `, and ${m.gapCount - m.ranges.length} more gaps` : '';
      gaps.push(
        `${plan.kind} is missing ${plan.unit} ${listed}${more} (${m.missingCount} of ${plan.extent} ${plan.unit} ` +
          `in ${m.gapCount} gap${m.gapCount === 1 ? '' : 's'})`,
      );
    }
    if (gaps.length > 0) {
      throw snapshotError(
        Code.ABORTED,
        `snapshot ${id} is incomplete at SnapshotEnd: ${gaps.join('; ')}${counts}; resend the whole snapshot`,
      );
    }
    if (counts) {
      throw snapshotError(
        Code.ABORTED,
        `snapshot ${id}: SnapshotEnd.chunk_count is ${end.chunk_count} but ${this.chunks} chunks arrived, although ` +
          `every declared tensor is covered; the sender's count disagrees with what it sent — check it and resend the snapshot`,
      );
    }
    if (end.total_bytes && end.total_bytes !== this.bytes) {
      throw snapshotError(
        Code.DATA_LOSS,
        `snapshot ${id}: SnapshotEnd.total_bytes is ${end.total_bytes} but ${this.bytes} bytes of chunk data arrived ` +
          `(declared shapes need ${this.declaredBytes}); bytes were lost or added between sender and sidecar — resend the snapshot`,
      );
    }
  }

  private requireOpen(what: string): void {
    if (this.status !== 'open') {
      throw snapshotError(
        Code.FAILED_PRECONDITION,
        `snapshot ${this.snapshotId}: ${what} after the snapshot was ${this.status}; open a new snapshot with a SnapshotHeader`,
      );
    }
  }
}

function isCount(x: number): boolean {
  return Number.isSafeInteger(x) && x >= 1;
}

/** Half-open [a, b) shown inclusively: "100–199", or "100" for one unit. */
function fmtRange(a: number, b: number): string {
  return b - a === 1 ? `${a}` : `${a}–${b - 1}`;
}

function unitAt(plan: PlanState, offset: number): string {
  return `${plan.layout === 'columns' ? 'column' : 'row'} ${offset}`;
}

function fmtBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
