/**
 * `billettigue version` (also `--version`, `-V`): the build, Node and, when a target is set
 * (--db, DATABASE_URL, DB_* or an existing embedded file), the server's version.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { action, type Ctx } from './context.js';
import { packageRoot } from '../paths.js';
import { toolVersion } from '../version.js';

export function register(cmd: Command): void {
  cmd
    .description('the version of billettigue, its build, Node and (with a target) the database server')
    .addHelpText('after', `
Examples:
  $ billettigue version
  $ billettigue --version
  $ billettigue --db mysql://root@127.0.0.1:3306/billettigue version --json`)
    .action(action(run));
}

/** The commit the package was built from, read from its .git when there is one (no git needed). */
function commit(root: string): string | null {
  try {
    let gitDir = path.join(root, '.git');
    if (!existsSync(gitDir)) return null;
    if (statSync(gitDir).isFile()) gitDir = path.resolve(root, readFileSync(gitDir, 'utf8').replace(/^gitdir:\s*/, '').trim());
    const head = readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref:')) return head.slice(0, 12);
    const ref = head.slice(4).trim();
    const common = existsSync(path.join(gitDir, 'commondir')) ? path.resolve(gitDir, readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim()) : gitDir;
    for (const dir of [gitDir, common]) {
      const file = path.join(dir, ref);
      if (existsSync(file)) return readFileSync(file, 'utf8').trim().slice(0, 12);
    }
    const packed = path.join(common, 'packed-refs');
    if (existsSync(packed)) {
      const line = readFileSync(packed, 'utf8').split('\n').find((l) => l.endsWith(` ${ref}`));
      if (line) return line.slice(0, 12);
    }
  } catch {
    /* not a checkout we can read */
  }
  return null;
}

function builtAt(root: string): string | null {
  const main = path.join(root, 'dist', 'cli', 'main.js');
  return existsSync(main) ? statSync(main).mtime.toISOString() : null;
}

async function run(ctx: Ctx): Promise<void> {
  const root = packageRoot();
  const info: Record<string, unknown> = {
    version: toolVersion(),
    commit: commit(root),
    built_at: builtAt(root),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
  // A target only when one is set (or the embedded file exists): `version` never creates one.
  let target;
  try {
    target = ctx.target();
  } catch {
    target = undefined;
  }
  const explicit = target && (target.source !== 'default' || (target.kind === 'sqlite' && existsSync(target.filename)));
  if (target && explicit) {
    info.target = target.display;
    try {
      const { serverVersion } = await import('../db/dialect.js');
      info.server = await serverVersion(await ctx.db({ schema: false }));
    } catch (err) {
      info.server = null;
      info.server_error = (err as Error).message;
    }
  }
  if (ctx.ui.json) return ctx.ui.printJson(info);
  const { displayTime } = await import('./ui.js');
  const { localZoneName } = await import('../domain/dates.js');
  const build = [info.commit ? `commit ${String(info.commit)}` : '', info.built_at ? `built ${displayTime(String(info.built_at))} ${localZoneName()}` : '']
    .filter(Boolean)
    .join(', ');
  ctx.ui.line(`billettigue ${String(info.version)}${build ? ` (${build})` : ''}`);
  ctx.ui.line(`node        ${process.version} (${String(info.platform)})`);
  if (info.target) ctx.ui.line(`server      ${info.server ? String(info.server) : `unreachable: ${String(info.server_error)}`} at ${String(info.target)}`);
}
