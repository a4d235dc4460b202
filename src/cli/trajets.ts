/**
 * `billettigue trajets`: list, show, create, update, suspend, resume, complete, cancel.
 * Times: tables show the machine's local time (the zone is named in the header), JSON is ISO 8601
 * UTC; `--date DAY` is a calendar day of the local time zone (docs/bookings.md).
 */
import type { Command } from 'commander';
import { action, parsePositiveInt, type Ctx } from './context.js';
import { displayTime, type Column } from './ui.js';
import { localZoneName } from '../domain/dates.js';
import { InvalidInput } from '../domain/errors.js';
import type { TrajetStatus } from '../db/schema.js';
import type { ChangeResult, TrajetCloseSummary, TrajetSort, TrajetView } from '../domain/trajets.js';
import type { ReservationView } from '../domain/reservations.js';

// ---- rendering helpers shared by the bookings commands ----------------------------------------

/** ISO UTC → "2026-11-26 08:30" in the display time zone (the one rule: src/domain/dates.ts). */
export const localTime = displayTime;

/** The display zone's name for table headers ("departure (Europe/Paris)"). */
export const zoneLabel = localZoneName;

export function trajetColumns(): Column<TrajetView>[] {
  return [
    { header: 'id', value: (t) => t.id, align: 'right' },
    { header: 'from', value: (t) => t.departure_city },
    { header: 'to', value: (t) => t.arrival_city },
    { header: `departure (${zoneLabel()})`, key: 'departure', value: (t) => localTime(t.departure_time) },
    { header: 'price', value: (t) => t.price, align: 'right', kind: 'money' },
    { header: 'free/seats', key: 'seats', value: (t) => `${t.available_seats}/${t.seats_count}`, align: 'right' },
    { header: 'status', value: (t) => t.status },
    { header: 'carrier', value: (t) => `${t.transporteur_name ?? ''} (account ${t.transporteur_account_id ?? '?'})`.trim() },
  ];
}

export function reservationColumns(): Column<ReservationView>[] {
  return [
    { header: 'id', value: (r) => r.id, align: 'right' },
    { header: 'passenger', value: (r) => `${r.passenger_first_name} ${r.passenger_last_name}` },
    { header: 'phone', value: (r) => r.phone_number, wide: true },
    { header: 'seats', value: (r) => r.seats_reserved, align: 'right' },
    { header: 'status', value: (r) => r.status },
    { header: 'refundable', value: (r) => r.refundable_option, wide: true },
    { header: 'total', value: (r) => r.total_amount, align: 'right', kind: 'money' },
    { header: 'paiement', value: (r) => (r.paiement ? `#${r.paiement.id} ${r.paiement.status}` : 'MISSING') },
    { header: 'account', value: (r) => r.account_email ?? 'guest', wide: true },
    { header: `booked (${zoneLabel()})`, key: 'booked', value: (r) => localTime(r.reservation_date), wide: true },
  ];
}

export function trajetRecord(t: TrajetView): Record<string, unknown> {
  return {
    id: t.id,
    route: `${t.departure_city} → ${t.arrival_city}`,
    [`departure (${zoneLabel()})`]: localTime(t.departure_time),
    ...(zoneLabel() === 'UTC' ? {} : { 'departure (UTC)': t.departure_time }),
    price: t.price,
    seats: `${t.available_seats} free of ${t.seats_count}`,
    status: t.status,
    packages: t.accepts_packages ? `yes${t.max_package_weight ? `, up to ${t.max_package_weight} kg` : ''}` : 'no',
    'departure point': t.departure_point ?? '',
    'arrival point': t.arrival_point ?? '',
    carrier: `${t.transporteur_name ?? ''} (account ${t.transporteur_account_id ?? '?'})`.trim(),
  };
}

// ---- wiring -----------------------------------------------------------------------------------

const id = (v: string): number => parsePositiveInt('id')(v);

export function register(cmd: Command): void {
  cmd.addHelpText(
    'after',
    `
Examples:
  $ billettigue trajets list --from Paris --to Lyon --date tomorrow
  $ billettigue trajets show 42
  $ billettigue trajets create --transporteur 3 --from Paris --to Lyon --departure 2026-12-01T08:00:00+01:00 --price 25 --seats 4
  $ billettigue trajets cancel 42 --reason "vehicle broke down" --yes

Days (--date, --between) are calendar days of this machine's time zone (TZ); tables show local
times, --json shows ISO 8601 UTC.`,
  );

  cmd
    .command('list')
    .description('trajets by departure time, filtered by route, day, status, carrier, free seats')
    .option('--from <city>', 'departure city (ignores case and accents: Orleans finds Orléans)')
    .option('--to <city>', 'arrival city (ignores case and accents)')
    .option('--date <day>', 'departures on this local calendar day: YYYY-MM-DD, today, tomorrow')
    .option('--between <start-and-end...>', 'departures from START to END (days, inclusive, or ISO times with a zone)')
    .option('--status <status>', 'active, suspended, cancelled or completed')
    .option('--transporteur <account>', 'only this carrier\'s trajets (account id or email)')
    .option('--with-seats <n>', 'at least N seats available', parsePositiveInt('--with-seats', 50))
    .option('--accepts-packages', 'only trajets that carry packages')
    .option('--sort <field>', 'departure (default) or id', 'departure')
    .option('--limit <n>', 'at most N trajets', parsePositiveInt('--limit', 10000), 50)
    .option('--after <id>', 'keyset pagination: trajets after this one in the chosen order', parsePositiveInt('--after'))
    .addHelpText('after', `
Examples:
  $ billettigue trajets list --from Paris --to Lyon --date 2026-11-26
  $ billettigue trajets list --from orleans --between 2026-11-25 2026-11-30 --with-seats 2
  $ billettigue trajets list --transporteur carrier@example.fr --status active --json`)
    .action(action(list));

  cmd
    .command('show')
    .description('a trajet with its carrier, occupancy, reservations and paiements')
    .argument('<id>', 'trajet id', id)
    .addHelpText('after', `\nExamples:\n  $ billettigue trajets show 42\n  $ billettigue trajets show 42 --json | jq .occupancy`)
    .action(action(show));

  cmd
    .command('create')
    .description('offer a new trajet (active, every seat available)')
    .requiredOption('--transporteur <account>', 'the carrier, by account id or email (company_type passagers or mixte)')
    .requiredOption('--from <city>', 'departure city')
    .requiredOption('--to <city>', 'arrival city')
    .requiredOption('--departure <time>', 'departure time, ISO 8601 with a zone: 2026-12-01T08:00:00+01:00')
    .requiredOption('--price <amount>', 'price per seat, >= 0 with at most 2 decimals: 25 or 25.50')
    .requiredOption('--seats <n>', 'number of seats, 1 to 50', parsePositiveInt('--seats', 50))
    .option('--no-packages', 'the trajet carries no packages')
    .option('--max-package-weight <kg>', 'heaviest package accepted, in kg')
    .option('--departure-point <text>', 'precise meeting point')
    .option('--arrival-point <text>', 'precise drop-off point')
    .option('--allow-past', 'accept a departure in the past (recording history)')
    .option('--reason <text>', 'why (kept in the audit log)')
    .option('--dry-run', 'validate and show the trajet, then roll back')
    .addHelpText('after', `
Example:
  $ billettigue trajets create --transporteur 3 --from Paris --to Lyon \\
      --departure 2026-12-01T08:00:00+01:00 --price 25 --seats 4 --departure-point "Gare de Lyon"`)
    .action(action(create));

  cmd
    .command('update')
    .description('change time, price, points, packages or seat count of an active or suspended trajet')
    .argument('<id>', 'trajet id', id)
    .option('--departure <time>', 'new departure time, ISO 8601 with a zone')
    .option('--price <amount>', 'new price per seat (existing reservations keep their amounts)')
    .option('--seats <n>', 'new seat count, never below the seats already sold', parsePositiveInt('--seats', 50))
    .option('--departure-point <text>', 'new meeting point ("" clears it)')
    .option('--arrival-point <text>', 'new drop-off point ("" clears it)')
    .option('--packages', 'carries packages')
    .option('--no-packages', 'carries no packages')
    .option('--max-package-weight <kg>', 'heaviest package accepted, in kg')
    .option('--allow-past', 'accept a departure in the past')
    .option('--reason <text>', 'why (kept in the audit log)')
    .option('--dry-run', 'show the change, then roll back')
    .addHelpText('after', `
Examples:
  $ billettigue trajets update 42 --seats 6 --price 22.50
  $ billettigue trajets update 42 --departure 2026-12-01T09:15:00+01:00 --reason "carrier late"`)
    .action(action(update));

  for (const [verb, description] of [
    ['suspend', 'stop selling seats on an active trajet (reservations stay)'],
    ['resume', 'sell seats again on a suspended trajet'],
    ['complete', 'mark a departed trajet completed: confirmed reservations complete, pending ones are cancelled'],
    ['cancel', 'cancel a trajet: pending reservations cancelled, paid ones refunded, seats released'],
  ] as const) {
    cmd
      .command(verb)
      .description(description)
      .argument('<id>', 'trajet id', id)
      .option('--reason <text>', 'why (kept in the audit log)')
      .option('--dry-run', 'show what would change, then roll back')
      .addHelpText('after', `\nExample:\n  $ billettigue trajets ${verb} 42${verb === 'cancel' ? ' --reason "strike" --yes' : ''}`)
      .action(action((ctx: Ctx, opts: VerbOpts, args: string[]) => changeStatus(ctx, verb, Number(args[0]), opts)));
  }
}

// ---- list / show ------------------------------------------------------------------------------

interface ListOpts {
  from?: string;
  to?: string;
  date?: string;
  between?: string[];
  status?: string;
  transporteur?: string;
  withSeats?: number;
  acceptsPackages?: boolean;
  sort: string;
  limit: number;
  after?: number;
}

async function list(ctx: Ctx, opts: ListOpts): Promise<void> {
  const { listTrajets, parseBetween, parseDay, TRAJET_SORTS } = await import('../domain/trajets.js');
  if (opts.date !== undefined && opts.between !== undefined) throw new InvalidInput('choose one of --date and --between');
  if (!(TRAJET_SORTS as readonly string[]).includes(opts.sort)) {
    throw new InvalidInput(`--sort "${opts.sort}" is not allowed: use one of ${TRAJET_SORTS.join(', ')}`);
  }
  const range = opts.date !== undefined ? parseDay(opts.date, '--date') : opts.between ? parseBetween(opts.between) : undefined;
  const rows = await listTrajets(await ctx.db(), {
    from: opts.from,
    to: opts.to,
    range,
    status: opts.status as TrajetStatus | undefined,
    transporteur: opts.transporteur,
    withSeats: opts.withSeats,
    acceptsPackages: opts.acceptsPackages,
    sort: opts.sort as TrajetSort,
    limit: opts.limit,
    after: opts.after,
  });
  await ctx.ui.list(rows, trajetColumns(), rows, { limit: opts.limit, cursor: (t) => t.id });
}

async function show(ctx: Ctx, _opts: unknown, args: string[]): Promise<void> {
  const { getTrajetDetails } = await import('../domain/reservations.js');
  const details = await getTrajetDetails(await ctx.db(), Number(args[0]));
  if (ctx.ui.json) return ctx.ui.printJson(details);
  const t = details;
  await ctx.ui.record(trajetRecord(t), undefined, `trajet ${t.id}`);
  await ctx.ui.section('carrier', [details.transporteur], [
    { header: 'account', value: (c) => c.compte_id, kind: 'id' },
    { header: 'company', value: (c) => c.company_name ?? '' },
    { header: 'type', value: (c) => c.company_type },
    { header: 'email', value: (c) => c.email },
    { header: 'phone', value: (c) => c.phone_number },
  ]);
  const o = details.occupancy;
  ctx.ui.line(
    `\noccupancy: ${o.seats_sold}/${o.seats_count} seats sold (${o.confirmed_seats} confirmed, ${o.pending_seats} pending), ${o.available_seats} free; paid ${o.paid_amount}, refunded ${o.refunded_amount}`,
  );
  await ctx.ui.section(`reservations (${details.reservations.length})`, details.reservations, reservationColumns());
}

// ---- create / update --------------------------------------------------------------------------

interface CreateOpts {
  transporteur: string;
  from: string;
  to: string;
  departure: string;
  price: string;
  seats: number;
  packages: boolean;
  maxPackageWeight?: string;
  departurePoint?: string;
  arrivalPoint?: string;
  allowPast?: boolean;
  reason?: string;
}

async function create(ctx: Ctx, opts: CreateOpts): Promise<void> {
  const { createTrajet, parseInstant } = await import('../domain/trajets.js');
  const { parseMoney, parseWeight } = await import('../domain/money.js');
  const { writeAudit } = await import('../domain/audit.js');
  const departure = parseInstant(opts.departure, '--departure');
  const priceCents = parseMoney(opts.price, '--price');
  const maxPackageWeight = opts.maxPackageWeight === undefined ? null : parseWeight(opts.maxPackageWeight, '--max-package-weight');
  const trajet = await ctx.mutate(async (trx) => {
    const t = await createTrajet(trx, {
      transporteur: opts.transporteur,
      from: opts.from,
      to: opts.to,
      departure,
      priceCents,
      seats: opts.seats,
      acceptsPackages: opts.packages,
      maxPackageWeight,
      departurePoint: opts.departurePoint,
      arrivalPoint: opts.arrivalPoint,
      allowPast: opts.allowPast,
    });
    await writeAudit(trx, { actor: ctx.actor, action: 'trajets.create', targetType: 'trajet', targetId: t.id, reason: opts.reason, after: t });
    return t;
  });
  await ctx.ui.record(trajetRecord(trajet), trajet);
  ctx.ui.success(`${ctx.dryRun ? 'would create' : 'created'} trajet ${trajet.id}: ${trajet.departure_city} → ${trajet.arrival_city}, ${trajet.seats_count} seat${trajet.seats_count === 1 ? '' : 's'} at ${trajet.price}`);
}

interface UpdateOpts {
  departure?: string;
  price?: string;
  seats?: number;
  departurePoint?: string;
  arrivalPoint?: string;
  packages?: boolean;
  maxPackageWeight?: string;
  allowPast?: boolean;
  reason?: string;
}

async function update(ctx: Ctx, opts: UpdateOpts, args: string[]): Promise<void> {
  const { updateTrajet, parseInstant } = await import('../domain/trajets.js');
  const { parseMoney, parseWeight } = await import('../domain/money.js');
  const { writeAudit } = await import('../domain/audit.js');
  const trajetId = Number(args[0]);
  const input = {
    departure: opts.departure === undefined ? undefined : parseInstant(opts.departure, '--departure'),
    priceCents: opts.price === undefined ? undefined : parseMoney(opts.price, '--price'),
    seats: opts.seats,
    departurePoint: opts.departurePoint,
    arrivalPoint: opts.arrivalPoint,
    acceptsPackages: opts.packages,
    maxPackageWeight: opts.maxPackageWeight === undefined ? undefined : parseWeight(opts.maxPackageWeight, '--max-package-weight'),
    allowPast: opts.allowPast,
  };
  const result = await ctx.mutate(async (trx) => {
    const r = await updateTrajet(trx, trajetId, input);
    await writeAudit(trx, {
      actor: ctx.actor,
      action: 'trajets.update',
      targetType: 'trajet',
      targetId: trajetId,
      reason: opts.reason,
      ...diff(r.before, r.after),
    });
    return r;
  });
  await renderChange(ctx, result, `${ctx.dryRun ? 'would update' : 'updated'} trajet ${trajetId}`);
}

/** Only the fields that changed, for the audit row. */
function diff(before: TrajetView, after: TrajetView): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const k of Object.keys(after) as Array<keyof TrajetView>) {
    if (k === 'updated_at') continue;
    if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) {
      b[k] = before[k];
      a[k] = after[k];
    }
  }
  return { before: b, after: a };
}

async function renderChange(ctx: Ctx, r: ChangeResult, message: string): Promise<void> {
  await ctx.ui.record(trajetRecord(r.after), r.after);
  const changes = diff(r.before, r.after);
  const text = Object.keys(changes.after)
    .map((k) => `${k}: ${String(changes.before[k])} → ${String(changes.after[k])}`)
    .join(', ');
  ctx.ui.success(`${message}${text ? ` (${text})` : ' (nothing changed)'}`);
}

// ---- status changes ---------------------------------------------------------------------------

interface VerbOpts {
  reason?: string;
}

async function changeStatus(ctx: Ctx, verb: 'suspend' | 'resume' | 'complete' | 'cancel', trajetId: number, opts: VerbOpts): Promise<void> {
  const { setTrajetStatus, closeTrajet, getTrajet, assertTrajetMove } = await import('../domain/trajets.js');
  const { writeAudit } = await import('../domain/audit.js');
  if (verb === 'cancel') {
    const db = await ctx.db();
    const { liveReservationCount } = await import('../domain/reservations.js');
    const t = await getTrajet(db, trajetId);
    assertTrajetMove(trajetId, t.status, 'cancelled');
    const live = await liveReservationCount(db, trajetId);
    await ctx.confirm(
      `cancel trajet ${trajetId} (${t.departure_city} → ${t.arrival_city}, ${localTime(t.departure_time)}) and its ${live} live reservation${live === 1 ? '' : 's'} (paid ones are refunded) on ${ctx.target().display}?`,
    );
  }
  const action = `trajets.${verb}`;
  if (verb === 'suspend' || verb === 'resume') {
    const r = await ctx.mutate(async (trx) => {
      const res = await setTrajetStatus(trx, trajetId, verb === 'suspend' ? 'suspended' : 'active');
      await writeAudit(trx, { actor: ctx.actor, action, targetType: 'trajet', targetId: trajetId, reason: opts.reason, before: { status: res.before.status }, after: { status: res.after.status } });
      return res;
    });
    return renderChange(ctx, r, `${ctx.dryRun ? 'would set' : 'set'} trajet ${trajetId} ${r.after.status}`);
  }
  const summary: TrajetCloseSummary = await ctx.mutate(async (trx) => {
    const s = await closeTrajet(trx, trajetId, verb === 'complete' ? 'completed' : 'cancelled');
    await writeAudit(trx, {
      actor: ctx.actor,
      action,
      targetType: 'trajet',
      targetId: trajetId,
      reason: opts.reason,
      before: { status: s.before.status, available_seats: s.before.available_seats },
      after: {
        status: s.after.status,
        available_seats: s.after.available_seats,
        completed: s.completed,
        cancelled: s.cancelled,
        refunded: s.refunded,
        refunded_amount: s.refunded_amount,
        reservation_ids: s.reservation_ids,
      },
    });
    return s;
  });
  if (ctx.ui.json) {
    const { before: _b, after, ...rest } = summary;
    return ctx.ui.printJson({ trajet: after, ...rest, dry_run: ctx.dryRun });
  }
  await ctx.ui.record(trajetRecord(summary.after));
  const would = ctx.dryRun ? 'would be ' : '';
  const parts =
    verb === 'complete'
      ? [`${summary.completed} reservation${summary.completed === 1 ? '' : 's'} ${would}completed`, `${summary.cancelled} pending ${would}cancelled`]
      : [
          `${summary.refunded} paid reservation${summary.refunded === 1 ? '' : 's'} ${would}refunded (${summary.refunded_amount})`,
          `${summary.cancelled} pending ${would}cancelled`,
        ];
  ctx.ui.success(
    `${ctx.dryRun ? 'would mark' : 'marked'} trajet ${trajetId} ${summary.after.status}: ${parts.join(', ')}, ${summary.seats_released} seat${summary.seats_released === 1 ? '' : 's'} released`,
  );
}
