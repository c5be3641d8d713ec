// docs/architecture.md's room graph is the code's: recomputed from the imports, equal to the committed block, and
// free of circles between rooms (a circle inside the product's folders would mean a layer that is not one).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';

import { renderRoomGraph, roomCircles, roomGraph, roomOf } from '../../scripts/architecture-graph';

const DOC = join(import.meta.dirname, '..', '..', 'docs', 'architecture.md');

test('roomOf: files fold to their room', () => {
  assert.equal(roomOf('models/train/trainer.ts'), 'models/train');
  assert.equal(roomOf('models/index.ts'), 'models/index.ts');
  assert.equal(roomOf('electron/main.ts'), 'electron (glue)');
  assert.equal(roomOf('shared/contract/services/runs.ts'), 'shared/contract');
  assert.equal(roomOf('shared/vocabulary.ts'), 'shared');
  assert.equal(roomOf('renderer/src/views/RunView.vue'), 'renderer');
  assert.equal(roomOf('test/train/x.test.ts'), null);
});

test('roomCircles finds a circle between rooms and none in a layered graph', () => {
  const rooms = new Map([
    ['a', { files: 1, lines: 1 }],
    ['b', { files: 1, lines: 1 }],
    ['c', { files: 1, lines: 1 }],
  ]);
  const layered = {
    rooms,
    edges: new Map([
      ['a', new Map([['b', 1]])],
      ['b', new Map([['c', 2]])],
    ]),
  };
  assert.deepEqual(roomCircles(layered), []);
  const circular = {
    rooms,
    edges: new Map([
      ['a', new Map([['b', 1]])],
      ['b', new Map([['c', 2]])],
      ['c', new Map([['a', 1]])],
    ]),
  };
  assert.deepEqual(roomCircles(circular), [['a', 'b', 'c', 'a']]);
});

test('docs/architecture.md holds the room graph computed from the code, with no circle', () => {
  const graph = roomGraph();
  assert.deepEqual(roomCircles(graph), [], 'a circle between rooms');
  const block = renderRoomGraph(graph);
  assert.ok(
    readFileSync(DOC, 'utf8').includes(block),
    'docs/architecture.md: the room graph is stale; run `node --import tsx scripts/architecture-graph.ts --write`',
  );
});
