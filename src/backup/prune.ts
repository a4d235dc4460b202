/**
 * `backup prune --keep N [--keep-safety M]`: per database, the N newest regular backups stay
 * (never fewer than one) and, by their own rule, the M newest safety backups; safety backups never
 * count in N. Only the target's backups are touched unless every database is asked for; a file
 * without a usable manifest (its database is unknown) is never deleted.
 */
import { InvalidInput } from '../domain/errors.js';
import type { DbTarget } from '../db/config.js';
import { backupOf, listBackups, manifestPathOf, removeQuietly, type BackupEntry } from './files.js';

export const DEFAULT_KEEP_SAFETY = 3;

export interface PrunePlan {
  keep: BackupEntry[];
  remove: BackupEntry[];
  /** Files of other databases (not touched without --all) and files whose database is unknown. */
  untouched: BackupEntry[];
}

export interface PruneOptions {
  keep: number;
  keepSafety?: number;
  /** Only this database's backups; undefined: every database, each by the same rule. */
  target?: DbTarget;
}

export function planPrune(dir: string, opts: PruneOptions): PrunePlan {
  if (!Number.isInteger(opts.keep) || opts.keep < 1) throw new InvalidInput('--keep must be at least 1: the newest backup is never deleted');
  const keepSafety = opts.keepSafety ?? DEFAULT_KEEP_SAFETY;
  const plan: PrunePlan = { keep: [], remove: [], untouched: [] };
  // Newest first already; group by source database and kind (regular / safety).
  const groups = new Map<string, BackupEntry[]>();
  for (const e of listBackups(dir)) {
    if (!e.manifest || (opts.target && !backupOf(e, opts.target))) {
      plan.untouched.push(e);
      continue;
    }
    const key = `${e.safety ? 'safety' : 'regular'} ${e.manifest.kind} ${e.manifest.database.host ?? ''} ${e.manifest.database.name}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  for (const [key, entries] of groups) {
    const n = key.startsWith('safety') ? keepSafety : opts.keep;
    plan.keep.push(...entries.slice(0, n));
    plan.remove.push(...entries.slice(n));
  }
  return plan;
}

export function applyPrune(plan: PrunePlan): void {
  for (const e of plan.remove) {
    removeQuietly(manifestPathOf(e.file));
    removeQuietly(e.file);
  }
}
