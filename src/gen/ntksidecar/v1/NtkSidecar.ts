// Original file: proto/ntksidecar/v1/sidecar.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CheckStopRequest as _ntksidecar_v1_CheckStopRequest, CheckStopRequest__Output as _ntksidecar_v1_CheckStopRequest__Output } from '../../ntksidecar/v1/CheckStopRequest.js';
import type { Decision as _ntksidecar_v1_Decision, Decision__Output as _ntksidecar_v1_Decision__Output } from '../../ntksidecar/v1/Decision.js';
import type { EndRunRequest as _ntksidecar_v1_EndRunRequest, EndRunRequest__Output as _ntksidecar_v1_EndRunRequest__Output } from '../../ntksidecar/v1/EndRunRequest.js';
import type { EndRunResponse as _ntksidecar_v1_EndRunResponse, EndRunResponse__Output as _ntksidecar_v1_EndRunResponse__Output } from '../../ntksidecar/v1/EndRunResponse.js';
import type { GetRunRequest as _ntksidecar_v1_GetRunRequest, GetRunRequest__Output as _ntksidecar_v1_GetRunRequest__Output } from '../../ntksidecar/v1/GetRunRequest.js';
import type { ListRunsRequest as _ntksidecar_v1_ListRunsRequest, ListRunsRequest__Output as _ntksidecar_v1_ListRunsRequest__Output } from '../../ntksidecar/v1/ListRunsRequest.js';
import type { ListRunsResponse as _ntksidecar_v1_ListRunsResponse, ListRunsResponse__Output as _ntksidecar_v1_ListRunsResponse__Output } from '../../ntksidecar/v1/ListRunsResponse.js';
import type { RunReport as _ntksidecar_v1_RunReport, RunReport__Output as _ntksidecar_v1_RunReport__Output } from '../../ntksidecar/v1/RunReport.js';
import type { SidecarMessage as _ntksidecar_v1_SidecarMessage, SidecarMessage__Output as _ntksidecar_v1_SidecarMessage__Output } from '../../ntksidecar/v1/SidecarMessage.js';
import type { TrainerMessage as _ntksidecar_v1_TrainerMessage, TrainerMessage__Output as _ntksidecar_v1_TrainerMessage__Output } from '../../ntksidecar/v1/TrainerMessage.js';

export interface NtkSidecarClient extends grpc.Client {
  /**
   * One stream per run: RunStart, snapshots and scalars in; RunAccepted, acks and decisions out.
   */
  Attach(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_ntksidecar_v1_TrainerMessage, _ntksidecar_v1_SidecarMessage__Output>;
  Attach(options?: grpc.CallOptions): grpc.ClientDuplexStream<_ntksidecar_v1_TrainerMessage, _ntksidecar_v1_SidecarMessage__Output>;
  /**
   * One stream per run: RunStart, snapshots and scalars in; RunAccepted, acks and decisions out.
   */
  attach(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_ntksidecar_v1_TrainerMessage, _ntksidecar_v1_SidecarMessage__Output>;
  attach(options?: grpc.CallOptions): grpc.ClientDuplexStream<_ntksidecar_v1_TrainerMessage, _ntksidecar_v1_SidecarMessage__Output>;
  
  /**
   * Latest decision of a run (by run_id) or of a job (by job_id: one decision for all ranks).
   */
  CheckStop(argument: _ntksidecar_v1_CheckStopRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_Decision__Output>): grpc.ClientUnaryCall;
  CheckStop(argument: _ntksidecar_v1_CheckStopRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ntksidecar_v1_Decision__Output>): grpc.ClientUnaryCall;
  CheckStop(argument: _ntksidecar_v1_CheckStopRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_Decision__Output>): grpc.ClientUnaryCall;
  CheckStop(argument: _ntksidecar_v1_CheckStopRequest, callback: grpc.requestCallback<_ntksidecar_v1_Decision__Output>): grpc.ClientUnaryCall;
  /**
   * Latest decision of a run (by run_id) or of a job (by job_id: one decision for all ranks).
   */
  checkStop(argument: _ntksidecar_v1_CheckStopRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_Decision__Output>): grpc.ClientUnaryCall;
  checkStop(argument: _ntksidecar_v1_CheckStopRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ntksidecar_v1_Decision__Output>): grpc.ClientUnaryCall;
  checkStop(argument: _ntksidecar_v1_CheckStopRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_Decision__Output>): grpc.ClientUnaryCall;
  checkStop(argument: _ntksidecar_v1_CheckStopRequest, callback: grpc.requestCallback<_ntksidecar_v1_Decision__Output>): grpc.ClientUnaryCall;
  
  /**
   * Marks a run finished; its metric series are removed.
   */
  EndRun(argument: _ntksidecar_v1_EndRunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_EndRunResponse__Output>): grpc.ClientUnaryCall;
  EndRun(argument: _ntksidecar_v1_EndRunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ntksidecar_v1_EndRunResponse__Output>): grpc.ClientUnaryCall;
  EndRun(argument: _ntksidecar_v1_EndRunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_EndRunResponse__Output>): grpc.ClientUnaryCall;
  EndRun(argument: _ntksidecar_v1_EndRunRequest, callback: grpc.requestCallback<_ntksidecar_v1_EndRunResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Marks a run finished; its metric series are removed.
   */
  endRun(argument: _ntksidecar_v1_EndRunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_EndRunResponse__Output>): grpc.ClientUnaryCall;
  endRun(argument: _ntksidecar_v1_EndRunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ntksidecar_v1_EndRunResponse__Output>): grpc.ClientUnaryCall;
  endRun(argument: _ntksidecar_v1_EndRunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_EndRunResponse__Output>): grpc.ClientUnaryCall;
  endRun(argument: _ntksidecar_v1_EndRunRequest, callback: grpc.requestCallback<_ntksidecar_v1_EndRunResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Latest analysis of a run and a summary of its decisions.
   */
  GetRun(argument: _ntksidecar_v1_GetRunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_RunReport__Output>): grpc.ClientUnaryCall;
  GetRun(argument: _ntksidecar_v1_GetRunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ntksidecar_v1_RunReport__Output>): grpc.ClientUnaryCall;
  GetRun(argument: _ntksidecar_v1_GetRunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_RunReport__Output>): grpc.ClientUnaryCall;
  GetRun(argument: _ntksidecar_v1_GetRunRequest, callback: grpc.requestCallback<_ntksidecar_v1_RunReport__Output>): grpc.ClientUnaryCall;
  /**
   * Latest analysis of a run and a summary of its decisions.
   */
  getRun(argument: _ntksidecar_v1_GetRunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_RunReport__Output>): grpc.ClientUnaryCall;
  getRun(argument: _ntksidecar_v1_GetRunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ntksidecar_v1_RunReport__Output>): grpc.ClientUnaryCall;
  getRun(argument: _ntksidecar_v1_GetRunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_RunReport__Output>): grpc.ClientUnaryCall;
  getRun(argument: _ntksidecar_v1_GetRunRequest, callback: grpc.requestCallback<_ntksidecar_v1_RunReport__Output>): grpc.ClientUnaryCall;
  
  /**
   * Runs known to this sidecar, optionally filtered.
   */
  ListRuns(argument: _ntksidecar_v1_ListRunsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_ListRunsResponse__Output>): grpc.ClientUnaryCall;
  ListRuns(argument: _ntksidecar_v1_ListRunsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ntksidecar_v1_ListRunsResponse__Output>): grpc.ClientUnaryCall;
  ListRuns(argument: _ntksidecar_v1_ListRunsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_ListRunsResponse__Output>): grpc.ClientUnaryCall;
  ListRuns(argument: _ntksidecar_v1_ListRunsRequest, callback: grpc.requestCallback<_ntksidecar_v1_ListRunsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Runs known to this sidecar, optionally filtered.
   */
  listRuns(argument: _ntksidecar_v1_ListRunsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_ListRunsResponse__Output>): grpc.ClientUnaryCall;
  listRuns(argument: _ntksidecar_v1_ListRunsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ntksidecar_v1_ListRunsResponse__Output>): grpc.ClientUnaryCall;
  listRuns(argument: _ntksidecar_v1_ListRunsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ntksidecar_v1_ListRunsResponse__Output>): grpc.ClientUnaryCall;
  listRuns(argument: _ntksidecar_v1_ListRunsRequest, callback: grpc.requestCallback<_ntksidecar_v1_ListRunsResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface NtkSidecarHandlers extends grpc.UntypedServiceImplementation {
  /**
   * One stream per run: RunStart, snapshots and scalars in; RunAccepted, acks and decisions out.
   */
  Attach: grpc.handleBidiStreamingCall<_ntksidecar_v1_TrainerMessage__Output, _ntksidecar_v1_SidecarMessage>;
  
  /**
   * Latest decision of a run (by run_id) or of a job (by job_id: one decision for all ranks).
   */
  CheckStop: grpc.handleUnaryCall<_ntksidecar_v1_CheckStopRequest__Output, _ntksidecar_v1_Decision>;
  
  /**
   * Marks a run finished; its metric series are removed.
   */
  EndRun: grpc.handleUnaryCall<_ntksidecar_v1_EndRunRequest__Output, _ntksidecar_v1_EndRunResponse>;
  
  /**
   * Latest analysis of a run and a summary of its decisions.
   */
  GetRun: grpc.handleUnaryCall<_ntksidecar_v1_GetRunRequest__Output, _ntksidecar_v1_RunReport>;
  
  /**
   * Runs known to this sidecar, optionally filtered.
   */
  ListRuns: grpc.handleUnaryCall<_ntksidecar_v1_ListRunsRequest__Output, _ntksidecar_v1_ListRunsResponse>;
  
}

export interface NtkSidecarDefinition extends grpc.ServiceDefinition {
  Attach: MethodDefinition<_ntksidecar_v1_TrainerMessage, _ntksidecar_v1_SidecarMessage, _ntksidecar_v1_TrainerMessage__Output, _ntksidecar_v1_SidecarMessage__Output>
  CheckStop: MethodDefinition<_ntksidecar_v1_CheckStopRequest, _ntksidecar_v1_Decision, _ntksidecar_v1_CheckStopRequest__Output, _ntksidecar_v1_Decision__Output>
  EndRun: MethodDefinition<_ntksidecar_v1_EndRunRequest, _ntksidecar_v1_EndRunResponse, _ntksidecar_v1_EndRunRequest__Output, _ntksidecar_v1_EndRunResponse__Output>
  GetRun: MethodDefinition<_ntksidecar_v1_GetRunRequest, _ntksidecar_v1_RunReport, _ntksidecar_v1_GetRunRequest__Output, _ntksidecar_v1_RunReport__Output>
  ListRuns: MethodDefinition<_ntksidecar_v1_ListRunsRequest, _ntksidecar_v1_ListRunsResponse, _ntksidecar_v1_ListRunsRequest__Output, _ntksidecar_v1_ListRunsResponse__Output>
}
