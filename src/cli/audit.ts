/** `billettigue audit list`: who changed what, when. */
import type { Command } from 'commander';
import { action, parseDateOption, parsePositiveInt, type Ctx } from './context.js';
import { displayTime, zoned } from './ui.js';

export function register(audit: Command): void {
  audit.addHelpText(
    'after',
    `
Examples:
  $ billettigue audit list --since 2026-11-01 --actor alice
  $ billettigue audit list --action accounts.unlock --json`,
  );
  audit
    .command('list')
    .description('audit entries, newest first')
    .option('--since <date>', 'only entries at or after this date (YYYY-MM-DD or ISO 8601)', parseDateOption('--since'))
    .option('--actor <name>', 'only entries by this actor')
    .option('--action <action>', 'only this action (e.g. accounts.unlock), or a prefix ending in "." (accounts.)')
    .option('--target <type:id>', 'only entries about this record, e.g. compte:42')
    .option('--limit <n>', 'at most this many entries', parsePositiveInt('--limit', 10000), 50)
    .option('--before <id>', 'keyset pagination: entries older than this audit id', parsePositiveInt('--before'))
    .addHelpText('after', `
Examples:
  $ billettigue audit list --since 2026-11-01 --action accounts.
  $ billettigue audit list --target compte:42 --json`)
    .action(action(list));
}

interface ListOpts {
  since?: Date;
  actor?: string;
  action?: string;
  target?: string;
  limit: number;
  before?: number;
}

async function list(ctx: Ctx, opts: ListOpts): Promise<void> {
  const { listAudit } = await import('../domain/audit.js');
  const [targetType, targetId] = opts.target ? opts.target.split(':', 2) : [];
  const rows = await listAudit(await ctx.db(), {
    since: opts.since,
    actor: opts.actor,
    action: opts.action,
    targetType: targetType || undefined,
    targetId: targetId || undefined,
    limit: opts.limit,
    before: opts.before,
  });
  await ctx.ui.list(rows, [
    { header: 'id', value: (r) => r.id, align: 'right' },
    { header: zoned('when'), key: 'when', value: (r) => displayTime(r.created_at) },
    { header: 'actor', value: (r) => r.actor },
    { header: 'action', value: (r) => r.action },
    { header: 'target', value: (r) => (r.target_type ? `${r.target_type}:${r.target_id ?? ''}` : '') },
    { header: 'reason', value: (r) => r.reason ?? '' },
    { header: 'change', value: (r) => summarize(r.before, r.after) },
  ], rows, { limit: opts.limit, cursor: (r) => r.id, flag: '--before' });
}

function summarize(before: unknown, after: unknown): string {
  const text = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v));
  const b = text(before);
  const a = text(after);
  const s = b && a ? `${b} → ${a}` : a || b;
  return s;
}
