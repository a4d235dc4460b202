/**
 * `billettigue payments`: list, show, and the revenue summary (`list --summary` or `summary`).
 * Paiements change only through their reservation (`billettigue reservations confirm|cancel|…`).
 */
import type { Command } from 'commander';
import { action, parsePositiveInt, type Ctx } from './context.js';
import type { PaiementStatus } from '../db/schema.js';
import { localTime, zoneLabel } from './trajets.js';
import { reservationRecord } from './reservations.js';

const id = (v: string): number => parsePositiveInt('id')(v);

export function register(cmd: Command): void {
  cmd.addHelpText(
    'after',
    `
Examples:
  $ billettigue payments list --status completed --since 2026-11-01
  $ billettigue payments list --summary
  $ billettigue payments show 1001 --json`,
  );

  cmd
    .command('list')
    .description('paiements by id, or with --summary the totals by status and by month')
    .option('--status <status>', 'pending, completed, failed or refunded')
    .option('--since <date>', 'payment date on or after this day (local, YYYY-MM-DD) or time (ISO 8601 with a zone)')
    .option('--summary', 'totals by status and by month instead of the list (money summed exactly)')
    .option('--limit <n>', 'at most N paiements', parsePositiveInt('--limit', 10000), 50)
    .option('--after <id>', 'keyset pagination: paiements after this id', parsePositiveInt('--after'))
    .addHelpText('after', `
Examples:
  $ billettigue payments list --status refunded
  $ billettigue payments list --summary --since 2026-01-01 --json`)
    .action(action(list));

  cmd
    .command('summary')
    .description('revenue summary: totals by status and by month (same as list --summary)')
    .option('--status <status>', 'pending, completed, failed or refunded')
    .option('--since <date>', 'payment date on or after this day (local, YYYY-MM-DD) or time (ISO 8601 with a zone)')
.addHelpText('after', `\nExample:\n  $ billettigue payments summary --since 2026-01-01`)
    .action(action((ctx: Ctx, opts: ListOpts) => summary(ctx, opts)));

  cmd
    .command('show')
    .description('a paiement with its reservation and trajet')
    .argument('<id>', 'paiement id', id)
    .addHelpText('after', `\nExample:\n  $ billettigue payments show 1001`)
    .action(action(show));
}

interface ListOpts {
  status?: string;
  since?: string;
  summary?: boolean;
  limit: number;
  after?: number;
}

async function sinceOf(opts: ListOpts): Promise<Date | undefined> {
  if (opts.since === undefined) return undefined;
  const { parseDayOrInstant } = await import('../domain/trajets.js');
  return parseDayOrInstant(opts.since, '--since', 'start');
}

async function list(ctx: Ctx, opts: ListOpts): Promise<void> {
  if (opts.summary) return summary(ctx, opts);
  const { listPaiements } = await import('../domain/paiements.js');
  const rows = await listPaiements(await ctx.db(), {
    status: opts.status as PaiementStatus | undefined,
    since: await sinceOf(opts),
    limit: opts.limit,
    after: opts.after,
  });
  await ctx.ui.list(
    rows,
    [
      { header: 'id', value: (p) => p.id, align: 'right' },
      { header: 'reservation', value: (p) => `#${p.reservation_id} (${p.reservation_status})` },
      { header: 'passenger', value: (p) => p.passenger },
      { header: 'trajet', value: (p) => `#${p.trajet_id}` },
      { header: 'amount', value: (p) => p.amount, align: 'right', kind: 'money' },
      { header: 'status', value: (p) => p.status },
      { header: `payment date (${zoneLabel()})`, key: 'payment_date', value: (p) => localTime(p.payment_date) },
    ],
    rows,
    { limit: opts.limit, cursor: (p) => p.id },
  );
}

async function summary(ctx: Ctx, opts: Pick<ListOpts, 'status' | 'since'>): Promise<void> {
  const { paiementSummary } = await import('../domain/paiements.js');
  const s = await paiementSummary(await ctx.db(), {
    status: opts.status as PaiementStatus | undefined,
    since: await sinceOf(opts as ListOpts),
  });
  if (ctx.ui.json) return ctx.ui.printJson(s);
  await ctx.ui.section('by status', s.by_status, [
    { header: 'status', value: (r) => r.status },
    { header: 'paiements', value: (r) => r.count, align: 'right' },
    { header: 'amount', value: (r) => r.amount, align: 'right', kind: 'money' },
  ]);
  await ctx.ui.section(`by month (${zoneLabel()})`, s.by_month, [
    { header: 'month', value: (r) => r.month },
    { header: 'paiements', value: (r) => r.count, align: 'right' },
    { header: 'pending', value: (r) => r.pending, align: 'right' },
    { header: 'completed', value: (r) => r.completed, align: 'right' },
    { header: 'failed', value: (r) => r.failed, align: 'right' },
    { header: 'refunded', value: (r) => r.refunded, align: 'right' },
    { header: 'revenue', value: (r) => r.revenue, align: 'right', kind: 'money' },
  ]);
  ctx.ui.line(`\ntotal: ${s.total.count} paiements, ${s.total.amount} in all, revenue (completed) ${s.total.revenue}`);
}

async function show(ctx: Ctx, _opts: unknown, args: string[]): Promise<void> {
  const { getPaiement } = await import('../domain/paiements.js');
  const p = await getPaiement(await ctx.db(), Number(args[0]));
  if (ctx.ui.json) return ctx.ui.printJson(p);
  await ctx.ui.record(
    {
      id: p.id,
      amount: p.amount,
      status: p.status,
      [`payment date (${zoneLabel()})`]: localTime(p.payment_date),
      'payment date (UTC)': p.payment_date,
    },
    p,
    `paiement ${p.id}`,
  );
  await ctx.ui.record(reservationRecord(p.reservation), undefined, `\nreservation ${p.reservation.id}`);
}
