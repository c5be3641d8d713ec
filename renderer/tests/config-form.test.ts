import { describe, expect, it } from 'vitest';
import { PRESETS, PRESET_NAMES } from '../../models/train/presets';
import { LIMITS } from '../../shared/contract/common';
import { ruleOf, TRAIN_CONFIG_RULES } from '../../shared/train-config-rules';
import {
  fieldsOf,
  initialValue,
  overridesOf,
  parseField,
  parseSeeds,
  type FormValue,
  type JsonTree,
} from '../src/lib/config-form';

const aimkp = PRESETS.get('aimkp') as unknown as JsonTree;

describe('hyperparameter form of a real preset', () => {
  const fields = fieldsOf(aimkp);
  const byPath = new Map(fields.map((f) => [f.path, f]));

  it('offers the training and AimKP settings, not the preset identity', () => {
    for (const p of [
      'epochs',
      'lr',
      'batchSize',
      'model.dModel',
      'aimkp.tauText',
      'aimkp.tauImage',
      'aimkp.stride.rule',
      'aimkp.maskKind',
      'maxTrain',
    ])
      expect(byPath.has(p), p).toBe(true);
    for (const p of ['preset', 'description', 'paper', 'method', 'seed']) expect(byPath.has(p), p).toBe(false);
    expect(byPath.get('epochs')?.kind).toBe('int');
    expect(byPath.get('lr')?.kind).toBe('number');
  });

  it('turns only the changed fields into nested overrides', () => {
    const values: Record<string, FormValue> = Object.fromEntries(fields.map((f) => [f.path, initialValue(f)]));
    expect(overridesOf(fields, values)).toEqual({});
    values.epochs = '2';
    values['aimkp.tauImage'] = '0.3';
    values['aimkp.stride.rule'] = 'linear';
    values.maxTrain = '100';
    expect(overridesOf(fields, values)).toEqual({
      epochs: 2,
      maxTrain: 100,
      aimkp: { tauImage: 0.3, stride: { rule: 'linear' } },
    });
  });

  it('refuses bad values with the rule they break', () => {
    expect(parseField(byPath.get('epochs')!, '2.5')).toEqual({ error: 'a whole number' });
    expect(parseField(byPath.get('epochs')!, '0')).toEqual({ error: 'at least 1' });
    expect(parseField(byPath.get('lr')!, 'fast')).toEqual({ error: 'a number' });
    expect(parseField(byPath.get('aimkp.tauText')!, '1.5')).toEqual({ error: 'at most 1' });
    expect(parseField(byPath.get('maxTrain')!, '')).toEqual({ value: null });
    expect(parseField(byPath.get('aimkp.maskKind')!, 'blur')).toEqual({ error: 'one of structured, random, pool' });
    // initFrom is not a text field: New run picks a base run by id (BaseRunPicker), the server resolves its folder.
    expect(byPath.has('initFrom')).toBe(false);
  });
});

describe('the field rules the core validates with (shared/train-config-rules.ts)', () => {
  const byPath = new Map(fieldsOf(aimkp).map((f) => [f.path, f]));

  it('refuses absurd values with the same bound as the core', () => {
    // The core says: field "epochs": expected an integer in [1, 1000] (test/train/config-rules.test.ts).
    expect(parseField(byPath.get('epochs')!, '1e9')).toEqual({ error: 'at most 1000' });
    expect(parseField(byPath.get('lr')!, '100')).toEqual({ error: 'at most 1' });
    expect(parseField(byPath.get('batchSize')!, '999999')).toEqual({ error: 'at most 4096' });
    expect(TRAIN_CONFIG_RULES.epochs.max).toBe(1000);
    expect(TRAIN_CONFIG_RULES.lr.max).toBe(1);
    expect(TRAIN_CONFIG_RULES.batchSize.max).toBe(4096);
    // Exclusive ends: a learning rate above 0, a rate below 1.
    expect(parseField(byPath.get('lr')!, '0')).toEqual({ error: 'above 0' });
    expect(parseField(byPath.get('warmupRatio')!, '1')).toEqual({ error: 'below 1' });
    expect(parseField(byPath.get('maxAnswerTokens')!, '1')).toEqual({ error: 'at least 2' });
  });

  it('gives every numeric field both bounds and every field its help, from the rules', () => {
    for (const f of byPath.values()) {
      const rule = ruleOf(f.path)!;
      expect(f.help, f.path).toBe(rule.help);
      if (f.kind === 'int' || f.kind === 'number') {
        expect([f.min, f.max], f.path).toEqual([rule.min, rule.max]);
        expect(typeof f.max, f.path).toBe('number');
      }
    }
    // The encoder's choices are suggestions: any spec is accepted.
    expect(parseField(byPath.get('encoder')!, 'patch:3:2')).toEqual({ value: 'patch:3:2' });
  });

  it('has a rule for every field of every preset', () => {
    const walk = (tree: JsonTree, prefix = ''): string[] =>
      Object.entries(tree).flatMap(([k, v]) => {
        const p = prefix ? `${prefix}.${k}` : k;
        return [p, ...(v !== null && typeof v === 'object' && !Array.isArray(v) ? walk(v as JsonTree, p) : [])];
      });
    for (const name of PRESET_NAMES)
      for (const p of walk(PRESETS.get(name) as unknown as JsonTree)) expect(ruleOf(p), `${name}: ${p}`).toBeDefined();
  });
});

describe('seeds', () => {
  it('parses lists and ranges into distinct seeds', () => {
    expect(parseSeeds('1, 2 3')).toEqual({ seeds: [1, 2, 3] });
    expect(parseSeeds('1-3, 2, 7')).toEqual({ seeds: [1, 2, 3, 7] });
    expect(parseSeeds('')).toEqual({ error: 'at least one seed' });
    expect('error' in parseSeeds('x')).toBe(true);
    expect('error' in parseSeeds('5-1')).toBe(true);
  });

  it('says why a list or range is refused', () => {
    expect(LIMITS.maxSeeds).toBe(32);
    expect(parseSeeds('1-100')).toEqual({ error: '1-100: at most 32 seeds in one launch (LIMITS.maxSeeds)' });
    expect(parseSeeds('1-32')).toEqual({ seeds: Array.from({ length: 32 }, (_, i) => i + 1) });
    expect(parseSeeds('1-30, 40-45')).toEqual({ error: '36 seeds: at most 32 seeds in one launch (LIMITS.maxSeeds)' });
    expect(parseSeeds('5-1')).toEqual({ error: '5-1: a range goes from the lower seed to the higher, e.g. 1-5' });
    expect(parseSeeds('2147483648')).toEqual({
      error: "2147483648: seeds are at most 2147483647 (2^31 − 1, the seed field's bound)",
    });
  });
});
