/** `backup prune --keep N`: the N newest backups stay (never fewer than one), the rest go. */
import { InvalidInput } from '../domain/errors.js';
import { listBackups, manifestPathOf, removeQuietly, type BackupEntry } from './files.js';

export interface PrunePlan {
  keep: BackupEntry[];
  remove: BackupEntry[];
}

export function planPrune(dir: string, keep: number): PrunePlan {
  if (!Number.isInteger(keep) || keep < 1) throw new InvalidInput('--keep must be at least 1: the newest backup is never deleted');
  const all = listBackups(dir);
  return { keep: all.slice(0, keep), remove: all.slice(keep) };
}

export function applyPrune(plan: PrunePlan): void {
  for (const e of plan.remove) {
    removeQuietly(manifestPathOf(e.file));
    removeQuietly(e.file);
  }
}
