#!/usr/bin/env node
/**
 * ntk-sidecar command line: `serve` (default), `analyze FILE.npy` and `replay RECORDING`. The only place that reads argv and env.
 */
import { parseArgs } from 'node:util';
import { ConfigError, OPTIONS, envName, resolveConfig, type OptionName } from '../config/config.js';
import { PolicyError } from '../policy/policy.js';
import { packageVersion, startSidecarServer } from '../server/sidecarServer.js';
import { analyzeCommand } from './analyzeCommand.js';
import { readStructured } from './readStructured.js';
import { replayCommand } from './replayCommand.js';

const USAGE = `Usage:
  ntk-sidecar serve [flags]        run the sidecar (default command)
  ntk-sidecar analyze FILE.npy     spectrum summary of a saved Jacobian, sketch or Gram (--help for flags)
  ntk-sidecar replay RECORDING     decisions of a policy on a run recorded with --record-dir (--help for flags)
  ntk-sidecar --version

serve flags (environment NTK_SIDECAR_<FLAG>, config file keys in camelCase):
  --config FILE                    YAML or JSON file of the flags below
${(Object.keys(OPTIONS) as OptionName[])
  .map((name) => `  --${name.padEnd(24)} ${OPTIONS[name].help} [${envName(name)}]`)
  .join('\n')}
`;

async function serve(args: string[]): Promise<number> {
  const options: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' }, help: { type: 'boolean' } };
  for (const name of Object.keys(OPTIONS)) options[name] = { type: 'string' };
  const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const flags: Partial<Record<OptionName, string>> = {};
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const v = values[name];
    if (typeof v === 'string') flags[name] = v;
  }
  const configPath = typeof values.config === 'string' ? values.config : process.env.NTK_SIDECAR_CONFIG;
  let file: { path: string; values: Record<string, unknown> } | undefined;
  if (configPath) {
    const doc = readStructured(configPath, 'config file');
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config file ${configPath} must be a mapping of settings`);
    file = { path: configPath, values: doc as Record<string, unknown> };
  }
  const config = resolveConfig({ file, env: process.env, flags });
  const policyDocument = config.policyFile ? readStructured(config.policyFile, 'policy file') : undefined;
  const server = await startSidecarServer({ config, policyDocument });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(1);
    }
    process.stderr.write(`${signal}: shutting down (open streams end with UNAVAILABLE; ${config.shutdownGraceSeconds}s grace)\n`);
    server.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return new Promise<number>(() => undefined); // runs until a signal
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === '--version' || command === '-v') {
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    if (command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (command === 'analyze') return await analyzeCommand(rest, process.stdout, process.stderr);
    if (command === 'replay') return replayCommand(rest, process.stdout);
    if (command === undefined || command === 'serve') return await serve(rest);
    if (command.startsWith('--')) return await serve(argv);
    process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof PolicyError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`ntk-sidecar: ${err.message}\nRun "ntk-sidecar --help" for the flags.\n`);
      return 2;
    }
    process.stderr.write(`ntk-sidecar: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
