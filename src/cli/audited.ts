/**
 * The shape every mutating verb of envois/colis/zones shares: the change and its one audit row in
 * the same `ctx.mutate()` transaction (so a dry run or a failure leaves neither).
 */
import type { Knex } from 'knex';
import type { AuditEntry } from '../domain/audit.js';
import type { Ctx } from './context.js';

export async function mutateAudited<T>(
  ctx: Ctx,
  change: (trx: Knex.Transaction) => Promise<T>,
  audit: (result: T) => Omit<AuditEntry, 'actor'>,
): Promise<T> {
  return ctx.mutate(async (trx) => {
    const result = await change(trx);
    const { writeAudit } = await import('../domain/audit.js');
    await writeAudit(trx, { actor: ctx.actor, ...audit(result) });
    return result;
  });
}
