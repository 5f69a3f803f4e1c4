/**
 * `ntk-sidecar replay RECORDING [--policy FILE] [--policy-name NAME] [--json]`: the decision timeline of a recorded
 * run under a policy, and where it would have stopped (docs/design.md §4).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config.js';
import { DEFAULT_POLICY, policySetFrom, selectPolicy, type Policy } from '../policy/policy.js';
import { readRecording } from '../record/runRecorder.js';
import { RecordingError, type Recording } from '../record/recording.js';
import { replayRecording, type ReplayResult } from '../record/replay.js';
import { readStructured } from './readStructured.js';
import { runPicture } from '../ui/pictures.js';

const HELP = `Usage: ntk-sidecar replay RECORDING [flags]

Replays a run recorded by \`ntk-sidecar serve --record-dir DIR\` (DIR/<run>.ntkrec.jsonl.gz) or by the Python client
(\`record_dir=\`: <run>.client.ntkrec.jsonl.gz) through a policy and
prints every decision and where the run would have stopped.

  --policy FILE        policy file (YAML or JSON, as for serve); default: the policy the recording sidecar used
  --policy-name NAME   policy of that file to apply; default: the one the run asked for in RunStart
  --json               one JSON object: {format, runId, policy, decisions[], stopStep, stopReason, snapshots, lastStep}
  --svg OUT.svg        also write the picture: observed vs kernel-predicted loss with KESS and the STOP, and the
                       decision timeline (the charts of the sidecar's run page)
`;

function choosePolicy(recording: Recording, file: string | undefined, name: string | undefined): Policy {
  if (!file) {
    if (name !== undefined) throw new ConfigError('--policy-name needs --policy FILE');
    // A client's recording does not know the server's policy: the embedded default applies.
    return recording.header.policy ?? DEFAULT_POLICY;
  }
  const set = policySetFrom(readStructured(file, 'policy file'), file);
  const wanted = name ?? recording.header.start.policy;
  const policy = selectPolicy(set, wanted) ?? (name === undefined ? selectPolicy(set, '') : undefined);
  if (!policy) throw new ConfigError(`policy "${wanted}" is not in ${file}; known: ${[...set.byName.keys()].join(', ')}`);
  return policy;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(4)));
}

function timeline(r: ReplayResult): string {
  const lines = [`run ${r.runId}: ${r.snapshots} snapshots to step ${r.lastStep}, policy "${r.policy}"`, ''];
  lines.push(`${'step'.padStart(8)}  ${'action'.padEnd(8)}  ${'reason'.padEnd(30)}  detail`);
  for (const d of r.decisions) {
    lines.push(`${fmt(d.step).padStart(8)}  ${d.action.replace('ACTION_', '').padEnd(8)}  ${d.reason.replace('REASON_', '').padEnd(30)}  ${d.detail}`);
  }
  lines.push('');
  lines.push(
    r.stopStep === null
      ? `never stops: the policy says CONTINUE at every one of the ${r.decisions.length} decisions`
      : `stops at step ${fmt(r.stopStep)} (${r.stopReason}), ${r.lastStep > r.stopStep ? `${fmt(r.lastStep - r.stopStep)} steps (${fmt((100 * (r.lastStep - r.stopStep)) / r.lastStep)} %) before the recording's last step` : 'at the recording\'s last step'}`,
  );
  return lines.join('\n') + '\n';
}

export function replayCommand(args: string[], out: NodeJS.WritableStream): number {
  const { values, positionals } = parseArgs({
    args,
    options: { policy: { type: 'string' }, 'policy-name': { type: 'string' }, json: { type: 'boolean' }, svg: { type: 'string' }, help: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    out.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new ConfigError(`replay takes one recording file, got ${positionals.length}; see "ntk-sidecar replay --help"`);
  let recording: Recording;
  try {
    recording = readRecording(positionals[0]);
  } catch (err) {
    if (err instanceof RecordingError) throw new ConfigError(err.message);
    throw err;
  }
  const result = replayRecording(recording, choosePolicy(recording, values.policy, values['policy-name']));
  if (values.json) {
    const { state: _state, ...rest } = result;
    out.write(JSON.stringify(rest) + '\n');
  } else {
    out.write(timeline(result));
  }
  if (values.svg) {
    const stop = result.decisions.find((d) => d.action === 'ACTION_STOP');
    const picture = runPicture({
      runId: result.runId,
      policy: result.policy,
      observed: result.state.observed,
      diagnostics: result.state.diagnostics,
      decisions: result.decisions,
      stop: stop && { step: stop.step, reason: stop.reason, enforced: stop.enforced },
    });
    try {
      writeFileSync(values.svg, picture);
    } catch (err) {
      throw new ConfigError(`cannot write --svg ${values.svg}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return 0;
}
