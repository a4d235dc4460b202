/**
 * What destructive `db` commands share: the list of what will be lost (stderr, before the
 * question) and the safety backup taken before anything is dropped.
 */
import type { Ctx } from './context.js';
import { formatCount } from './ui.js';

export function describeLosses(ctx: Ctx, heading: string, migrations: string[], tables: Array<{ name: string; rows: number }>): void {
  ctx.ui.info(heading);
  for (const m of migrations) ctx.ui.info(`  migration ${m}`);
  const width = Math.max(0, ...tables.map((t) => t.name.length));
  for (const t of tables) ctx.ui.info(`  table ${t.name.padEnd(width)}  ${formatCount(t.rows).padStart(12)} ${t.rows === 1 ? "row" : "rows"}`);
  if (tables.length === 0) ctx.ui.info('  no table is dropped');
}

/** A safety backup (safety_backup_<time>) in `dir`; Ctrl-C removes its temp file. */
export async function takeSafetyBackup(ctx: Ctx, dir = 'backups'): Promise<string> {
  const { takeBackup } = await import('../backup/dump.js');
  const { SAFETY_PREFIX } = await import('../backup/files.js');
  ctx.ui.info('taking a safety backup first…');
  ctx.onInterrupt(() => 'interrupted while taking the safety backup: nothing was dropped, and the unfinished backup file was removed');
  const s = await takeBackup(ctx.target(), { dir, prefix: SAFETY_PREFIX, onWarning: (w) => ctx.ui.warn(w), onAbort: (fn) => ctx.onClose(fn) });
  ctx.ui.success(`safety backup: ${s.file}`);
  return s.file;
}
