/**
 * `billettigue envois`: parcel shipments from drop-off to delivery.
 * list, show, create, and the status verbs accept / ship / deliver / cancel (docs/envois.md).
 */
import type { Command } from 'commander';
import { action, parseDateOption, parsePositiveInt, readStdin, type Ctx } from './context.js';
import { mutateAudited } from './audited.js';
import { displayTime, zoned, type Column } from './ui.js';
import { InvalidInput } from '../domain/errors.js';
import type { ColisInput, ColisView, EnvoiDetail, EnvoiSort, EnvoiSummary, EnvoiVerb, StatusTotal } from '../domain/envois.js';
import { COLIS_STATUSES, ENVOI_STATUSES, type EnvoiStatus } from '../db/schema.js';

const VERBS: Record<EnvoiVerb, { to: EnvoiStatus; description: string; example: string; confirm?: boolean }> = {
  accept: {
    to: 'accepted',
    description: 'the carrier takes the envoi: pending → accepted (its colis become packaged)',
    example: 'billettigue envois accept 12',
  },
  ship: {
    to: 'in_transit',
    description: 'the envoi leaves: accepted → in_transit (its colis become shipped, lost ones stay lost)',
    example: 'billettigue envois ship 12',
  },
  deliver: {
    to: 'delivered',
    description: 'the envoi arrives: in_transit → delivered (its colis become delivered, lost ones stay lost)',
    example: 'billettigue envois deliver 12',
  },
  cancel: {
    to: 'cancelled',
    description: 'cancel the envoi before it ships: pending|accepted → cancelled (final; asks first)',
    example: 'billettigue envois cancel 12 --reason "sender withdrew" --yes',
    confirm: true,
  },
};

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function register(envois: Command): void {
  envois.addHelpText(
    'after',
    `
Life of an envoi: pending → accepted → in_transit → delivered; cancel while pending or accepted.
Its colis follow: pending → packaged → shipped → delivered, except those marked lost
(\`billettigue colis mark-lost <id>\`). Shipping cost of a colis: BILLETTIGUE_COLIS_BASE (5.00)
+ BILLETTIGUE_COLIS_PER_KG (1.50) × weight, rounded to the cent.

Examples:
  $ billettigue zones list --city orleans --serves pickup
  $ billettigue envois create --expediteur jeanne@example.fr --transporteur 3 --description "Cartons" \\
      --recipient-name "Paul Martin" --recipient-phone "06 12 34 56 78" \\
      --colis "Livres:2.5:30x20x10" --colis "Vaisselle:4" --colis "Lampe:1.2:40 x 25 x 25"
  $ billettigue envois accept 12 && billettigue envois ship 12 && billettigue envois deliver 12
  $ billettigue envois list --status in_transit --transporteur 3 --json`,
  );

  envois
    .command('list')
    .description('envois with their sender, carrier, colis count, total weight and cost (newest first)')
    .option('--status <status>', `only this status: ${ENVOI_STATUSES.join(', ')}`)
    .option('--transporteur <account>', 'only envois of this carrier (account id or email)')
    .option('--expediteur <account>', 'only envois of this sender (account id or email)')
    .option('--since <date>', 'only envois created at or after this day (YYYY-MM-DD, display time zone) or time (ISO 8601)', parseDateOption('--since'))
    .option('--sort <field>', 'id (oldest first) or -id (newest first)', '-id')
    .option('--limit <n>', 'at most this many envois', parsePositiveInt('--limit', 10000), 50)
    .option('--after <id>', 'keyset pagination: envois after this id in the sort order', parsePositiveInt('--after'))
    .addHelpText('after', `
Examples:
  $ billettigue envois list --status pending
  $ billettigue envois list --expediteur jeanne@example.fr --since 2026-11-01
  $ billettigue envois list --limit 50 --after 1200     # next page (newest first: ids below 1200)`)
    .action(action(list));

  envois
    .command('show <id>')
    .description('one envoi: sender, recipient, carrier, every colis, total weight and cost (delivered vs lost)')
    .addHelpText('after', `
Examples:
  $ billettigue envois show 12
  $ billettigue envois show 12 --json | jq .totals`)
    .action(action(show));

  envois
    .command('create')
    .description('create an envoi and all its colis in one transaction')
    .option('--expediteur <account>', 'the sender: an active utilisateur (account id or email)')
    .option('--transporteur <account>', 'the carrier, by account id or email: an active transporteur of type colis or mixte')
    .option('--description <text>', 'what the envoi is')
    .option('--recipient-name <name>', 'who receives it')
    .option('--recipient-phone <phone>', 'recipient phone (06 12 34 56 78 or +33612345678; stored as E.164)')
    .option('--colis <spec>', 'a colis "description:weight[:LxlxH]" (kg, cm); repeat for each colis', collect, [])
    .option('--colis-file <file>', 'JSON array of {"description","weight","dimensions"} ("-" reads stdin)')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .option('--dry-run', 'check and compute everything, show the envoi, write nothing')
    .addHelpText('after', `
Colis: "description:weight[:LxlxH]", weight in kg (at most 2 decimals, > 0), dimensions in cm,
e.g. "Livres:2.5:30x20x10", "Vaisselle:4", "Lampe:1.2:40 x 25 x 25". The description may contain
":" (weight and dimensions are read from the end).
--colis-file: [{"description": "Livres", "weight": 2.5, "dimensions": "30x20x10"}, …]

Examples:
  $ billettigue envois create --expediteur 7 --transporteur transports.loire@example.fr \\
      --description "Déménagement" --recipient-name "Paul Martin" --recipient-phone +33612345678 \\
      --colis-file colis.json
  $ billettigue envois create … --colis "Livres:2.5" --dry-run --json`)
    .action(action(create));

  for (const [verb, def] of Object.entries(VERBS) as Array<[EnvoiVerb, (typeof VERBS)[EnvoiVerb]]>) {
    envois
      .command(`${verb} <id>`)
      .description(def.description)
      .option('--reason <text>', 'why (recorded in the audit log)')
      .option('--dry-run', 'show the result, write nothing')
      .addHelpText('after', `\nExample:\n  $ ${def.example}`)
      .action(action((ctx, opts: MoveOpts, args) => move(ctx, verb, args[0]!, opts)));
  }
}

// ---- list -----------------------------------------------------------------------------------

interface ListOpts {
  status?: string;
  transporteur?: string;
  expediteur?: string;
  since?: Date;
  sort: string;
  limit: number;
  after?: number;
}

async function list(ctx: Ctx, opts: ListOpts): Promise<void> {
  const { oneOf } = await import('../domain/validate.js');
  const { listEnvois, ENVOI_SORTS } = await import('../domain/envois.js');
  const status = opts.status === undefined ? undefined : oneOf(opts.status.trim(), ENVOI_STATUSES, '--status');
  const sort = oneOf(opts.sort.trim(), ENVOI_SORTS, '--sort') as EnvoiSort;
  const rows = await listEnvois(await ctx.db(), {
    status,
    transporteur: opts.transporteur,
    expediteur: opts.expediteur,
    since: opts.since,
    sort,
    limit: opts.limit,
    after: opts.after,
  });
  const columns: Column<EnvoiSummary>[] = [
    { header: 'id', value: (r) => r.id, align: 'right' },
    { header: zoned('created'), key: 'created', value: (r) => utc(r.created_at) },
    { header: 'status', value: (r) => r.status },
    { header: 'description', value: (r) => r.description },
    { header: 'expediteur', value: (r) => r.expediteur_email },
    { header: 'recipient', value: (r) => r.recipient_name, wide: true },
    { header: 'transporteur', value: (r) => r.transporteur_email },
    { header: 'colis', value: (r) => (r.lost_count ? `${r.colis_count} (${r.lost_count} lost)` : r.colis_count), align: 'right' },
    { header: 'weight kg', key: 'weight', value: (r) => r.total_weight, align: 'right', wide: true },
    { header: 'cost', value: (r) => r.total_shipping_cost, align: 'right', kind: 'money' },
  ];
  await ctx.ui.list(rows, columns, rows, { limit: opts.limit, cursor: (r) => r.id });
}

// ---- show -----------------------------------------------------------------------------------

async function show(ctx: Ctx, _opts: unknown, args: string[]): Promise<void> {
  const { getEnvoi } = await import('../domain/envois.js');
  await renderEnvoi(ctx, await getEnvoi(await ctx.db(), args[0]!));
}

export async function renderEnvoi(ctx: Ctx, e: EnvoiDetail): Promise<void> {
  const x = e.expediteur;
  const t = e.transporteur;
  await ctx.ui.record(
    {
      envoi: e.id,
      status: e.status,
      description: e.description,
      expediteur: `${x.first_name} ${x.last_name} <${x.email}> (account ${x.compte_id})`,
      recipient: `${e.recipient_name}, ${e.recipient_phone}`,
      transporteur: `${t.company_name ?? t.email} <${t.email}> (account ${t.compte_id}, ${t.company_type})`,
      [zoned('created')]: utc(e.created_at),
      [zoned('updated')]: utc(e.updated_at),
    },
    e,
  );
  await ctx.ui.section<ColisView>(`colis (${e.colis.length})`, e.colis, [
    { header: 'id', value: (c) => c.id, align: 'right' },
    { header: 'description', value: (c) => clip(c.description, 40) },
    { header: 'weight kg', value: (c) => c.weight, align: 'right' },
    { header: 'dimensions cm', value: (c) => c.dimensions ?? '' },
    { header: 'cost', value: (c) => c.shipping_cost, align: 'right', kind: 'money' },
    { header: 'status', value: (c) => c.status },
  ]);
  const totals: Array<{ label: string } & StatusTotal> = [
    { label: 'all colis', colis: e.totals.colis, weight: e.totals.weight, shipping_cost: e.totals.shipping_cost },
    ...COLIS_STATUSES.filter((s) => e.totals.by_status[s].colis > 0).map((s) => ({ label: s, ...e.totals.by_status[s] })),
  ];
  await ctx.ui.section('totals (lost colis count in the totals: they were handed over and charged)', totals, [
    { header: '', value: (r) => r.label },
    { header: 'colis', value: (r) => r.colis, align: 'right' },
    { header: 'weight kg', value: (r) => r.weight, align: 'right' },
    { header: 'cost', value: (r) => r.shipping_cost, align: 'right', kind: 'money' },
  ]);
}

// ---- create ---------------------------------------------------------------------------------

interface CreateOpts {
  expediteur?: string;
  transporteur?: string;
  description?: string;
  recipientName?: string;
  recipientPhone?: string;
  colis: string[];
  colisFile?: string;
  reason?: string;
}

async function create(ctx: Ctx, opts: CreateOpts): Promise<void> {
  const { createEnvoi, parseColisSpec, parseColisFile } = await import('../domain/envois.js');
  if (!opts.expediteur) throw new InvalidInput('--expediteur is required (account id or email)', { code: 'missing_field' });
  if (!opts.transporteur) throw new InvalidInput('--transporteur is required (account id or email)', { code: 'missing_field' });
  if (opts.colis.length > 0 && opts.colisFile) {
    throw new InvalidInput('choose one of --colis and --colis-file', { code: 'invalid_usage' });
  }
  let colis: ColisInput[];
  if (opts.colisFile) colis = parseColisFile(await readColisFile(opts.colisFile));
  else colis = opts.colis.map((spec, i) => parseColisSpec(spec, i + 1));

  const input = {
    expediteur: opts.expediteur,
    transporteur: opts.transporteur,
    description: opts.description,
    recipientName: opts.recipientName,
    recipientPhone: opts.recipientPhone,
    colis,
  };
  const envoi = await mutateAudited(
    ctx,
    (trx) => createEnvoi(trx, input, { baseCents: ctx.settings.colisBaseCents, perKgCents: ctx.settings.colisPerKgCents }),
    (e) => ({
      action: 'envois.create',
      targetType: 'envoi',
      targetId: e.id,
      reason: opts.reason,
      after: {
        status: e.status,
        expediteur_id: e.expediteur.id,
        transporteur_id: e.transporteur.id,
        colis: e.totals.colis,
        total_weight: e.totals.weight,
        total_shipping_cost: e.totals.shipping_cost,
      },
    }),
  );
  ctx.ui.success(
    `${ctx.dryRun ? 'would create' : 'created'} envoi ${envoi.id} with ${envoi.totals.colis} colis: ${envoi.totals.weight} kg, shipping ${envoi.totals.shipping_cost}`,
  );
  await renderEnvoi(ctx, envoi);
}

async function readColisFile(file: string): Promise<string> {
  if (file === '-') return readStdin();
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String((err as Error).message);
    throw new InvalidInput(`--colis-file: cannot read ${file} (${why})`, { code: 'invalid_colis_file' });
  }
}

// ---- status verbs ---------------------------------------------------------------------------

interface MoveOpts {
  reason?: string;
}

async function move(ctx: Ctx, verb: EnvoiVerb, id: string, opts: MoveOpts): Promise<void> {
  const { moveEnvoi, checkEnvoiMove } = await import('../domain/envois.js');
  const { parseId } = await import('../domain/validate.js');
  const envoiId = parseId(id, 'envoi');
  const def = VERBS[verb];
  if (def.confirm) {
    // Refuse an impossible move before asking; the transaction checks again under lock.
    const current = await checkEnvoiMove(await ctx.db(), envoiId, def.to);
    await ctx.confirm(`${verb} envoi ${envoiId} (${current})? this is final`);
  }
  const result = await mutateAudited(
    ctx,
    (trx) => moveEnvoi(trx, envoiId, def.to),
    (r) => ({
      action: `envois.${verb}`,
      targetType: 'envoi',
      targetId: envoiId,
      reason: opts.reason,
      before: { status: r.from },
      after: { status: r.to, colis_moved: r.colisMoved, colis_lost: r.colisLost },
    }),
  );
  const moved = Object.entries(result.colisMoved).map(([s, n]) => `${n} colis ${s}`);
  if (result.colisLost > 0) moved.push(`${result.colisLost} lost`);
  ctx.ui.success(
    `${ctx.dryRun ? 'would move' : 'moved'} envoi ${envoiId}: ${result.from} → ${result.to}${moved.length ? ` (${moved.join(', ')})` : ''}`,
  );
  if (result.to === 'delivered' && result.colisLost > 0 && result.colisLost === result.envoi.totals.colis) {
    ctx.ui.warn(`every colis of envoi ${envoiId} is lost`);
  }
  await renderEnvoi(ctx, result.envoi);
}

// ---- helpers --------------------------------------------------------------------------------

const utc = displayTime;

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}
