/**
 * Where the package's own files are, whatever the working directory and however the code runs:
 * from TypeScript sources (tests, tsx), from tsc's output (dist/src), or from the start-up bundle
 * (dist/cli). Everything that loads a file shipped with the package goes through here.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The folder holding billettigue's package.json. */
export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'billettigue') {
      return (root = dir);
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the billettigue package root');
    dir = up;
  }
}

/** True when running compiled JavaScript (dist/), false from the TypeScript sources. */
export function isCompiled(): boolean {
  return fileURLToPath(import.meta.url).endsWith('.js');
}

/**
 * A module shipped with the package, given its path from the repository root without extension,
 * e.g. `migrations/20261125000100_comptes_and_profiles` or `src/backup/gzip-worker`:
 * the compiled `.js` under dist/ when compiled, the `.ts` source otherwise.
 */
export function shippedModule(relNoExt: string): string {
  return isCompiled() ? path.join(packageRoot(), 'dist', `${relNoExt}.js`) : path.join(packageRoot(), `${relNoExt}.ts`);
}

/** The folder of a shipped module tree (e.g. `migrations`) and the extension its modules have. */
export function shippedDir(rel: string): { dir: string; ext: string } {
  return isCompiled()
    ? { dir: path.join(packageRoot(), 'dist', rel), ext: '.js' }
    : { dir: path.join(packageRoot(), rel), ext: '.ts' };
}
