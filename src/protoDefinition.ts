/** Where the wire contract lives and how it is loaded, shared by the server and the TypeScript client. */
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

/** proto/ sits one level above both src/ and dist/. */
export const PROTO_PATH = fileURLToPath(new URL('../proto/ntksidecar/v1/sidecar.proto', import.meta.url));

/** Must match the flags of `npm run gen` so the generated types describe what the loader produces. */
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

export function loadPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
}
