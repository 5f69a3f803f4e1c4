/** Package entry: the TypeScript client, the embeddable server, and the wire types generated from the proto. */
export { NtkSidecarClient, AttachedRun, tensorChunks, DEFAULT_CHUNK_BYTES } from './client/ntkSidecarClient.js';
export type { ClientOptions, SnapshotInput, SnapshotResult, TensorInput } from './client/ntkSidecarClient.js';
export { startSidecarServer } from './server/sidecarServer.js';
export type { SidecarServer, SidecarServerOptions } from './server/sidecarServer.js';
export { defaultConfig, resolveConfig, type Config } from './config/config.js';
export { Code, SidecarError } from './errors.js';
export { PROTO_PATH } from './protoDefinition.js';
export type { Decision__Output as Decision } from './gen/ntksidecar/v1/Decision.js';
export type { RunStart } from './gen/ntksidecar/v1/RunStart.js';
export type { RunReport__Output as RunReport } from './gen/ntksidecar/v1/RunReport.js';
export type { SnapshotAck__Output as SnapshotAck } from './gen/ntksidecar/v1/SnapshotAck.js';
