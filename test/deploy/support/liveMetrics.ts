/**
 * What a real sidecar exports, read from a live /metrics (never from a list kept by hand): metric families with
 * their type and the label names seen on their samples.
 */
import { startTestServer, type TestServer } from '../../support/startTestServer.js';
import { streamSyntheticRuns, SYNTHETIC_POLICY, type SyntheticRuns } from './syntheticRun.js';

export interface MetricFamily {
  name: string;
  type: string;
  /** Label names seen on this family's samples (empty when it has none yet). */
  labelNames: Set<string>;
  /** Label name → the values seen on this family's samples. */
  labelValues: Map<string, Set<string>>;
  samples: number;
}

export interface Exposition {
  text: string;
  families: Map<string, MetricFamily>;
  /** Series name as written in PromQL (histogram `_bucket`, `_sum`, `_count`) → its family. */
  seriesNames: Map<string, MetricFamily>;
  /** Every label name on any sample. */
  labelNames: Set<string>;
}

/** Labels Prometheus attaches at scrape time (deploy/prometheus relabeling, Prometheus Operator monitors). */
export const TARGET_LABELS = new Set(['job', 'instance', 'namespace', 'pod', 'container', 'service', 'endpoint']);

/** Series Prometheus writes itself for every target; rules and dashboards may query them. */
export const SCRAPE_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);

const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

/** Parses the Prometheus text format as prom-client writes it (HELP/TYPE for every family, then samples). */
export function parseExposition(text: string): Exposition {
  const families = new Map<string, MetricFamily>();
  const seriesNames = new Map<string, MetricFamily>();
  const labelNames = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      const family: MetricFamily = { name: type[1], type: type[2], labelNames: new Set(), labelValues: new Map(), samples: 0 };
      families.set(family.name, family);
      for (const suffix of SUFFIXES[family.type] ?? ['']) seriesNames.set(family.name + suffix, family);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+/.exec(line);
    if (!sample) throw new Error(`unparseable exposition line: ${line}`);
    const family = seriesNames.get(sample[1]);
    if (!family) throw new Error(`sample ${sample[1]} has no # TYPE line`);
    family.samples++;
    for (const m of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      family.labelNames.add(m[1]);
      labelNames.add(m[1]);
      const values = family.labelValues.get(m[1]) ?? new Set<string>();
      values.add(JSON.parse(`"${m[2]}"`) as string);
      family.labelValues.set(m[1], values);
    }
  }
  return { text, families, seriesNames, labelNames };
}

export interface LiveSidecar {
  server: TestServer;
  runs: SyntheticRuns;
  scrape(): Promise<Exposition>;
  stop(): Promise<void>;
}

/** A real sidecar on 127.0.0.1 with the synthetic runs attached (their per-run series exist until stop()). */
export async function startLiveSidecar(): Promise<LiveSidecar> {
  const server = await startTestServer(() => undefined, { policyDocument: SYNTHETIC_POLICY });
  let runs: SyntheticRuns;
  try {
    runs = await streamSyntheticRuns(server.grpcTarget);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    server,
    runs,
    async scrape() {
      const res = await fetch(server.metricsUrl);
      if (res.status !== 200) throw new Error(`GET ${server.metricsUrl} answered ${res.status}`);
      return parseExposition(await res.text());
    },
    async stop() {
      await runs.close();
      await server.stop();
    },
  };
}
