// The room graph of docs/architecture.md, computed from the code: every import that dependency-cruiser resolves
// (the same cruise as `npm run boundaries`), folded from files to rooms. `--check` compares it with the block
// between the markers in docs/architecture.md (exit 1 when stale; test/architecture/room-graph.test.ts runs it),
// `--write` rewrites that block.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOC = join(ROOT, 'docs', 'architecture.md');
const BEGIN = '<!-- room-graph:begin (scripts/architecture-graph.ts --write) -->';
const END = '<!-- room-graph:end -->';
/** The product's code; tests, scripts and bin are callers of it and are left out of the drawing. */
const CRUISED = ['models', 'electron', 'shared', 'renderer/src'];

interface CruiseModule {
  source: string;
  dependencies: { resolved: string; coreModule?: boolean; dependencyTypes?: string[] }[];
}

/** A file's room: a folder of the product, one level below its top folder (models/train, electron/supervisor, …). */
export function roomOf(file: string): string | null {
  const parts = file.split('/');
  const [top] = parts;
  if (top === 'renderer') return 'renderer';
  if (top === 'shared') return parts.length > 2 ? `shared/${parts[1]}` : 'shared';
  if (top === 'models' || top === 'electron') {
    if (parts.length === 2) {
      if (file === 'models/index.ts') return 'models/index.ts';
      if (file === 'electron/main.ts' || file === 'electron/preload.ts') return 'electron (glue)';
      return `${top} (top files)`;
    }
    return `${top}/${parts[1]}`;
  }
  return null;
}

export interface RoomGraph {
  rooms: Map<string, { files: number; lines: number }>;
  edges: Map<string, Map<string, number>>;
}

export function roomGraph(): RoomGraph {
  const bin = join(ROOT, 'node_modules', '.bin', 'depcruise');
  const json = execFileSync(bin, ['--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...CRUISED], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const modules = (JSON.parse(json) as { modules: CruiseModule[] }).modules;
  const rooms = new Map<string, { files: number; lines: number }>();
  const edges = new Map<string, Map<string, number>>();
  for (const mod of modules) {
    const from = roomOf(mod.source);
    if (from === null) continue;
    const room = rooms.get(from) ?? { files: 0, lines: 0 };
    room.files += 1;
    room.lines += readFileSync(join(ROOT, mod.source), 'utf8').split('\n').length;
    rooms.set(from, room);
    for (const dep of mod.dependencies) {
      if (dep.coreModule || dep.resolved.startsWith('node_modules/')) continue;
      const to = roomOf(dep.resolved);
      if (to === null || to === from) continue;
      const out = edges.get(from) ?? new Map<string, number>();
      out.set(to, (out.get(to) ?? 0) + 1);
      edges.set(from, out);
    }
  }
  return { rooms, edges };
}

/** Room-level circles (a room that reaches itself through other rooms), each as a path; [] when the graph is a DAG. */
export function roomCircles(graph: RoomGraph): string[][] {
  const circles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (room: string): void => {
    state.set(room, 'open');
    stack.push(room);
    for (const next of [...(graph.edges.get(room)?.keys() ?? [])].sort()) {
      if (state.get(next) === 'open') circles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(room, 'done');
  };
  for (const room of [...graph.rooms.keys()].sort()) if (!state.has(room)) visit(room);
  return circles;
}

/** The Markdown block: one row per room, the rooms it imports with the number of import statements. */
export function renderRoomGraph(graph: RoomGraph): string {
  const order = [...graph.rooms.keys()].sort();
  const rows = order.map((room) => {
    const { files, lines } = graph.rooms.get(room) as { files: number; lines: number };
    const out = [...(graph.edges.get(room) ?? new Map<string, number>()).entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([to, n]) => `${to} (${n})`)
      .join(', ');
    return `| \`${room}\` | ${files} | ${lines} | ${out || '—'} |`;
  });
  const circles = roomCircles(graph);
  const circleLine =
    circles.length === 0
      ? 'No circle between rooms.'
      : `Circles between rooms: ${circles.map((c) => c.join(' → ')).join('; ')}.`;
  return [
    BEGIN,
    '| room | files | lines | imports (room: import statements) |',
    '|---|---|---|---|',
    ...rows,
    '',
    circleLine,
    END,
  ].join('\n');
}

function currentBlock(doc: string): string | null {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  return start < 0 || end < start ? null : doc.slice(start, end + END.length);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const mode = process.argv[2] ?? '--print';
  const block = renderRoomGraph(roomGraph());
  const doc = readFileSync(DOC, 'utf8');
  const current = currentBlock(doc);
  if (mode === '--write') {
    if (current === null) throw new Error(`${DOC}: the markers ${BEGIN} … ${END} are missing`);
    writeFileSync(DOC, doc.replace(current, block));
  } else if (mode === '--check') {
    if (current !== block) {
      console.error(
        'docs/architecture.md: the room graph is stale; run `node --import tsx scripts/architecture-graph.ts --write`',
      );
      process.exit(1);
    }
  } else {
    console.log(block);
  }
}
