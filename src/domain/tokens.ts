/**
 * Revoked JWTs. The seed's UNIQUE on `token` (TEXT) is carried by `token_hash`, the SHA-256 hex of
 * the token: exact lookups use that indexed column.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { toDbTime } from '../db/values.js';

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface PurgeOptions {
  /** Delete tokens that expired before this instant (default: now). */
  before?: Date;
  /** Rows deleted per transaction (bounded so locks and undo stay small). */
  batchSize?: number;
  /** Count only. */
  dryRun?: boolean;
  onBatch?: (deletedSoFar: number) => void;
}

/**
 * Deletes expired revoked tokens in batches of bounded size, each batch its own short transaction;
 * returns how many were (or, with dryRun, would be) deleted.
 */
export async function purgeExpiredTokens(db: Knex, options: PurgeOptions = {}): Promise<number> {
  const cutoff = toDbTime(options.before ?? new Date());
  const batchSize = options.batchSize ?? 5000;
  if (options.dryRun) {
    const row = (await db('revoked_tokens').where('expires_at', '<', cutoff).count({ n: '*' }).first()) as { n: number | string };
    return Number(row.n);
  }
  let total = 0;
  for (;;) {
    const deleted: number = await db.transaction(async (trx): Promise<number> => {
      const ids = (await trx('revoked_tokens').where('expires_at', '<', cutoff).orderBy('id').limit(batchSize).pluck('id')) as number[];
      if (ids.length === 0) return 0;
      return trx('revoked_tokens').whereIn('id', ids).del();
    });
    total += deleted;
    options.onBatch?.(total);
    if (deleted < batchSize) return total;
  }
}
