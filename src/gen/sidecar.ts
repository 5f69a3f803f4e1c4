import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AlignmentReport as _ntksidecar_v1_AlignmentReport, AlignmentReport__Output as _ntksidecar_v1_AlignmentReport__Output } from './ntksidecar/v1/AlignmentReport.js';
import type { Budget as _ntksidecar_v1_Budget, Budget__Output as _ntksidecar_v1_Budget__Output } from './ntksidecar/v1/Budget.js';
import type { CheckStopRequest as _ntksidecar_v1_CheckStopRequest, CheckStopRequest__Output as _ntksidecar_v1_CheckStopRequest__Output } from './ntksidecar/v1/CheckStopRequest.js';
import type { CurvePoint as _ntksidecar_v1_CurvePoint, CurvePoint__Output as _ntksidecar_v1_CurvePoint__Output } from './ntksidecar/v1/CurvePoint.js';
import type { Decision as _ntksidecar_v1_Decision, Decision__Output as _ntksidecar_v1_Decision__Output } from './ntksidecar/v1/Decision.js';
import type { DetectorReport as _ntksidecar_v1_DetectorReport, DetectorReport__Output as _ntksidecar_v1_DetectorReport__Output } from './ntksidecar/v1/DetectorReport.js';
import type { DiagnosticsReport as _ntksidecar_v1_DiagnosticsReport, DiagnosticsReport__Output as _ntksidecar_v1_DiagnosticsReport__Output } from './ntksidecar/v1/DiagnosticsReport.js';
import type { DriftReport as _ntksidecar_v1_DriftReport, DriftReport__Output as _ntksidecar_v1_DriftReport__Output } from './ntksidecar/v1/DriftReport.js';
import type { EndRunRequest as _ntksidecar_v1_EndRunRequest, EndRunRequest__Output as _ntksidecar_v1_EndRunRequest__Output } from './ntksidecar/v1/EndRunRequest.js';
import type { EndRunResponse as _ntksidecar_v1_EndRunResponse, EndRunResponse__Output as _ntksidecar_v1_EndRunResponse__Output } from './ntksidecar/v1/EndRunResponse.js';
import type { EvalProbe as _ntksidecar_v1_EvalProbe, EvalProbe__Output as _ntksidecar_v1_EvalProbe__Output } from './ntksidecar/v1/EvalProbe.js';
import type { GeneralizationReport as _ntksidecar_v1_GeneralizationReport, GeneralizationReport__Output as _ntksidecar_v1_GeneralizationReport__Output } from './ntksidecar/v1/GeneralizationReport.js';
import type { GetRunRequest as _ntksidecar_v1_GetRunRequest, GetRunRequest__Output as _ntksidecar_v1_GetRunRequest__Output } from './ntksidecar/v1/GetRunRequest.js';
import type { ListRunsRequest as _ntksidecar_v1_ListRunsRequest, ListRunsRequest__Output as _ntksidecar_v1_ListRunsRequest__Output } from './ntksidecar/v1/ListRunsRequest.js';
import type { ListRunsResponse as _ntksidecar_v1_ListRunsResponse, ListRunsResponse__Output as _ntksidecar_v1_ListRunsResponse__Output } from './ntksidecar/v1/ListRunsResponse.js';
import type { LossSpec as _ntksidecar_v1_LossSpec, LossSpec__Output as _ntksidecar_v1_LossSpec__Output } from './ntksidecar/v1/LossSpec.js';
import type { NtkSidecarClient as _ntksidecar_v1_NtkSidecarClient, NtkSidecarDefinition as _ntksidecar_v1_NtkSidecarDefinition } from './ntksidecar/v1/NtkSidecar.js';
import type { OptimizerSpec as _ntksidecar_v1_OptimizerSpec, OptimizerSpec__Output as _ntksidecar_v1_OptimizerSpec__Output } from './ntksidecar/v1/OptimizerSpec.js';
import type { PredictionReport as _ntksidecar_v1_PredictionReport, PredictionReport__Output as _ntksidecar_v1_PredictionReport__Output } from './ntksidecar/v1/PredictionReport.js';
import type { ProbeSet as _ntksidecar_v1_ProbeSet, ProbeSet__Output as _ntksidecar_v1_ProbeSet__Output } from './ntksidecar/v1/ProbeSet.js';
import type { ResidualReport as _ntksidecar_v1_ResidualReport, ResidualReport__Output as _ntksidecar_v1_ResidualReport__Output } from './ntksidecar/v1/ResidualReport.js';
import type { RunAccepted as _ntksidecar_v1_RunAccepted, RunAccepted__Output as _ntksidecar_v1_RunAccepted__Output } from './ntksidecar/v1/RunAccepted.js';
import type { RunEnd as _ntksidecar_v1_RunEnd, RunEnd__Output as _ntksidecar_v1_RunEnd__Output } from './ntksidecar/v1/RunEnd.js';
import type { RunReport as _ntksidecar_v1_RunReport, RunReport__Output as _ntksidecar_v1_RunReport__Output } from './ntksidecar/v1/RunReport.js';
import type { RunStart as _ntksidecar_v1_RunStart, RunStart__Output as _ntksidecar_v1_RunStart__Output } from './ntksidecar/v1/RunStart.js';
import type { RunSummary as _ntksidecar_v1_RunSummary, RunSummary__Output as _ntksidecar_v1_RunSummary__Output } from './ntksidecar/v1/RunSummary.js';
import type { Scalars as _ntksidecar_v1_Scalars, Scalars__Output as _ntksidecar_v1_Scalars__Output } from './ntksidecar/v1/Scalars.js';
import type { SidecarMessage as _ntksidecar_v1_SidecarMessage, SidecarMessage__Output as _ntksidecar_v1_SidecarMessage__Output } from './ntksidecar/v1/SidecarMessage.js';
import type { SketchSpec as _ntksidecar_v1_SketchSpec, SketchSpec__Output as _ntksidecar_v1_SketchSpec__Output } from './ntksidecar/v1/SketchSpec.js';
import type { SnapshotAck as _ntksidecar_v1_SnapshotAck, SnapshotAck__Output as _ntksidecar_v1_SnapshotAck__Output } from './ntksidecar/v1/SnapshotAck.js';
import type { SnapshotEnd as _ntksidecar_v1_SnapshotEnd, SnapshotEnd__Output as _ntksidecar_v1_SnapshotEnd__Output } from './ntksidecar/v1/SnapshotEnd.js';
import type { SnapshotHeader as _ntksidecar_v1_SnapshotHeader, SnapshotHeader__Output as _ntksidecar_v1_SnapshotHeader__Output } from './ntksidecar/v1/SnapshotHeader.js';
import type { SnapshotReport as _ntksidecar_v1_SnapshotReport, SnapshotReport__Output as _ntksidecar_v1_SnapshotReport__Output } from './ntksidecar/v1/SnapshotReport.js';
import type { SpectrumReport as _ntksidecar_v1_SpectrumReport, SpectrumReport__Output as _ntksidecar_v1_SpectrumReport__Output } from './ntksidecar/v1/SpectrumReport.js';
import type { StabilityReport as _ntksidecar_v1_StabilityReport, StabilityReport__Output as _ntksidecar_v1_StabilityReport__Output } from './ntksidecar/v1/StabilityReport.js';
import type { Tensor as _ntksidecar_v1_Tensor, Tensor__Output as _ntksidecar_v1_Tensor__Output } from './ntksidecar/v1/Tensor.js';
import type { TensorChunk as _ntksidecar_v1_TensorChunk, TensorChunk__Output as _ntksidecar_v1_TensorChunk__Output } from './ntksidecar/v1/TensorChunk.js';
import type { TensorSpec as _ntksidecar_v1_TensorSpec, TensorSpec__Output as _ntksidecar_v1_TensorSpec__Output } from './ntksidecar/v1/TensorSpec.js';
import type { TrainerMessage as _ntksidecar_v1_TrainerMessage, TrainerMessage__Output as _ntksidecar_v1_TrainerMessage__Output } from './ntksidecar/v1/TrainerMessage.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  ntksidecar: {
    v1: {
      Action: EnumTypeDefinition
      AlignmentReport: MessageTypeDefinition<_ntksidecar_v1_AlignmentReport, _ntksidecar_v1_AlignmentReport__Output>
      Budget: MessageTypeDefinition<_ntksidecar_v1_Budget, _ntksidecar_v1_Budget__Output>
      CheckStopRequest: MessageTypeDefinition<_ntksidecar_v1_CheckStopRequest, _ntksidecar_v1_CheckStopRequest__Output>
      CurvePoint: MessageTypeDefinition<_ntksidecar_v1_CurvePoint, _ntksidecar_v1_CurvePoint__Output>
      DType: EnumTypeDefinition
      Decision: MessageTypeDefinition<_ntksidecar_v1_Decision, _ntksidecar_v1_Decision__Output>
      DetectorReport: MessageTypeDefinition<_ntksidecar_v1_DetectorReport, _ntksidecar_v1_DetectorReport__Output>
      DiagnosticsReport: MessageTypeDefinition<_ntksidecar_v1_DiagnosticsReport, _ntksidecar_v1_DiagnosticsReport__Output>
      DriftReport: MessageTypeDefinition<_ntksidecar_v1_DriftReport, _ntksidecar_v1_DriftReport__Output>
      EndRunRequest: MessageTypeDefinition<_ntksidecar_v1_EndRunRequest, _ntksidecar_v1_EndRunRequest__Output>
      EndRunResponse: MessageTypeDefinition<_ntksidecar_v1_EndRunResponse, _ntksidecar_v1_EndRunResponse__Output>
      EvalProbe: MessageTypeDefinition<_ntksidecar_v1_EvalProbe, _ntksidecar_v1_EvalProbe__Output>
      GeneralizationReport: MessageTypeDefinition<_ntksidecar_v1_GeneralizationReport, _ntksidecar_v1_GeneralizationReport__Output>
      GetRunRequest: MessageTypeDefinition<_ntksidecar_v1_GetRunRequest, _ntksidecar_v1_GetRunRequest__Output>
      KernelReduction: EnumTypeDefinition
      ListRunsRequest: MessageTypeDefinition<_ntksidecar_v1_ListRunsRequest, _ntksidecar_v1_ListRunsRequest__Output>
      ListRunsResponse: MessageTypeDefinition<_ntksidecar_v1_ListRunsResponse, _ntksidecar_v1_ListRunsResponse__Output>
      LossKind: EnumTypeDefinition
      LossSpec: MessageTypeDefinition<_ntksidecar_v1_LossSpec, _ntksidecar_v1_LossSpec__Output>
      NtkSidecar: SubtypeConstructor<typeof grpc.Client, _ntksidecar_v1_NtkSidecarClient> & { service: _ntksidecar_v1_NtkSidecarDefinition }
      OptimizerKind: EnumTypeDefinition
      OptimizerSpec: MessageTypeDefinition<_ntksidecar_v1_OptimizerSpec, _ntksidecar_v1_OptimizerSpec__Output>
      PredictionReport: MessageTypeDefinition<_ntksidecar_v1_PredictionReport, _ntksidecar_v1_PredictionReport__Output>
      ProbeSet: MessageTypeDefinition<_ntksidecar_v1_ProbeSet, _ntksidecar_v1_ProbeSet__Output>
      Reason: EnumTypeDefinition
      ResidualReport: MessageTypeDefinition<_ntksidecar_v1_ResidualReport, _ntksidecar_v1_ResidualReport__Output>
      RunAccepted: MessageTypeDefinition<_ntksidecar_v1_RunAccepted, _ntksidecar_v1_RunAccepted__Output>
      RunEnd: MessageTypeDefinition<_ntksidecar_v1_RunEnd, _ntksidecar_v1_RunEnd__Output>
      RunReport: MessageTypeDefinition<_ntksidecar_v1_RunReport, _ntksidecar_v1_RunReport__Output>
      RunStart: MessageTypeDefinition<_ntksidecar_v1_RunStart, _ntksidecar_v1_RunStart__Output>
      RunStatus: EnumTypeDefinition
      RunSummary: MessageTypeDefinition<_ntksidecar_v1_RunSummary, _ntksidecar_v1_RunSummary__Output>
      Scalars: MessageTypeDefinition<_ntksidecar_v1_Scalars, _ntksidecar_v1_Scalars__Output>
      SidecarMessage: MessageTypeDefinition<_ntksidecar_v1_SidecarMessage, _ntksidecar_v1_SidecarMessage__Output>
      SketchKind: EnumTypeDefinition
      SketchSpec: MessageTypeDefinition<_ntksidecar_v1_SketchSpec, _ntksidecar_v1_SketchSpec__Output>
      SnapshotAck: MessageTypeDefinition<_ntksidecar_v1_SnapshotAck, _ntksidecar_v1_SnapshotAck__Output>
      SnapshotEnd: MessageTypeDefinition<_ntksidecar_v1_SnapshotEnd, _ntksidecar_v1_SnapshotEnd__Output>
      SnapshotHeader: MessageTypeDefinition<_ntksidecar_v1_SnapshotHeader, _ntksidecar_v1_SnapshotHeader__Output>
      SnapshotReport: MessageTypeDefinition<_ntksidecar_v1_SnapshotReport, _ntksidecar_v1_SnapshotReport__Output>
      SpectrumReport: MessageTypeDefinition<_ntksidecar_v1_SpectrumReport, _ntksidecar_v1_SpectrumReport__Output>
      StabilityReport: MessageTypeDefinition<_ntksidecar_v1_StabilityReport, _ntksidecar_v1_StabilityReport__Output>
      Tensor: MessageTypeDefinition<_ntksidecar_v1_Tensor, _ntksidecar_v1_Tensor__Output>
      TensorChunk: MessageTypeDefinition<_ntksidecar_v1_TensorChunk, _ntksidecar_v1_TensorChunk__Output>
      TensorKind: EnumTypeDefinition
      TensorSpec: MessageTypeDefinition<_ntksidecar_v1_TensorSpec, _ntksidecar_v1_TensorSpec__Output>
      TrainerMessage: MessageTypeDefinition<_ntksidecar_v1_TrainerMessage, _ntksidecar_v1_TrainerMessage__Output>
    }
  }
}

