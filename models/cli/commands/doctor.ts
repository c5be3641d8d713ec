// `aimkp doctor RUN [--json]`: checks a run folder (config, tokenizer, checkpoint manifests, leftovers of
// interrupted writes, events.jsonl tail, writer lock) and says what state it is in and what to do.
import { parseCommandArgs } from '../args';
import { CoreError } from '../../core-error';
import { diagnoseRun, formatDiagnosis } from '../../run/run-doctor';
import { EXIT_CODES } from '../cli-error';
import { validateTrainStateOfRun } from '../../train/checkpoint-parts';

const USAGE = [
  'Usage: aimkp doctor RUN [--json]',
  '',
  'Checks the run folder RUN without changing it: config.json and tokenizer.json, every checkpoint',
  "(checkpoints/last, checkpoints/previous, best/) against its manifest (each file's size and SHA-256),",
  'unfinished checkpoint writes, the tail of events.jsonl, and the writer lock (run.lock). Prints one line',
  "per check, the run's condition (running, completed, stopped, interrupted, failed) and what to do next.",
  '',
  `Exit code: 0 when nothing is wrong (warnings allowed), ${EXIT_CODES.CHECKPOINT_CORRUPT} when a check failed, ${EXIT_CODES.NOT_FOUND} when RUN`,
  'is not a run folder (one line). A checkpoint is checked for its bytes (manifest) and for what they mean (step',
  'counts, stride maps, data order, finite weights), as resume and evaluation check it. The advice on the last',
  'line names a command only when it would be accepted as printed.',
  '',
  'Options:',
  '  --json   the report as one JSON object',
].join('\n');

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'doctor',
    argv,
    { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    true,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw new CoreError('BAD_INPUT', 'aimkp doctor: give exactly one run folder (see "aimkp doctor --help")');
  // The trainer's own check of state.json's meaning, as resume and evaluation run it.
  const d = await diagnoseRun(positionals[0], { validateState: validateTrainStateOfRun });
  if (d.condition === 'not-a-run')
    throw new CoreError(
      'NOT_FOUND',
      `aimkp doctor: ${d.runDir}: not a run folder (no config.json, events.jsonl or checkpoint)`,
      { path: d.runDir },
    );
  console.log(values.json ? JSON.stringify(d, null, 2) : formatDiagnosis(d));
  return d.level === 'problem' ? EXIT_CODES.CHECKPOINT_CORRUPT : 0;
}
