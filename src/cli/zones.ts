/**
 * `billettigue zones`: which carriers serve which cities (zones desservies): list, add, update,
 * remove. One zone per (city, transporteur).
 */
import type { Command } from 'commander';
import { action, parsePositiveInt, type Ctx } from './context.js';
import { mutateAudited } from './audited.js';
import { SERVICE_FREQUENCIES, ZONE_TYPES } from '../db/schema.js';
import type { ZoneView } from '../domain/zones.js';

export function register(zones: Command): void {
  zones.addHelpText(
    'after',
    `
Examples:
  $ billettigue zones list --city orleans --serves pickup      # who can pick up a parcel in Orléans?
  $ billettigue zones create --transporteur 3 --city Orléans --region "Centre-Val de Loire" --type both --frequency daily --max-weight 30
  $ billettigue zones update 7 --frequency weekly
  $ billettigue zones delete 7 --yes`,
  );

  zones
    .command('list')
    .description('zones with their carrier (city matched ignoring case and accents)')
    .option('--transporteur <account>', 'only the zones of this carrier (account id or email)')
    .option('--city <name>', 'only this city ("orleans" finds Orléans)')
    .option('--type <type>', `only this zone_type exactly: ${ZONE_TYPES.join(', ')}`)
    .option('--serves <what>', 'pickup (pickup_only or both) or delivery (delivery_only or both)')
    .option('--limit <n>', 'at most this many zones', parsePositiveInt('--limit', 10000), 100)
    .option('--after <id>', 'keyset pagination: zones after this id', parsePositiveInt('--after'))
    .addHelpText('after', `
Examples:
  $ billettigue zones list --city "Orléans" --serves pickup
  $ billettigue zones list --transporteur transports.loire@example.fr --json`)
    .action(action(list));

  zones
    .command('add')
    .description('record that a carrier serves a city')
    .option('--transporteur <account>', 'the carrier (account id or email)')
    .option('--city <name>', 'the city, e.g. Orléans')
    .option('--region <name>', 'the region, e.g. Centre-Val de Loire')
    .option('--type <type>', `zone_type: ${ZONE_TYPES.join(', ')}`, 'both')
    .option('--frequency <f>', `service_frequency: ${SERVICE_FREQUENCIES.join(', ')}`)
    .option('--max-weight <kg>', 'max weight capacity in kg (at most 2 decimals, 0 or more)')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .option('--dry-run', 'check everything, write nothing')
    .addHelpText('after', `
A second zone for the same city and carrier is refused (exit 4), also when two processes add it at
the same time. Examples:
  $ billettigue zones create --transporteur 3 --city Orléans --type pickup_only --frequency daily
  $ billettigue zones create --transporteur 3 --city Tours --max-weight 25.5 --dry-run`)
    .action(action(add));

  zones
    .command('update <id>')
    .description('change a zone (only the fields given)')
    .option('--transporteur <account>', 'move the zone to another carrier (account id or email)')
    .option('--city <name>', 'new city name')
    .option('--region <name>', 'new region ("" clears it)')
    .option('--type <type>', `zone_type: ${ZONE_TYPES.join(', ')}`)
    .option('--frequency <f>', `service_frequency: ${SERVICE_FREQUENCIES.join(', ')}, or none`)
    .option('--max-weight <kg>', 'max weight capacity in kg, or none')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .option('--dry-run', 'show the result, write nothing')
    .addHelpText('after', `
Examples:
  $ billettigue zones update 7 --type delivery_only --frequency weekly
  $ billettigue zones update 7 --max-weight none --region ""`)
    .action(action(update));

  zones
    .command('remove <id>')
    .description('delete a zone (asks first)')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .option('--dry-run', 'show what would be removed, write nothing')
    .addHelpText('after', '\nExample:\n  $ billettigue zones delete 7 --yes')
    .action(action(remove));
}

const COLUMNS = [
  { header: 'id', value: (z: ZoneView) => z.id, align: 'right' as const },
  { header: 'city', value: (z: ZoneView) => z.city_name },
  { header: 'region', value: (z: ZoneView) => z.region ?? '' },
  { header: 'type', value: (z: ZoneView) => z.zone_type },
  { header: 'frequency', value: (z: ZoneView) => z.service_frequency ?? '' },
  { header: 'max kg', value: (z: ZoneView) => z.max_weight_capacity ?? '', align: 'right' as const },
  { header: 'transporteur', value: (z: ZoneView) => z.transporteur_email },
  { header: 'carries', value: (z: ZoneView) => z.transporteur_company_type },
  { header: 'account', value: (z: ZoneView) => z.transporteur_status },
];

interface ListOpts {
  transporteur?: string;
  city?: string;
  type?: string;
  serves?: string;
  limit: number;
  after?: number;
}

async function list(ctx: Ctx, opts: ListOpts): Promise<void> {
  const { oneOf } = await import('../domain/validate.js');
  const { listZones, parseZoneType, ZONE_SERVES } = await import('../domain/zones.js');
  const rows = await listZones(await ctx.db(), {
    transporteur: opts.transporteur,
    city: opts.city,
    type: opts.type === undefined ? undefined : parseZoneType(opts.type),
    serves: opts.serves === undefined ? undefined : oneOf(opts.serves.trim(), Object.keys(ZONE_SERVES) as Array<keyof typeof ZONE_SERVES>, '--serves'),
    limit: opts.limit,
    after: opts.after,
  });
  await ctx.ui.list(rows, COLUMNS, rows, { limit: opts.limit, cursor: (z) => z.id });
}

async function renderZone(ctx: Ctx, z: ZoneView): Promise<void> {
  await ctx.ui.record(
    {
      zone: z.id,
      city: z.city_name,
      region: z.region ?? '',
      type: z.zone_type,
      frequency: z.service_frequency ?? '',
      'max weight kg': z.max_weight_capacity ?? '',
      transporteur: `${z.transporteur_name} <${z.transporteur_email}> (${z.transporteur_company_type}, account ${z.transporteur_status})`,
    },
    z,
  );
}

interface AddOpts {
  transporteur?: string;
  city?: string;
  region?: string;
  type: string;
  frequency?: string;
  maxWeight?: string;
  reason?: string;
}

async function add(ctx: Ctx, opts: AddOpts): Promise<void> {
  const { InvalidInput } = await import('../domain/errors.js');
  const { parseWeight } = await import('../domain/money.js');
  const { addZone, normalizeCity, parseZoneType, parseFrequency } = await import('../domain/zones.js');
  if (!opts.transporteur) throw new InvalidInput('--transporteur is required (account id or email)', { code: 'missing_field' });
  const input = {
    transporteur: opts.transporteur,
    city: normalizeCity(opts.city),
    region: opts.region,
    type: parseZoneType(opts.type),
    frequency: opts.frequency === undefined ? null : parseFrequency(opts.frequency),
    maxWeight: opts.maxWeight === undefined ? null : parseWeight(opts.maxWeight, '--max-weight', { allowZero: true }),
  };
  const r = await mutateAudited(
    ctx,
    (trx) => addZone(trx, input),
    (added) => ({ action: 'zones.add', targetType: 'zone', targetId: added.zone.id, reason: opts.reason, after: auditView(added.zone) }),
  );
  if (r.inactiveCarrier) ctx.ui.warn(`${r.inactiveCarrier}: it cannot take envois until it is active again`);
  ctx.ui.success(`${ctx.dryRun ? 'would add' : 'added'} zone ${r.zone.id}: ${r.zone.transporteur_email} serves ${r.zone.city_name}`);
  await renderZone(ctx, r.zone);
}

interface UpdateOpts {
  transporteur?: string;
  city?: string;
  region?: string;
  type?: string;
  frequency?: string;
  maxWeight?: string;
  reason?: string;
}

const NONE = (v: string) => v.trim() === '' || v.trim().toLowerCase() === 'none';

async function update(ctx: Ctx, opts: UpdateOpts, args: string[]): Promise<void> {
  const { parseId } = await import('../domain/validate.js');
  const { parseWeight } = await import('../domain/money.js');
  const { updateZone, normalizeCity, parseZoneType, parseFrequency } = await import('../domain/zones.js');
  const id = parseId(args[0]!, 'zone');
  const patch = {
    transporteur: opts.transporteur,
    city: opts.city === undefined ? undefined : normalizeCity(opts.city),
    region: opts.region === undefined ? undefined : opts.region.trim() === '' ? null : opts.region,
    type: opts.type === undefined ? undefined : parseZoneType(opts.type),
    frequency: opts.frequency === undefined ? undefined : NONE(opts.frequency) ? null : parseFrequency(opts.frequency),
    maxWeight: opts.maxWeight === undefined ? undefined : NONE(opts.maxWeight) ? null : parseWeight(opts.maxWeight, '--max-weight', { allowZero: true }),
  };
  const r = await mutateAudited(
    ctx,
    (trx) => updateZone(trx, id, patch),
    (change) => ({
      action: 'zones.update',
      targetType: 'zone',
      targetId: id,
      reason: opts.reason,
      before: auditView(change.before),
      after: auditView(change.after),
    }),
  );
  ctx.ui.success(`${ctx.dryRun ? 'would update' : 'updated'} zone ${id}`);
  await renderZone(ctx, r.after);
}

async function remove(ctx: Ctx, opts: { reason?: string }, args: string[]): Promise<void> {
  const { parseId } = await import('../domain/validate.js');
  const { getZone, removeZone } = await import('../domain/zones.js');
  const id = parseId(args[0]!, 'zone');
  const zone = await getZone(await ctx.db(), id);
  await ctx.confirm(`remove zone ${id} (${zone.transporteur_email} serving ${zone.city_name})?`);
  const removed = await mutateAudited(
    ctx,
    (trx) => removeZone(trx, id),
    (z) => ({ action: 'zones.remove', targetType: 'zone', targetId: id, reason: opts.reason, before: auditView(z) }),
  );
  ctx.ui.success(`${ctx.dryRun ? 'would remove' : 'removed'} zone ${id}: ${removed.transporteur_email} no longer serves ${removed.city_name}`);
  await renderZone(ctx, removed);
}

function auditView(z: ZoneView): Record<string, unknown> {
  return {
    city_name: z.city_name,
    region: z.region,
    zone_type: z.zone_type,
    service_frequency: z.service_frequency,
    max_weight_capacity: z.max_weight_capacity,
    transporteur_id: z.transporteur_id,
  };
}
