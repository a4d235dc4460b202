/**
 * Retrying a transaction that lost a conflict (deadlock; on a Galera cluster also a brute-force
 * abort or a certification failure at COMMIT, all error 1213): the whole transaction rolled back,
 * so it runs again from the start, as the engine of the connection says (how often, how long to
 * wait). When the retries run out it is a Conflict (exit 4, "busy, retry"), never a raw driver
 * error. BILLETTIGUE_CONFLICT_RETRIES overrides the number of retries (0 = none).
 */
import type { Knex } from 'knex';
import { Conflict, InvalidInput } from '../domain/errors.js';
import { engineOf } from './engines/index.js';
import { SERVER_RETRY } from './engines/retry.js';
import { isDeadlock } from './errors.js';

function retriesFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.BILLETTIGUE_CONFLICT_RETRIES;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n > 1000) {
    throw new InvalidInput(`BILLETTIGUE_CONFLICT_RETRIES=${raw} is invalid: expected a whole number from 0 to 1000`);
  }
  return n;
}

/** Runs `attempt` (one whole transaction), again from the start while it loses a conflict. */
export async function retryOnConflict<T>(db: Knex | Knex.Transaction, attempt: () => Promise<T>, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const override = retriesFromEnv(env);
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isDeadlock(err)) throw err;
      // The policy is asked after the first failure: by then the pool knows its server.
      const policy = engineOf(db).conflictRetry?.(db) ?? SERVER_RETRY;
      const retries = override ?? policy.retries;
      if (n > retries) throw new Conflict(policy.busyMessage(n), { code: 'busy', cause: err, details: { attempts: n } });
      await new Promise((r) => setTimeout(r, policy.delayMs(n)));
    }
  }
}
