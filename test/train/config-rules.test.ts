// TrainConfig's field rules (shared/train-config-rules.ts) are what validation enforces: absurd values are refused
// naming the field and the bound, every field of every preset (and of the pretrain / align stages) has a rule, and
// every preset passes its own rules.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, validateConfig } from '../../models/train/config-resolve';
import { getPreset, PRESET_NAMES } from '../../models/train/presets';
import { pretrainDefaults } from '../../models/train/pretrain';
import { alignDefaults } from '../../models/train/align';
import type { TrainConfig } from '../../models/run/train-config';
import { ruleOf, TRAIN_CONFIG_RULES } from '../../shared/train-config-rules';

const dir = mkdtempSync(join(tmpdir(), 'aimkp-rules-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function refusal(override: object): string {
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify(override));
  try {
    resolveConfig({ preset: 'aimkp', configFile: file });
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail(`${JSON.stringify(override)} was accepted`);
}

test('absurd values are refused naming the file, the field and the bound', () => {
  const file = join(dir, 'c.json');
  assert.equal(refusal({ epochs: 1e9 }), `${file}: field "epochs": expected an integer in [1, 1000], got 1000000000`);
  assert.equal(refusal({ lr: 100 }), `${file}: field "lr": expected a number in (0, 1], got 100`);
  assert.equal(
    refusal({ batchSize: 999999 }),
    `${file}: field "batchSize": expected an integer in [1, 4096], got 999999`,
  );
  // The bounds in the messages are the rules' own.
  assert.equal(TRAIN_CONFIG_RULES.epochs.max, 1000);
  assert.equal(TRAIN_CONFIG_RULES.lr.max, 1);
  assert.equal(TRAIN_CONFIG_RULES.batchSize.max, 4096);
  // The lower bounds and exclusive ends hold too.
  assert.match(refusal({ lr: 0 }), /field "lr": expected a number in \(0, 1\], got 0/);
  assert.match(refusal({ warmupRatio: 1 }), /field "warmupRatio": expected a number in \[0, 1\), got 1/);
  assert.match(refusal({ model: { dModel: 10000 } }), /field "model\.dModel": expected an integer in \[1, 4096\]/);
  assert.match(
    refusal({ aimkp: { stride: { rule: 'cubic' } } }),
    /field "aimkp\.stride\.rule": expected one of progressive, fixed, linear, got "cubic"/,
  );
  assert.match(refusal({ maxTrain: 1.5 }), /field "maxTrain": expected an integer in \[1, 10000000\], got 1\.5/);
  // Cross-field rules stay.
  assert.match(refusal({ model: { nHeads: 3 } }), /field "model\.nHeads": must divide model\.dModel \(128\)/);
  assert.match(refusal({ mode: 'text' }), /field "mode": AimKP masks one modality/);
  assert.match(refusal({ adapterPattern: '(' }), /field "adapterPattern": not a valid regular expression/);
  // A nullable field takes null; the others refuse it.
  assert.equal(resolveConfig({ preset: 'aimkp', flags: { maxTrain: null } }).maxTrain, null);
  assert.match(refusal({ epochs: null }), /field "epochs": may not be null/);
});

test('validateConfig itself applies the rules to a config that never went through a file', () => {
  const c = getPreset('baseline')!;
  assert.throws(() => validateConfig({ ...c, samplesPerCall: 5000 }, 'runs.start'), {
    message: 'runs.start: field "samplesPerCall": expected an integer in [1, 4096], got 5000',
  });
  // A section given whole is checked field by field (here LoRA on a preset that has none).
  assert.throws(
    () => validateConfig({ ...c, model: { ...c.model, lora: { rank: 0, alpha: 2, dropout: 0 } } }, 'x'),
    /x: field "model\.lora\.rank": expected an integer in \[1, 1024\], got 0/,
  );
  assert.throws(() => validateConfig({ ...c, method: 'aimkp' }, 'x'), /field "aimkp": method "aimkp" needs/);
});

/** Every dotted path of a config, nested objects included (arrays are values). */
function paths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...paths(v, p)];
  });
}

test('every field of every preset (and of the pretrain and align stages) has a rule, and each preset keeps it', () => {
  const configs: TrainConfig[] = [
    ...PRESET_NAMES.map((n) => getPreset(n)!),
    pretrainDefaults(),
    alignDefaults(join(dir, 'base')),
  ];
  for (const c of configs) {
    for (const p of paths(c))
      assert.ok(ruleOf(p), `${c.preset}: field "${p}" has no rule in shared/train-config-rules.ts`);
    assert.doesNotThrow(() => validateConfig(c, `preset ${c.preset}`));
  }
  // And every rule names a field some preset has (no rule left behind by a removed field).
  const seen = new Set(configs.flatMap((c) => paths(c)));
  for (const p of Object.keys(TRAIN_CONFIG_RULES)) assert.ok(seen.has(p), `rule "${p}" matches no preset field`);
  // Every numeric rule has an upper bound.
  for (const [p, r] of Object.entries(TRAIN_CONFIG_RULES))
    if (r.kind === 'int' || r.kind === 'number') assert.equal(typeof r.max, 'number', `${p}: no upper bound`);
});
