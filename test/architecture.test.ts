// The map of docs/architecture.md, checked against the code: every relative import in src/ is read
// from the sources and held to the dependency rules, so a shortcut across a seam fails here.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

interface Edge {
  /** Importing module, relative to src/ (core/errors.ts). */
  readonly from: string;
  /** Imported module, relative to src/ (hub/hub.ts). */
  readonly to: string;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const posix = (path: string) => path.split(sep).join('/');

/** Every `import … from './x.js'` and `export … from './x.js'` (type-only ones too). */
function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+'(\.[^']+)'/gm)) {
      const target = resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'));
      out.push({ from: posix(relative(SRC, file)), to: posix(relative(SRC, target)) });
    }
  }
  return out;
}

const ALL = edges();
const layer = (path: string) => path.split('/')[0]!;
/** The door a module belongs to (doors/ws/ws-door.ts → ws); undefined for shared doors/*.ts. */
const door = (path: string) =>
  path.startsWith('doors/') && path.split('/').length > 2 ? path.split('/')[1] : undefined;
const broken = (rule: (e: Edge) => boolean) => ALL.filter(rule).map((e) => `${e.from} → ${e.to}`);

test('the sources are read: every layer of the map has modules and imports', () => {
  for (const l of ['core', 'protocol', 'hub', 'doors', 'service', 'store', 'bus'])
    assert.ok(
      ALL.some((e) => layer(e.from) === l),
      `no import found from ${l}/ (is the parser still right?)`,
    );
  assert.ok(ALL.length > 100);
});

test('core imports nothing outside core', () => {
  assert.deepEqual(
    broken((e) => layer(e.from) === 'core' && layer(e.to) !== 'core'),
    [],
  );
});

test('protocol imports nothing but core', () => {
  assert.deepEqual(
    broken((e) => layer(e.from) === 'protocol' && !['protocol', 'core'].includes(layer(e.to))),
    [],
  );
});

test('no door imports another door, and the modules the doors share import no door', () => {
  assert.deepEqual(
    broken((e) => {
      if (layer(e.from) !== 'doors' || layer(e.to) !== 'doors') return false;
      const to = door(e.to);
      return to !== undefined && door(e.from) !== to;
    }),
    [],
  );
});

test('the hub, the services, the store and the bus import no door', () => {
  assert.deepEqual(
    broken((e) => ['hub', 'service', 'store', 'bus'].includes(layer(e.from)) && layer(e.to) === 'doors'),
    [],
  );
});

test('the hub knows no store or bus adapter, only their interfaces', () => {
  assert.deepEqual(
    broken(
      (e) =>
        layer(e.from) === 'hub' &&
        ['store', 'bus'].includes(layer(e.to)) &&
        !['store/store.ts', 'bus/bus.ts'].includes(e.to),
    ),
    [],
  );
});
