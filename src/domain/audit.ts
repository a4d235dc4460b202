/**
 * The audit writer: every mutating command records who did what to which record, with a
 * before/after summary, inside the transaction of the change (so a rolled-back change leaves no
 * audit row, and a committed one always has one).
 */
import type { Knex } from 'knex';
import { toDbTime, isoOrNull } from '../db/values.js';
import type { AuditRow } from '../db/rows.js';

export interface AuditEntry {
  actor: string;
  /** `<group>.<verb>`, e.g. `accounts.lock`. */
  action: string;
  targetType?: string | null;
  targetId?: string | number | null;
  reason?: string | null;
  before?: unknown;
  after?: unknown;
}

/** Who acts: BILLETTIGUE_ACTOR, else the OS user name. */
export function actorFromEnv(env: NodeJS.ProcessEnv, osUser: () => string): string {
  const a = env.BILLETTIGUE_ACTOR?.trim();
  if (a) return a;
  try {
    return osUser() || 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function writeAudit(trx: Knex | Knex.Transaction, entry: AuditEntry): Promise<void> {
  await trx('audit_log').insert({
    actor: entry.actor,
    action: entry.action,
    target_type: entry.targetType ?? null,
    target_id: entry.targetId === undefined || entry.targetId === null ? null : String(entry.targetId),
    reason: entry.reason ?? null,
    before_json: entry.before === undefined ? null : JSON.stringify(entry.before),
    after_json: entry.after === undefined ? null : JSON.stringify(entry.after),
    created_at: toDbTime(new Date()),
  });
}

export interface AuditQuery {
  since?: Date;
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  limit: number;
  /** Keyset: entries older than this id. */
  before?: number;
}

export interface AuditRecord {
  id: number;
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  reason: string | null;
  before: unknown;
  after: unknown;
  created_at: string | null;
}

/** Newest first. `action` matches exactly or as a prefix ending in '.', e.g. `accounts.`. */
export async function listAudit(db: Knex | Knex.Transaction, q: AuditQuery): Promise<AuditRecord[]> {
  const qb = db<AuditRow>('audit_log').select('*').orderBy('id', 'desc').limit(q.limit);
  if (q.since) qb.where('created_at', '>=', toDbTime(q.since));
  if (q.actor) qb.where('actor', q.actor);
  if (q.action) {
    if (q.action.endsWith('.')) qb.where('action', 'like', `${q.action.replace(/[%_\\]/g, '\\$&')}%`);
    else qb.where('action', q.action);
  }
  if (q.targetType) qb.where('target_type', q.targetType);
  if (q.targetId) qb.where('target_id', q.targetId);
  if (q.before) qb.where('id', '<', q.before);
  const rows = (await qb) as AuditRow[];
  return rows.map((r) => ({
    id: r.id,
    actor: r.actor,
    action: r.action,
    target_type: r.target_type,
    target_id: r.target_id,
    reason: r.reason,
    before: r.before_json ? (JSON.parse(r.before_json) as unknown) : null,
    after: r.after_json ? (JSON.parse(r.after_json) as unknown) : null,
    created_at: isoOrNull(r.created_at),
  }));
}
