/**
 * Routine upkeep run by ops (often from cron / Task Scheduler): purging expired revoked tokens.
 * Archiving lives in ./archive.ts, the invariant checks in ./invariants.ts.
 */
import type { Knex } from 'knex';
import { writeAudit } from './audit.js';
import { InvalidInput } from './errors.js';
import { purgeExpiredTokens } from './tokens.js';

export interface PurgeTokensOptions {
  actor: string;
  /** Tokens that expired before this instant go (default: now). */
  now?: Date;
  batchSize?: number;
  dryRun?: boolean;
  onBatch?: (deletedSoFar: number) => void;
}

export interface PurgeTokensResult {
  expiredBefore: Date;
  /** Deleted, or with dryRun, would be deleted. */
  count: number;
  dryRun: boolean;
}

/**
 * Deletes revoked tokens whose JWT has expired (they can no longer be presented anyway), in batches
 * of bounded size (src/domain/tokens.ts, each batch its own short transaction), then records one
 * `maintenance.purge-tokens` audit row with the count when something was deleted.
 */
export async function purgeTokens(db: Knex, options: PurgeTokensOptions): Promise<PurgeTokensResult> {
  const batchSize = options.batchSize ?? 5000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    throw new InvalidInput(`--batch-size must be from 1 to 100000, got ${batchSize}`);
  }
  const expiredBefore = options.now ?? new Date();
  const dryRun = Boolean(options.dryRun);
  const count = await purgeExpiredTokens(db, { before: expiredBefore, batchSize, dryRun, onBatch: options.onBatch });
  if (!dryRun && count > 0) {
    await writeAudit(db, {
      actor: options.actor,
      action: 'maintenance.purge-tokens',
      targetType: 'revoked_token',
      after: { deleted: count, expired_before: expiredBefore.toISOString() },
    });
  }
  return { expiredBefore, count, dryRun };
}
