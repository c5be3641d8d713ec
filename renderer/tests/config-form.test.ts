import { describe, expect, it } from 'vitest';
import { PRESETS } from '../../models/train/presets';
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
    // initFrom (the paper presets' warm start) may stay empty; a run id typed there is kept as text.
    expect(parseField(byPath.get('initFrom')!, '')).toEqual({ value: null });
    expect(parseField(byPath.get('initFrom')!, 'runs/base')).toEqual({ value: 'runs/base' });
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
});
