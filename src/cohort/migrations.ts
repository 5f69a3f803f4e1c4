/**
 * Schema of the PostgreSQL cohort store. Migrations are applied in order, each in its own transaction under an
 * advisory lock (several sidecars may start at once), and recorded in ntk_cohort_schema. Never edit a released
 * migration: append a new one.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const SCHEMA_TABLE = 'ntk_cohort_schema';
/** pg_advisory_xact_lock key of the migrations ("ntkcohrt" as an int8). */
export const MIGRATION_LOCK = 0x6e746b636f687274n;
/** LISTEN/NOTIFY channel of latched STOPs; the payload is {"cohort": …, "run_id": …}. */
export const STOP_CHANNEL = 'ntk_cohort_stop';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'rung values, run progress, latched STOPs with NOTIFY',
    sql: `
      CREATE TABLE ntk_cohort_rung_values (
        cohort      text             NOT NULL,
        run_id      text             NOT NULL,
        rung        double precision NOT NULL,
        value       double precision NOT NULL,
        predicted   double precision,
        step        double precision NOT NULL,
        compute     double precision NOT NULL,
        recorded_at timestamptz      NOT NULL DEFAULT now(),
        PRIMARY KEY (cohort, rung, run_id)
      );
      CREATE INDEX ntk_cohort_rung_values_run ON ntk_cohort_rung_values (cohort, run_id, rung);
      CREATE TABLE ntk_cohort_runs (
        cohort     text             NOT NULL,
        run_id     text             NOT NULL,
        step       double precision NOT NULL,
        compute    double precision NOT NULL,
        updated_at timestamptz      NOT NULL DEFAULT now(),
        PRIMARY KEY (cohort, run_id)
      );
      CREATE TABLE ntk_cohort_stops (
        cohort     text        NOT NULL,
        run_id     text        NOT NULL,
        rule_index integer     NOT NULL,
        rule       text        NOT NULL,
        detail     text        NOT NULL,
        evidence   jsonb       NOT NULL,
        step       double precision NOT NULL,
        decided_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (cohort, run_id)
      );
      CREATE FUNCTION ntk_cohort_stop_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${STOP_CHANNEL}', json_build_object('cohort', NEW.cohort, 'run_id', NEW.run_id)::text);
        RETURN NEW;
      END $$;
      CREATE TRIGGER ntk_cohort_stop_notify AFTER INSERT ON ntk_cohort_stops
        FOR EACH ROW EXECUTE FUNCTION ntk_cohort_stop_notify();
    `,
  },
  {
    version: 2,
    description: 'each run\'s latest rung value in ntk_cohort_runs (budget standing without a probe per peer)',
    sql: `
      ALTER TABLE ntk_cohort_runs ADD COLUMN last_rung double precision, ADD COLUMN last_value double precision;
      UPDATE ntk_cohort_runs r SET (last_rung, last_value) = (
        SELECT v.rung, v.value FROM ntk_cohort_rung_values v
        WHERE v.cohort = r.cohort AND v.run_id = r.run_id ORDER BY v.rung DESC LIMIT 1);
    `,
  },
];
