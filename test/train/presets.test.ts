// Every preset trains (two short epochs, so the AimKP variants run masked rows through the filter) and
// records what the preset says it changes.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { resolveConfig } from '../../models/train/config-resolve';
import { NEEDS_BASE, PRESET_NAMES } from '../../models/train/presets';
import { train } from '../../models/train/trainer';
import type { StepEvent, TrainingEvent } from '../../shared/training-events';

const root = mkdtempSync(join(tmpdir(), 'aimkp-presets-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('every preset trains 2 epochs on a tiny set; masked rows match the preset', async () => {
  const data = join(root, 'data');
  await buildSynthDataset({ n: 20, seed: 9, out: data });
  for (const preset of PRESET_NAMES) {
    const c = resolveConfig({ preset, flags: { epochs: 2, encoder: 'patch:3:2', maxTrain: 4 } });
    c.model = {
      dModel: 8,
      nLayers: 1,
      nHeads: 2,
      dFF: 16,
      adapterHidden: 8,
      dropout: 0,
      lora: NEEDS_BASE.has(preset) ? c.model.lora : null,
    };
    // The paper-setting presets fine-tune a base (they refuse to start without one): the tiny baseline trained
    // first in this loop stands in for pretrain + align.
    if (NEEDS_BASE.has(preset)) c.initFrom = join(root, 'baseline');
    c.batchSize = 4;
    c.maxValid = 2;
    const events: TrainingEvent[] = [];
    const r = await train({ runDir: join(root, preset), dataDir: data, config: c, onEvent: (e) => events.push(e) });
    assert.equal(r.status, 'completed', preset);
    const steps = events.filter((e): e is StepEvent => e.type === 'step');
    assert.equal(steps.length, 2, preset);
    const [first, second] = steps;
    const a = c.aimkp;
    if (a === null) {
      assert.equal(second.rows, 4, `${preset}: one row per sample`);
      continue;
    }
    // Masked rows in step 1 only without warm-up; in step 2 for each enabled modality.
    const expectRows = (masked: boolean) => 4 + (masked ? (a.maskText ? 4 : 0) + (a.maskImage ? 4 : 0) : 0);
    assert.equal(first.rows, expectRows(!a.stride.warmup), `${preset} step 1`);
    assert.equal(second.rows, expectRows(true), `${preset} step 2`);
    const s2 = a.stride.warmup ? (a.stride.rule === 'fixed' ? a.stride.fixedStride : 2) : undefined;
    if (s2 !== undefined && a.maskImage)
      assert.ok(
        second.samples.every((s) => s.strideImage === s2),
        `${preset}: image stride ${s2}`,
      );
    if (!a.filter)
      assert.ok(
        second.samples.every((s) => s.acceptText !== false && s.acceptImage !== false),
        `${preset}: all accepted`,
      );
  }
});
