// Original file: proto/ntksidecar/v1/sidecar.proto

import type { StabilityReport as _ntksidecar_v1_StabilityReport, StabilityReport__Output as _ntksidecar_v1_StabilityReport__Output } from '../../ntksidecar/v1/StabilityReport.js';
import type { DriftReport as _ntksidecar_v1_DriftReport, DriftReport__Output as _ntksidecar_v1_DriftReport__Output } from '../../ntksidecar/v1/DriftReport.js';
import type { AlignmentReport as _ntksidecar_v1_AlignmentReport, AlignmentReport__Output as _ntksidecar_v1_AlignmentReport__Output } from '../../ntksidecar/v1/AlignmentReport.js';
import type { ResidualReport as _ntksidecar_v1_ResidualReport, ResidualReport__Output as _ntksidecar_v1_ResidualReport__Output } from '../../ntksidecar/v1/ResidualReport.js';
import type { PredictionReport as _ntksidecar_v1_PredictionReport, PredictionReport__Output as _ntksidecar_v1_PredictionReport__Output } from '../../ntksidecar/v1/PredictionReport.js';
import type { DetectorReport as _ntksidecar_v1_DetectorReport, DetectorReport__Output as _ntksidecar_v1_DetectorReport__Output } from '../../ntksidecar/v1/DetectorReport.js';
import type { GeneralizationReport as _ntksidecar_v1_GeneralizationReport, GeneralizationReport__Output as _ntksidecar_v1_GeneralizationReport__Output } from '../../ntksidecar/v1/GeneralizationReport.js';

export interface DiagnosticsReport {
  'stability'?: (_ntksidecar_v1_StabilityReport | null);
  'drift'?: (_ntksidecar_v1_DriftReport | null);
  'alignment'?: (_ntksidecar_v1_AlignmentReport | null);
  'residual'?: (_ntksidecar_v1_ResidualReport | null);
  'prediction'?: (_ntksidecar_v1_PredictionReport | null);
  'detectors'?: (_ntksidecar_v1_DetectorReport | null);
  'generalization'?: (_ntksidecar_v1_GeneralizationReport | null);
}

export interface DiagnosticsReport__Output {
  'stability': (_ntksidecar_v1_StabilityReport__Output | null);
  'drift': (_ntksidecar_v1_DriftReport__Output | null);
  'alignment': (_ntksidecar_v1_AlignmentReport__Output | null);
  'residual': (_ntksidecar_v1_ResidualReport__Output | null);
  'prediction': (_ntksidecar_v1_PredictionReport__Output | null);
  'detectors': (_ntksidecar_v1_DetectorReport__Output | null);
  'generalization': (_ntksidecar_v1_GeneralizationReport__Output | null);
}
