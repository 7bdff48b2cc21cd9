// Loads a module of the web client in Node, bundled by Vite as the page gets it. tsc's copy of
// web/src lands in dist/web, which the client build empties (it is what the server serves), so a
// test cannot import that copy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'vite';

const WEB_SRC = fileURLToPath(new URL('../../../web/src/', import.meta.url));

/** `file` is a path under web/src (typing.ts); type the answer with `typeof import(...)`. */
export async function loadWebModule<T>(file: string): Promise<T> {
  const outDir = mkdtempSync(join(tmpdir(), 'porthouse-web-'));
  try {
    await build({
      configFile: false,
      logLevel: 'silent',
      publicDir: false,
      build: {
        lib: { entry: join(WEB_SRC, file), formats: ['es'], fileName: () => 'module.js' },
        outDir,
        emptyOutDir: true,
        minify: false,
      },
    });
    return (await import(pathToFileURL(join(outDir, 'module.js')).href)) as T;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
