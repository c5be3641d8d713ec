// Random payloads at the REAL service (electron/service on a temporary workspace and the bundled ClipArt-KP
// set), through the same dispatcher as the transports, with every response checked against the contract.
// Commands that would start work (training, imports, settings that move the workspace) are left out; the
// validation-level fuzz in contract.test.ts covers them. Every answer must be a valid response or an error
// with a meaningful code: an `internal` error means a handler threw something unexpected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispatchCall } from '../../shared/contract/dispatch';
import type { CommandName } from '../../shared/contract/service';
import { createService } from '../../electron/service/index';
import { VALID_REQUESTS, mutate, randomJson, rng } from './fixtures';
import { tempDir } from '../fixtures/temp-dirs';

const SAFE: CommandName[] = [
  'presets.list',
  'datasets.list',
  'datasets.stats',
  'datasets.items',
  'datasets.issues',
  'runs.list',
  'runs.get',
  'runs.history',
  'runs.events',
  'runs.stop',
  'runs.delete',
  'runs.rename',
  'runs.tag',
  'runs.evaluate',
  'runs.robustness',
  'runs.resume',
  'compare.cases',
  'report.table',
  'predict.case',
  'settings.get',
  'jobs.list',
  'jobs.cancel',
];
const PER_COMMAND = 300;

test(`real service: ${PER_COMMAND} random payloads per read-only command; answers are valid responses or coded errors, never internal`, async () => {
  const workspace = tempDir('aimkp-service-fuzz-');
  const service = createService({ host: 'browser', workspace, locatorFile: null });
  const codes = new Map<string, number>();
  const internal: string[] = [];
  try {
    for (const [ci, name] of SAFE.entries()) {
      const r = rng(500 + ci);
      for (let i = 0; i < PER_COMMAND; i++) {
        const payload = i === 0 ? VALID_REQUESTS[name] : i % 4 === 0 ? randomJson(r) : mutate(VALID_REQUESTS[name], r);
        const res = await dispatchCall(
          service.backend,
          name,
          payload,
          { signal: new AbortController().signal, transport: 'local', clientId: 'fuzz' },
          { validateResponses: true },
        );
        const key = res.ok ? 'ok' : res.error.code;
        codes.set(`${name} ${key}`, (codes.get(`${name} ${key}`) ?? 0) + 1);
        if (!res.ok && res.error.code === 'internal')
          internal.push(`${name} ${JSON.stringify(payload).slice(0, 160)} → ${res.error.message.slice(0, 300)}`);
      }
    }
  } finally {
    await service.close();
  }
  if (process.env.AIMKP_FUZZ_REPORT)
    console.log(
      [...codes]
        .sort()
        .map(([k, n]) => `${k}: ${n}`)
        .join('\n'),
    );
  assert.deepEqual(internal.slice(0, 10), [], `${internal.length} internal errors`);
  for (const name of [
    'presets.list',
    'datasets.list',
    'runs.list',
    'settings.get',
    'jobs.list',
    'datasets.items',
  ] as const)
    assert.ok((codes.get(`${name} ok`) ?? 0) > 0, `${name} never answered ok`);
});
