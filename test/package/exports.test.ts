/** The built package exports a working client: build with tsc, import dist/index.js, talk to a real server. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../support/startTestServer.js';

describe('package exports', () => {
  it('builds, and dist/index.js exports a client that talks to the sidecar', async () => {
    execFileSync(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'pipe' });
    const entry = resolve('dist/index.js');
    expect(existsSync(entry)).toBe(true);
    expect(existsSync(resolve('dist/worker/computeWorker.js'))).toBe(true);
    const pkg = (await import(pathToFileURL(entry).href)) as typeof import('../../src/index.js');
    expect(Object.keys(pkg)).toEqual(expect.arrayContaining(['NtkSidecarClient', 'startSidecarServer', 'tensorChunks', 'Code', 'PROTO_PATH']));
    const server = await startTestServer();
    const client = new pkg.NtkSidecarClient(server.grpcTarget);
    try {
      const run = client.attach({ run_id: 'pkg', probe: { num_samples: 2, num_outputs: 1 } });
      expect((await run.accepted).run_id).toBe('pkg');
      const res = await run.sendSnapshot({ id: 1, step: 1, trainLoss: 1, tensors: [{ kind: 'TENSOR_KIND_GRAM', rows: 2, cols: 2, data: Float64Array.of(2, 1, 1, 2) }] });
      expect(res.ack.accepted).toBe(true);
      expect((await client.getRun('pkg')).latest!.spectra[0].eigenvalues).toEqual([3, 1]);
      await run.finish();
    } finally {
      client.close();
      await server.stop();
    }
  });
});
