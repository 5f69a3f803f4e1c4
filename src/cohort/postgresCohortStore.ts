/**
 * Cohort state shared through PostgreSQL (`serve --cohort-store postgres://…`), for sidecars on several machines.
 *
 * - Tables from src/cohort/migrations.ts, applied lazily on first use under an advisory lock (a sidecar starts even
 *   while the database is down; it fails open and migrates when the database answers).
 * - Exact statistics in SQL: percentile_cont for the median, the k-th best by row number, sums in run-id order —
 *   the same arithmetic as MemoryCohortStore, so both reach the same decisions.
 * - STOP latches propagate by LISTEN/NOTIFY (a trigger notifies on insert). While the listener is connected, the
 *   latches of a cohort are served from a small local cache (≤ MAX_CACHED_COHORTS cohorts) with no query; when it
 *   is not, every stopOf asks the database.
 * - Every query is bounded (connect and query timeouts), so a lost database costs a bounded wait, never a hang.
 */
import pg from 'pg';
import type { BudgetStanding, RungStats, RungStatsQuery, RungValue } from '../policy/cohort.js';
import type { CohortStore, LatchedStop } from './cohortStore.js';
import { MIGRATIONS, MIGRATION_LOCK, SCHEMA_TABLE, STOP_CHANNEL } from './migrations.js';

const MAX_CACHED_COHORTS = 256;

export interface PostgresCohortStoreOptions {
  /** Connect timeout and per-query timeout in milliseconds (default 2000). */
  timeoutMs?: number;
  /** Pool size (default 4). */
  maxConnections?: number;
  /** Delay before the listener reconnects after losing the database (default 1000 ms). */
  listenRetryMs?: number;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

/** Evidence numbers as JSON: NaN and ±Infinity as strings (JSON has no such numbers). */
function encodeEvidence(e: Record<string, number>): string {
  return JSON.stringify(e, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}
function decodeEvidence(e: Record<string, number | string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(e)) out[k] = Number(v);
  return out;
}

interface StopRow {
  cohort: string;
  run_id: string;
  rule_index: number;
  rule: string;
  detail: string;
  evidence: Record<string, number | string>;
  step: number;
}
const stopOfRow = (r: StopRow): LatchedStop => ({
  cohort: r.cohort,
  runId: r.run_id,
  ruleIndex: r.rule_index,
  rule: r.rule,
  detail: r.detail,
  evidence: decodeEvidence(r.evidence),
  step: r.step,
});

/** Redacts the password of a connection URL for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable url)';
  }
}

export class PostgresCohortStore implements CohortStore {
  readonly describe: string;
  private readonly pool: pg.Pool;
  private migrated: Promise<void> | undefined;
  private readonly listeners = new Set<(stop: LatchedStop) => void>();
  private listener: pg.Client | undefined;
  private listening = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Latched STOPs by cohort; a cohort here is complete while the listener is connected. */
  private readonly cache = new Map<string, Map<string, LatchedStop>>();
  private readonly log: NonNullable<PostgresCohortStoreOptions['log']>;

  constructor(
    private readonly url: string,
    private readonly opts: PostgresCohortStoreOptions = {},
  ) {
    this.describe = redactUrl(url);
    this.log = opts.log ?? (() => undefined);
    const timeout = opts.timeoutMs ?? 2000;
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.maxConnections ?? 4,
      connectionTimeoutMillis: timeout,
      query_timeout: timeout,
      idleTimeoutMillis: 10_000,
      application_name: 'ntk-sidecar cohort store',
    });
    // An idle client loses its connection when the server goes away: that is a fail-open event, not a crash.
    this.pool.on('error', (err) => this.log('warn', `cohort store ${this.describe}: idle connection lost: ${err.message}`));
  }

  /** Starts the STOP listener (in the background; the store works without it, only with more queries). */
  start(): this {
    void this.listen();
    return this;
  }

  private async ready(): Promise<void> {
    this.migrated ??= this.migrate().catch((err: unknown) => {
      this.migrated = undefined; // try again on the next call
      throw err;
    });
    return this.migrated;
  }

  /** Applies the pending migrations; returns the schema version. */
  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
      await client.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA_TABLE} (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${SCHEMA_TABLE}`);
      const current = rows[0]?.v ?? 0;
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        await client.query(m.sql);
        await client.query(`INSERT INTO ${SCHEMA_TABLE} (version, description) VALUES ($1, $2)`, [m.version, m.description]);
        this.log('info', `cohort store ${this.describe}: applied migration ${m.version} (${m.description})`);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async schemaVersion(): Promise<number> {
    await this.ready();
    const { rows } = await this.pool.query<{ v: number }>(`SELECT max(version) AS v FROM ${SCHEMA_TABLE}`);
    return rows[0].v;
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    await this.ready();
    return (await this.pool.query<R>(text, values)).rows;
  }

  /**
   * The run's latest rung value is kept in ntk_cohort_runs (last_rung, last_value) as it is recorded: the budget
   * standing reads it instead of probing every peer's rung values (first write wins there too).
   */
  async record(v: RungValue): Promise<void> {
    await this.query(
      `WITH ins AS (
         INSERT INTO ntk_cohort_rung_values (cohort, run_id, rung, value, predicted, step, compute)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING rung, value)
       INSERT INTO ntk_cohort_runs AS r (cohort, run_id, step, compute, last_rung, last_value)
       VALUES ($1, $2, $6, $7, (SELECT rung FROM ins), (SELECT value FROM ins))
       ON CONFLICT (cohort, run_id) DO UPDATE SET step = greatest(r.step, EXCLUDED.step), compute = greatest(r.compute, EXCLUDED.compute), updated_at = now(),
         last_rung = CASE WHEN EXCLUDED.last_rung > coalesce(r.last_rung, '-Infinity'::float8) THEN EXCLUDED.last_rung ELSE r.last_rung END,
         last_value = CASE WHEN EXCLUDED.last_rung > coalesce(r.last_rung, '-Infinity'::float8) THEN EXCLUDED.last_value ELSE r.last_value END`,
      [v.cohort, v.runId, v.rung, v.value, v.predicted ?? null, v.step, v.compute],
    );
  }

  async progress(cohort: string, runId: string, step: number, compute: number): Promise<void> {
    await this.query(
      `INSERT INTO ntk_cohort_runs AS r (cohort, run_id, step, compute) VALUES ($1, $2, $3, $4)
       ON CONFLICT (cohort, run_id) DO UPDATE SET step = greatest(r.step, EXCLUDED.step), compute = greatest(r.compute, EXCLUDED.compute), updated_at = now()`,
      [cohort, runId, step, compute],
    );
  }

  async rungValues(cohort: string, rung: number): Promise<RungValue[]> {
    const rows = await this.query<{ run_id: string; value: number; predicted: number | null; step: number; compute: number }>(
      `SELECT run_id, value, predicted, step, compute FROM ntk_cohort_rung_values WHERE cohort = $1 AND rung = $2 ORDER BY run_id COLLATE "C"`,
      [cohort, rung],
    );
    return rows.map((r) => ({ cohort, runId: r.run_id, rung, value: r.value, predicted: r.predicted ?? undefined, step: r.step, compute: r.compute }));
  }

  async rungStats(q: RungStatsQuery): Promise<RungStats> {
    const column = q.metric === 'value' ? 'value' : 'predicted';
    const order = q.lowerIsBetter ? 'ASC' : 'DESC';
    const k = q.kth === undefined ? null : 'k' in q.kth ? q.kth.k : null;
    const eta = q.kth !== undefined && 'eta' in q.kth ? q.kth.eta : null;
    const rows = await this.query<{ n: number; quantile: number | null; k: number | null; kth: number | null }>(
      `WITH f AS (
         SELECT ${column} AS x FROM ntk_cohort_rung_values
         WHERE cohort = $1 AND rung = $2 AND run_id IS DISTINCT FROM $3
           AND ${column} IS NOT NULL AND ${column} NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)),
       n AS (SELECT count(*)::int AS n FROM f),
       kk AS (SELECT CASE WHEN $5::int IS NOT NULL THEN $5::int
                          WHEN $6::int IS NOT NULL THEN greatest(1, n.n / $6::int) END AS k FROM n)
       SELECT n.n,
              (SELECT percentile_cont($4::float8) WITHIN GROUP (ORDER BY x) FROM f) AS quantile,
              kk.k,
              (SELECT x FROM (SELECT x, row_number() OVER (ORDER BY x ${order}) AS i FROM f) ranked WHERE i = kk.k) AS kth
       FROM n, kk`,
      [q.cohort, q.rung, q.excludeRun ?? null, q.quantile ?? 0.5, k, eta],
    );
    const r = rows[0];
    const out: RungStats = { peers: r.n };
    if (q.quantile !== undefined && r.quantile !== null) out.quantile = r.quantile;
    if (r.k !== null) {
      out.k = r.k;
      if (r.kth !== null) out.kthBest = r.kth;
    }
    return out;
  }

  /**
   * A run's standing from the runs table (each run's latest rung value) plus at most two rungs' rows: a run records a
   * value at every rung from its first observed one upward (crossRungs), so the highest rung a peer shares with this
   * run is the lower of their latest rungs — the peer's latest value when it is behind, its value at this run's
   * latest rung when it is ahead. The same answer as budgetStandingOf (the memory store's twin) in O(runs), with no
   * probe per peer.
   */
  async budgetStanding(cohort: string, runId: string, lowerIsBetter: boolean): Promise<BudgetStanding> {
    const beats = lowerIsBetter ? 'c.value < m.value' : 'c.value > m.value';
    const rows = await this.query<{ spent: number; active: number; better: number; ranked: boolean; ranked_peers: number }>(
      `WITH runs AS (
         SELECT r.run_id, r.compute, r.last_rung, r.last_value, (s.run_id IS NOT NULL) AS stopped
         FROM ntk_cohort_runs r LEFT JOIN ntk_cohort_stops s ON s.cohort = r.cohort AND s.run_id = r.run_id
         WHERE r.cohort = $1),
       me AS (SELECT last_rung FROM runs WHERE run_id = $2 AND last_rung IS NOT NULL),
       peers AS (SELECT run_id, last_rung, last_value FROM runs WHERE NOT stopped AND run_id <> $2 AND last_rung IS NOT NULL),
       common AS (
         SELECT p.run_id, p.last_rung AS rung, p.last_value AS value FROM peers p, me WHERE p.last_rung <= me.last_rung
         UNION ALL
         SELECT v.run_id, v.rung, v.value FROM ntk_cohort_rung_values v JOIN peers p ON p.run_id = v.run_id, me
         WHERE v.cohort = $1 AND v.rung = me.last_rung AND p.last_rung > me.last_rung),
       mine AS (
         SELECT v.rung, v.value FROM ntk_cohort_rung_values v
         WHERE v.cohort = $1 AND v.run_id = $2 AND v.rung IN (SELECT DISTINCT rung FROM common))
       SELECT
         (SELECT coalesce(sum(compute ORDER BY run_id COLLATE "C"), 0) FROM runs)::float8 AS spent,
         (SELECT count(*) FROM runs WHERE NOT stopped)::int AS active,
         (SELECT count(*) FROM common c JOIN mine m ON m.rung = c.rung
          WHERE c.value <> 'NaN'::float8 AND (m.value = 'NaN'::float8 OR ${beats}))::int AS better,
         EXISTS (SELECT 1 FROM me) AS ranked,
         (SELECT count(*) FROM peers)::int AS ranked_peers`,
      [cohort, runId],
    );
    const r = rows[0];
    return { spent: r.spent, active: r.active, better: r.better, ranked: r.ranked, rankedPeers: r.ranked_peers };
  }

  async latchStop(stop: LatchedStop): Promise<LatchedStop> {
    const inserted = await this.query<StopRow>(
      `INSERT INTO ntk_cohort_stops (cohort, run_id, rule_index, rule, detail, evidence, step)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) ON CONFLICT DO NOTHING
       RETURNING cohort, run_id, rule_index, rule, detail, evidence, step`,
      [stop.cohort, stop.runId, stop.ruleIndex, stop.rule, stop.detail, encodeEvidence(stop.evidence), stop.step],
    );
    const held = inserted[0] ? stopOfRow(inserted[0]) : await this.fetchStop(stop.cohort, stop.runId);
    if (!held) throw new Error(`latch of run "${stop.runId}" neither inserted nor found`);
    this.cacheStop(held);
    return held;
  }

  private async fetchStop(cohort: string, runId: string): Promise<LatchedStop | undefined> {
    const rows = await this.query<StopRow>(
      'SELECT cohort, run_id, rule_index, rule, detail, evidence, step FROM ntk_cohort_stops WHERE cohort = $1 AND run_id = $2',
      [cohort, runId],
    );
    return rows[0] && stopOfRow(rows[0]);
  }

  private cacheStop(stop: LatchedStop): void {
    this.cache.get(stop.cohort)?.set(stop.runId, stop);
  }

  async stopOf(cohort: string, runId: string): Promise<LatchedStop | undefined> {
    const known = this.cache.get(cohort);
    const hit = known?.get(runId);
    if (hit) return { ...hit };
    if (known && this.listening) return undefined; // complete while the listener is connected
    const all = await this.stops(cohort);
    return all.find((s) => s.runId === runId);
  }

  async stops(cohort: string): Promise<LatchedStop[]> {
    const listeningBefore = this.listening;
    const rows = await this.query<StopRow>(
      'SELECT cohort, run_id, rule_index, rule, detail, evidence, step FROM ntk_cohort_stops WHERE cohort = $1 ORDER BY run_id COLLATE "C"',
      [cohort],
    );
    const stops = rows.map(stopOfRow);
    if (listeningBefore && this.listening) {
      // LISTEN was active before the read: every later latch arrives by NOTIFY, so the cohort is now complete here.
      if (!this.cache.has(cohort) && this.cache.size >= MAX_CACHED_COHORTS) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(cohort, new Map(stops.map((s) => [s.runId, s])));
    }
    return stops;
  }

  subscribe(listener: (stop: LatchedStop) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.opts.timeoutMs ?? 2000, application_name: 'ntk-sidecar cohort listener' });
    const lost = (why: string) => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.listening = false;
      this.cache.clear(); // latches may be missed while not listening: no cohort is complete any more
      void client.end().catch(() => undefined);
      if (this.closed) return;
      this.log('warn', `cohort store ${this.describe}: STOP listener lost (${why}); retrying`);
      this.retryTimer = setTimeout(() => void this.listen(), this.opts.listenRetryMs ?? 1000);
      this.retryTimer.unref();
    };
    this.listener = client;
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('connection ended'));
    client.on('notification', (msg) => {
      if (msg.channel !== STOP_CHANNEL || !msg.payload) return;
      const { cohort, run_id: runId } = JSON.parse(msg.payload) as { cohort: string; run_id: string };
      this.fetchStop(cohort, runId).then(
        (stop) => {
          if (!stop) return;
          this.cacheStop(stop);
          for (const fn of this.listeners) fn({ ...stop });
        },
        (err: unknown) => this.log('warn', `cohort store ${this.describe}: cannot read the STOP of run "${runId}": ${(err as Error).message}`),
      );
    });
    try {
      await client.connect();
      await this.ready();
      await client.query(`LISTEN ${STOP_CHANNEL}`);
      if (this.listener === client) this.listening = true;
    } catch (err) {
      lost((err as Error).message);
    }
  }

  /** Whether STOPs of other sidecars arrive by NOTIFY right now. */
  get isListening(): boolean {
    return this.listening;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const l = this.listener;
    this.listener = undefined;
    this.listening = false;
    this.listeners.clear();
    await l?.end().catch(() => undefined);
    await this.pool.end();
  }
}
