/**
 * `billettigue colis`: the parcels of an envoi, one at a time: list, show, mark-lost, update.
 * Colis otherwise move with their envoi (`billettigue envois accept|ship|deliver`).
 */
import type { Command } from 'commander';
import { action, parsePositiveInt, type Ctx } from './context.js';
import { mutateAudited } from './audited.js';
import { displayTime, zoned } from './ui.js';
import { COLIS_STATUSES } from '../db/schema.js';
import type { ColisView } from '../domain/envois.js';
import type { ColisDetail } from '../domain/colis.js';

export function register(colis: Command): void {
  colis.addHelpText(
    'after',
    `
A colis moves with its envoi (pending → packaged → shipped → delivered); the only change made to
one colis alone is mark-lost (from packaged or shipped). While the envoi is pending, a colis'
weight, dimensions and description can be corrected: its cost is recomputed.

Examples:
  $ billettigue colis list --envoi 12
  $ billettigue colis mark-lost 31 --reason "not found at the depot" --yes
  $ billettigue colis update 31 --weight 3.2 --dimensions "40x30x20"`,
  );

  colis
    .command('list')
    .description('colis, oldest first (filter by envoi and status)')
    .option('--envoi <id>', 'only the colis of this envoi', parsePositiveInt('--envoi'))
    .option('--status <status>', `only this status: ${COLIS_STATUSES.join(', ')}`)
    .option('--limit <n>', 'at most this many colis', parsePositiveInt('--limit', 10000), 50)
    .option('--after <id>', 'keyset pagination: colis after this id', parsePositiveInt('--after'))
    .addHelpText('after', `
Examples:
  $ billettigue colis list --envoi 12
  $ billettigue colis list --status lost --json`)
    .action(action(list));

  colis
    .command('show <id>')
    .description('one colis with its envoi')
    .addHelpText('after', '\nExample:\n  $ billettigue colis show 31')
    .action(action(show));

  colis
    .command('mark-lost <id>')
    .description('mark a packaged or shipped colis lost (final; asks first)')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .option('--dry-run', 'show the result, write nothing')
    .addHelpText('after', '\nExample:\n  $ billettigue colis mark-lost 31 --reason "damaged beyond repair" --yes')
    .action(action(markLost));

  colis
    .command('update <id>')
    .description('correct a pending colis (weight, dimensions, description); the cost is recomputed')
    .option('--weight <kg>', 'new weight in kg (at most 2 decimals, > 0)')
    .option('--dimensions <LxlxH>', 'new dimensions in cm, e.g. 30x20x10 ("none" clears them)')
    .option('--description <text>', 'new description')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .option('--dry-run', 'show the result, write nothing')
    .addHelpText('after', `
Examples:
  $ billettigue colis update 31 --weight 3.25
  $ billettigue colis update 31 --dimensions "40 x 30 x 20" --dry-run`)
    .action(action(update));
}

interface ListOpts {
  envoi?: number;
  status?: string;
  limit: number;
  after?: number;
}

async function list(ctx: Ctx, opts: ListOpts): Promise<void> {
  const { oneOf } = await import('../domain/validate.js');
  const { listColis } = await import('../domain/colis.js');
  const status = opts.status === undefined ? undefined : oneOf(opts.status.trim(), COLIS_STATUSES, '--status');
  const rows = await listColis(await ctx.db(), { envoiId: opts.envoi, status, limit: opts.limit, after: opts.after });
  await ctx.ui.list<ColisView>(rows, [
    { header: 'id', value: (c) => c.id, align: 'right' },
    { header: 'envoi', value: (c) => c.envoi_id, align: 'right', kind: 'id' },
    { header: 'description', value: (c) => c.description },
    { header: 'weight kg', value: (c) => c.weight, align: 'right' },
    { header: 'dimensions cm', value: (c) => c.dimensions ?? '' },
    { header: 'cost', value: (c) => c.shipping_cost, align: 'right', kind: 'money' },
    { header: 'status', value: (c) => c.status },
  ], rows, { limit: opts.limit, cursor: (c) => c.id });
}

async function show(ctx: Ctx, _opts: unknown, args: string[]): Promise<void> {
  const { getColis } = await import('../domain/colis.js');
  await renderColis(ctx, await getColis(await ctx.db(), args[0]!));
}

async function renderColis(ctx: Ctx, c: ColisDetail): Promise<void> {
  await ctx.ui.record(
    {
      colis: c.id,
      status: c.status,
      description: c.description,
      'weight kg': c.weight,
      'dimensions cm': c.dimensions ?? '',
      'shipping cost': c.shipping_cost,
      envoi: `${c.envoi.id} (${c.envoi.status})`,
      [zoned('updated')]: displayTime(c.updated_at),
    },
    c,
  );
}

interface MarkLostOpts {
  reason?: string;
}

async function markLost(ctx: Ctx, opts: MarkLostOpts, args: string[]): Promise<void> {
  const { parseId } = await import('../domain/validate.js');
  const { markColisLost, checkColisLost } = await import('../domain/colis.js');
  const id = parseId(args[0]!, 'colis');
  await checkColisLost(await ctx.db(), id);
  await ctx.confirm(`mark colis ${id} lost? this is final`);
  const r = await mutateAudited(
    ctx,
    (trx) => markColisLost(trx, id),
    (change) => ({
      action: 'colis.mark-lost',
      targetType: 'colis',
      targetId: id,
      reason: opts.reason,
      before: { status: change.before.status, envoi_id: change.before.envoi_id },
      after: { status: change.after.status },
    }),
  );
  ctx.ui.success(`${ctx.dryRun ? 'would mark' : 'marked'} colis ${id} of envoi ${r.after.envoi.id} lost (was ${r.before.status})`);
  await renderColis(ctx, r.after);
}

interface UpdateOpts {
  weight?: string;
  dimensions?: string;
  description?: string;
  reason?: string;
}

async function update(ctx: Ctx, opts: UpdateOpts, args: string[]): Promise<void> {
  const { parseId } = await import('../domain/validate.js');
  const { parseWeight } = await import('../domain/money.js');
  const { parseDimensions } = await import('../domain/envois.js');
  const { updateColis } = await import('../domain/colis.js');
  const id = parseId(args[0]!, 'colis');
  const dims = opts.dimensions?.trim();
  const patch = {
    description: opts.description,
    weight: opts.weight === undefined ? undefined : parseWeight(opts.weight, '--weight'),
    dimensions: dims === undefined ? undefined : dims === '' || dims.toLowerCase() === 'none' ? null : parseDimensions(dims, '--dimensions'),
  };
  const pick = (c: ColisView) => ({ description: c.description, weight: c.weight, dimensions: c.dimensions, shipping_cost: c.shipping_cost });
  const r = await mutateAudited(
    ctx,
    (trx) => updateColis(trx, id, patch, { baseCents: ctx.settings.colisBaseCents, perKgCents: ctx.settings.colisPerKgCents }),
    (change) => ({ action: 'colis.update', targetType: 'colis', targetId: id, reason: opts.reason, before: pick(change.before), after: pick(change.after) }),
  );
  ctx.ui.success(
    `${ctx.dryRun ? 'would update' : 'updated'} colis ${id}: ${r.before.weight} kg → ${r.after.weight} kg, cost ${r.before.shipping_cost} → ${r.after.shipping_cost}`,
  );
  await renderColis(ctx, r.after);
}
