// `npm run bench:supervisor [-- --quick] [-- --out FILE]`: the supervisor's event throughput and latency, the
// main thread's event-loop delay during a training, and stop latency, as ONE JSON object on stdout (progress on
// stderr). See scripts/supervisor-bench/ and docs/benchmarks.md.
import { writeFileSync } from 'node:fs';
import { runSupervisorBench } from './supervisor-bench/bench';
import { fileURLToPath } from 'node:url';
import { scriptArgs } from './lib/script-args';

const { values } = scriptArgs(fileURLToPath(import.meta.url), {
  options: { quick: { type: 'boolean' }, out: { type: 'string' } },
});
const result = await runSupervisorBench({
  quick: values.quick === true,
  log: (line) => process.stderr.write(`bench:supervisor: ${line}\n`),
});
const json = JSON.stringify(result, null, 2);
if (values.out) writeFileSync(values.out, json + '\n');
process.stdout.write(json + '\n');
