/**
 * The run pages over HTTP against the real sidecar (issue 16) — routes, bearer token, --ui off, escaping — and the
 * CLI pictures: `replay RECORDING --svg` of a recorded run that STOPs, `analyze FILE --svg` of a saved Jacobian.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { analyzeCommand } from '../../src/cli/analyzeCommand.js';
import { replayCommand } from '../../src/cli/replayCommand.js';
import { encodeNpy } from '../../src/cli/npy.js';
import { readRecording } from '../../src/record/runRecorder.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import { POWER_LAW, streamPowerLawRun, streamStoppingRun } from './scriptedRuns.js';
import { textSink as sink } from '../support/testIo.js';

const EVIL = '<script>alert(1)</script>';
let server: TestServer;
let client: NtkSidecarClient;
let base: string;
let dir: string;
let stopStep: number;
let shadowStop: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ntk-ui-'));
  server = await startTestServer(
    (c) => {
      c.recordDir = dir;
    },
    { policyDocument: { policies: { shadow: { enforced: false } } } },
  );
  base = server.server.metricsUrl!;
  client = new NtkSidecarClient(server.grpcTarget);
  stopStep = await streamStoppingRun(client, 'lazy-linear');
  await streamPowerLawRun(client, EVIL, { finish: true });
  shadowStop = await streamStoppingRun(client, 'shadowed', { policy: 'shadow', finish: false });
});
afterAll(async () => {
  client?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});


describe('run pages on the metrics port', () => {
  it('lists the runs with their decision, reason and regime, escaped', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'sha256-/);
    const html = await res.text();
    expect(html).toMatch(/<tr class="run" data-run-id="lazy-linear">/);
    expect(html).toContain('REASON_KESS_REACHED');
    expect(html).toContain('lazy'); // regime
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html.match(/<script>/g)).toHaveLength(1); // only the page's refresh script
    expect(html).toContain(`href="/runs/${encodeURIComponent(EVIL)}"`);
    const fragment = await (await fetch(`${base}/?fragment=1`)).text();
    expect(fragment).toMatch(/^<p>3 run\(s\)/);
  });

  it('shows a run with its charts and the STOP', async () => {
    const html = await (await fetch(`${base}/runs/lazy-linear`)).text();
    for (const chart of ['spectrum', 'loss', 'timeline', 'generalization', 'drift', 'alignment']) expect(html).toContain(`data-chart="${chart}"`);
    expect(html).toMatch(new RegExp(`<g class="stop-marker" data-step="${stopStep}">`));
    expect(html).toContain('kess-marker');
    const evil = await (await fetch(`${base}/runs/${encodeURIComponent(EVIL)}`)).text();
    expect(evil).toContain('<h1>Run <span id="title-id">&lt;script&gt;alert(1)&lt;/script&gt;</span></h1>');
    expect(evil.match(/<script>/g)).toHaveLength(1);
    expect(evil.match(/class="pt eigen kernel-full"/g)).toHaveLength(POWER_LAW.length);
    expect(evil).toMatch(/class="line fit kernel-full"/);
    expect(evil).toContain('s = 1.5');
  });

  it('shows shadow-mode savings and the would-be STOP', async () => {
    const html = await (await fetch(`${base}/runs/shadowed?fragment=1`)).text();
    expect(html).not.toContain('<html');
    expect(html).toContain(`<span id="shadow">would have stopped at step ${shadowStop}: 0 steps`);
    expect(html).toMatch(new RegExp(`<g class="stop-marker" data-step="${shadowStop}">.*?would STOP @ ${shadowStop}<`));
    const report = await client.getRun('shadowed');
    expect(report.would_stop_step).toBe(shadowStop);
  });

  it('answers unknown runs and bad paths', async () => {
    const missing = await fetch(`${base}/runs/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('<code>nope</code>');
    expect((await fetch(`${base}/runs/%E0%A4%A`)).status).toBe(400);
  });
});

describe('auth and --ui off', () => {
  it('wants the same bearer token as /metrics (either token)', async () => {
    const s = await startTestServer((c) => {
      c.authToken = 'secret';
      c.readOnlyToken = 'reader';
    });
    try {
      const url = s.server.metricsUrl!;
      for (const path of ['/', '/runs/x', '/?fragment=1', '/metrics']) {
        const res = await fetch(`${url}${path}`);
        expect(res.status, path).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
      expect((await fetch(`${url}/`, { headers: { authorization: 'Bearer reader' } })).status).toBe(200);
      expect((await fetch(`${url}/`, { headers: { authorization: 'Bearer secret' } })).status).toBe(200);
      expect((await fetch(`${url}/`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('serves no page with --ui off', async () => {
    const s = await startTestServer((c) => {
      c.ui = false;
    });
    try {
      const res = await fetch(`${s.server.metricsUrl!}/`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('run pages');
      expect((await fetch(`${s.server.metricsUrl!}/runs/x`)).status).toBe(404);
      expect((await fetch(s.metricsUrl)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});

describe('CLI pictures', () => {
  it('replay RECORDING --svg draws the loss, the decisions and the STOP', async () => {
    const path = join(dir, `${encodeURIComponent('lazy-linear')}.ntkrec.jsonl.gz`);
    for (let i = 0; ; i++) {
      try {
        if (readRecording(path).events.some((e) => e.type === 'snapshot' && e.step === stopStep)) break;
      } catch (err) {
        if (i > 100) throw err;
      }
      if (i > 100) throw new Error(`recording ${path} never reached step ${stopStep}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const out = join(dir, 'replay.svg');
    const text = sink();
    expect(replayCommand([path, '--svg', out], text.stream)).toBe(0);
    expect(text.text()).toContain(`stops at step ${stopStep}`);
    const svg = readFileSync(out, 'utf8');
    expect(svg).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('data-chart="loss"');
    expect(svg).toContain('data-chart="timeline"');
    expect(svg.match(new RegExp(`<g class="stop-marker" data-step="${stopStep}">`, 'g'))).toHaveLength(2); // loss and timeline
    expect(svg).toContain('REASON_KESS_REACHED');
    expect(svg).toContain('kess-marker');
  });

  it('analyze FILE --svg draws the spectrum with its fitted decay', async () => {
    const n = POWER_LAW.length;
    const J = new Float64Array(n * n);
    POWER_LAW.forEach((l, i) => (J[i * n + i] = Math.sqrt(l)));
    const npy = join(dir, 'jac.npy');
    writeFileSync(npy, encodeNpy([n, n], J));
    const out = join(dir, 'spectrum.svg');
    const o = sink();
    const e = sink();
    expect(await analyzeCommand([npy, '--kind', 'jacobian', '--backend', 'reference', '--svg', out], o.stream, e.stream), e.text()).toBe(0);
    const svg = readFileSync(out, 'utf8');
    expect(svg).toContain('data-chart="spectrum"');
    expect(svg.match(/class="pt eigen kernel-full"/g)).toHaveLength(n);
    expect(svg).toMatch(/class="line fit kernel-full"/);
    expect(svg).toContain('s = 1.5');
    const bad = sink();
    expect(await analyzeCommand([npy, '--kind', 'jacobian', '--backend', 'reference', '--svg', join(dir, 'no', 'such', 'dir.svg')], sink().stream, bad.stream)).toBe(2);
    expect(bad.text()).toMatch(/cannot write --svg/);
  });
});
