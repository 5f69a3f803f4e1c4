import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, envName, parseAddress, resolveConfig } from '../../src/config/config.js';

describe('config', () => {
  it('has the defaults of docs/design.md §4', () => {
    const c = resolveConfig({});
    expect(c).toMatchObject({ grpcAddr: '127.0.0.1:50051', metricsAddr: '127.0.0.1:9464', dataDir: './ntk-sidecar-data', backend: 'auto' });
    expect(c.limits.maxReceiveBytes).toBe(16 * 1024 * 1024);
    expect(c).toEqual(defaultConfig());
  });

  it('layers file < env < flags', () => {
    const c = resolveConfig({
      file: { path: 'sidecar.yaml', values: { maxRows: 100, grpcAddr: '127.0.0.1:1', topK: 8 } },
      env: { [envName('max-rows')]: '200', [envName('grpc-addr')]: '127.0.0.1:2', UNRELATED: 'x' },
      flags: { 'max-rows': '300' },
    });
    expect(c.limits.maxRows).toBe(300);
    expect(c.grpcAddr).toBe('127.0.0.1:2');
    expect(c.topK).toBe(8);
    expect(envName('max-active-runs')).toBe('NTK_SIDECAR_MAX_ACTIVE_RUNS');
  });

  it('fails fast with the source, the flag and the value', () => {
    expect(() => resolveConfig({ flags: { 'max-rows': '12x' } })).toThrow(/flags: --max-rows="12x" is not a non-negative integer/);
    expect(() => resolveConfig({ env: { NTK_SIDECAR_BACKEND: 'cuda' } })).toThrow(/environment: --backend="cuda": choose auto, gpujs, wasm, reference/);
    expect(() => resolveConfig({ file: { path: 'c.json', values: { maxRowz: 1 } } })).toThrow(/c\.json: unknown key "maxRowz"/);
    expect(() => resolveConfig({ flags: { 'grpc-addr': 'localhost' } })).toThrow(ConfigError);
    expect(() => resolveConfig({ flags: { 'max-chunk-bytes': String(16 * 1024 * 1024) } })).toThrow(/at most --max-receive-bytes − 1024 = 16776192/);
    expect(() => resolveConfig({ flags: { 'max-rows': '40000' } })).toThrow(/11\.9 GiB/);
    expect(() => resolveConfig({ flags: { 'tls-cert': 'a.pem' } })).toThrow(/together/);
    expect(() => resolveConfig({ flags: { 'top-k': '4096' } })).toThrow(/--top-k=4096 must not exceed --exact-max=2048/);
  });

  it('parses IPv4, IPv6 and host names with ports', () => {
    expect(parseAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseAddress('[::1]:50051')).toEqual({ host: '::1', port: 50051 });
    expect(parseAddress('sidecar.local:9464')).toEqual({ host: 'sidecar.local', port: 9464 });
    expect(parseAddress('127.0.0.1:70000')).toBeUndefined();
    expect(parseAddress('::1:5')).toBeUndefined();
  });
});
