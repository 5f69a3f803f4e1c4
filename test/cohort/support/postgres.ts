/**
 * A real PostgreSQL for a test: initdb in a temp dir, pg_ctl on 127.0.0.1 and a free port, trust auth for the
 * user "ntk". Binaries from /usr/lib/postgresql/15/bin (Debian postgresql-15; scripts/setup-test-deps.sh installs
 * it) or $NTK_PG_BIN. Run as root, the cluster runs as the "postgres" system user (PostgreSQL refuses root).
 * `postgresBinaries()` is undefined when the binaries are absent: suites then skip LOUDLY.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function postgresBinaries(): string | undefined {
  const dir = process.env.NTK_PG_BIN ?? '/usr/lib/postgresql/15/bin';
  return existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')) ? dir : undefined;
}

export const SKIP_REASON =
  'PostgreSQL binaries not found (/usr/lib/postgresql/15/bin or $NTK_PG_BIN): the PostgreSQL cohort store tests are SKIPPED. Install with: sudo bash scripts/setup-test-deps.sh';

/** Prints the skip reason once per suite, to stderr, so that a skip is never silent. */
export function warnIfSkipped(): void {
  if (!postgresBinaries()) process.stderr.write(`\n*** ${SKIP_REASON} ***\n\n`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestPostgres {
  url: string;
  port: number;
  dataDir: string;
  /** Kills the server at once (pg_ctl stop -m immediate): a crash as clients see it. */
  kill(): void;
  /** Starts it again on the same port and data directory. */
  restart(): void;
  /** Stops it and removes the directory. */
  destroy(): void;
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinaries();
  if (!bin) throw new Error(SKIP_REASON);
  const root = mkdtempSync(join(tmpdir(), 'ntk-cohort-pg-'));
  const dataDir = join(root, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(root, uid, gid);
  }
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
  };
  run('initdb', ['-D', dataDir, '-U', 'ntk', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const start = () =>
    run('pg_ctl', ['-D', dataDir, '-l', join(root, 'postgres.log'), '-w', '-t', '30', '-o', `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`, 'start']);
  start();
  let running = true;
  return {
    url: `postgres://ntk@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    kill() {
      if (!running) return;
      run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    restart() {
      if (running) return;
      start();
      running = true;
    },
    destroy() {
      try {
        if (running) run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } finally {
        running = false;
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
