// Original file: proto/ntksidecar/v1/sidecar.proto

import type { SpectrumReport as _ntksidecar_v1_SpectrumReport, SpectrumReport__Output as _ntksidecar_v1_SpectrumReport__Output } from '../../ntksidecar/v1/SpectrumReport.js';
import type { DiagnosticsReport as _ntksidecar_v1_DiagnosticsReport, DiagnosticsReport__Output as _ntksidecar_v1_DiagnosticsReport__Output } from '../../ntksidecar/v1/DiagnosticsReport.js';
import type { Long } from '@grpc/proto-loader';

export interface SnapshotReport {
  'snapshot_id'?: (number | string | Long);
  'step'?: (number | string | Long);
  'train_loss'?: (number | string);
  /**
   * tensor kind the kernel came from
   */
  'source'?: (string);
  /**
   * full and/or traced
   */
  'spectra'?: (_ntksidecar_v1_SpectrumReport)[];
  'analysis_seconds'?: (number | string);
  'backend'?: (string);
  'received_bytes'?: (number | string | Long);
  /**
   * false when the data held NaN/Inf
   */
  'finite'?: (boolean);
  /**
   * training-dynamics diagnostics at this snapshot (docs/science.md A5–A13)
   */
  'diagnostics'?: (_ntksidecar_v1_DiagnosticsReport | null);
}

export interface SnapshotReport__Output {
  'snapshot_id': (number);
  'step': (number);
  'train_loss': (number);
  /**
   * tensor kind the kernel came from
   */
  'source': (string);
  /**
   * full and/or traced
   */
  'spectra': (_ntksidecar_v1_SpectrumReport__Output)[];
  'analysis_seconds': (number);
  'backend': (string);
  'received_bytes': (number);
  /**
   * false when the data held NaN/Inf
   */
  'finite': (boolean);
  /**
   * training-dynamics diagnostics at this snapshot (docs/science.md A5–A13)
   */
  'diagnostics': (_ntksidecar_v1_DiagnosticsReport__Output | null);
}
