/**
 * `billettigue reservations`: list, show, create, confirm, cancel, refund, complete.
 * Creation takes the seats atomically (never oversells); the paiement moves with the reservation
 * through the state machines of docs/rules.md.
 */
import type { Command } from 'commander';
import { action, parsePositiveInt, type Ctx } from './context.js';
import type { ReservationStatus } from '../db/schema.js';
import type { ReservationChange, ReservationVerb, ReservationView } from '../domain/reservations.js';
import { localTime, reservationColumns, zoneLabel } from './trajets.js';

const id = (v: string): number => parsePositiveInt('id')(v);

export function register(cmd: Command): void {
  cmd.addHelpText(
    'after',
    `
Examples:
  $ billettigue reservations list --trajet 42
  $ billettigue reservations create --trajet 42 --first-name Jeanne --last-name Martin --phone "06 12 34 56 78" --seats 2 --refundable
  $ billettigue reservations confirm 1001
  $ billettigue reservations cancel 1001 --yes`,
  );

  cmd
    .command('list')
    .description('reservations with their trajet and paiement, by id')
    .option('--trajet <id>', 'only this trajet\'s reservations', parsePositiveInt('--trajet'))
    .option('--account <account>', 'only this account\'s reservations')
    .option('--guest', 'only guest reservations (no account)')
    .option('--status <status>', 'pending, confirmed, cancelled, completed or refunded')
    .option('--since <date>', 'booked on or after this day (local, YYYY-MM-DD) or time (ISO 8601 with a zone)')
    .option('--limit <n>', 'at most N reservations', parsePositiveInt('--limit', 10000), 50)
    .option('--after <id>', 'keyset pagination: reservations after this id', parsePositiveInt('--after'))
    .addHelpText('after', `
Examples:
  $ billettigue reservations list --trajet 42 --status confirmed
  $ billettigue reservations list --account jeanne.martin@example.fr --since 2026-11-01 --json`)
    .action(action(list));

  cmd
    .command('show')
    .description('a reservation with its trajet and paiement')
    .argument('<id>', 'reservation id', id)
    .addHelpText('after', `\nExamples:\n  $ billettigue reservations show 1001\n  $ billettigue reservations get 1001 --json`)
    .action(action(show));

  cmd
    .command('create')
    .description('book seats on an active trajet (never oversells) and create its pending paiement')
    .requiredOption('--trajet <id>', 'the trajet to book', parsePositiveInt('--trajet'))
    .requiredOption('--first-name <name>', 'passenger first name')
    .requiredOption('--last-name <name>', 'passenger last name')
    .requiredOption('--phone <phone>', 'passenger phone: +33612345678 or 06 12 34 56 78')
    .option('--seats <n>', 'seats to book, 1 to 50', parsePositiveInt('--seats', 50), 1)
    .option('--refundable', 'take the refundable option (a supplement of BILLETTIGUE_REFUND_RATE %, default 10, of the fare)')
    .option('--account <account>', 'the booking account (none: a guest reservation)')
    .option('--reason <text>', 'why (kept in the audit log)')
    .option('--dry-run', 'show the reservation and its amounts, then roll back')
    .addHelpText('after', `
Example:
  $ billettigue reservations create --trajet 42 --first-name Jeanne --last-name Martin \\
      --phone "06 12 34 56 78" --seats 2 --refundable --account jeanne.martin@example.fr`)
    .action(action(create));

  for (const [verb, description] of [
    ['confirm', 'the reservation is paid: reservation confirmed, paiement completed'],
    ['cancel', 'cancel: seats returned; a paid refundable one is refunded, a paid non-refundable one is not'],
    ['refund', 'refund a paid, refundable reservation: seats returned, paiement refunded'],
    ['complete', 'the trip took place: a confirmed reservation becomes completed (after departure)'],
  ] as const) {
    cmd
      .command(verb)
      .description(description)
      .argument('<id>', 'reservation id', id)
      .option('--reason <text>', 'why (kept in the audit log)')
      .option('--dry-run', 'show what would change, then roll back')
      .addHelpText('after', `\nExample:\n  $ billettigue reservations ${verb} 1001${verb === 'cancel' || verb === 'refund' ? ' --yes' : ''}`)
      .action(action((ctx: Ctx, opts: { reason?: string }, args: string[]) => move(ctx, verb, Number(args[0]), opts)));
  }
}

export function reservationRecord(r: ReservationView): Record<string, unknown> {
  return {
    id: r.id,
    status: r.status,
    passenger: `${r.passenger_first_name} ${r.passenger_last_name}`,
    phone: r.phone_number,
    account: r.account_email ? `${r.account_email} (#${r.compte_id})` : 'guest',
    trajet: `#${r.trajet.id} ${r.trajet.departure_city} → ${r.trajet.arrival_city}, ${localTime(r.trajet.departure_time)} (${r.trajet.status})`,
    seats: r.seats_reserved,
    refundable: r.refundable_option,
    supplement: r.refund_supplement_amount,
    total: r.total_amount,
    paiement: r.paiement ? `#${r.paiement.id} ${r.paiement.status} ${r.paiement.amount} (${localTime(r.paiement.payment_date)})` : 'MISSING',
    [`booked (${zoneLabel()})`]: localTime(r.reservation_date),
  };
}

interface ListOpts {
  trajet?: number;
  account?: string;
  guest?: boolean;
  status?: string;
  since?: string;
  limit: number;
  after?: number;
}

async function list(ctx: Ctx, opts: ListOpts): Promise<void> {
  const { listReservations } = await import('../domain/reservations.js');
  const { parseDayOrInstant } = await import('../domain/trajets.js');
  const since = opts.since === undefined ? undefined : parseDayOrInstant(opts.since, '--since', 'start');
  const rows = await listReservations(await ctx.db(), {
    trajetId: opts.trajet,
    account: opts.account,
    guest: opts.guest,
    status: opts.status as ReservationStatus | undefined,
    since,
    limit: opts.limit,
    after: opts.after,
  });
  const columns = reservationColumns();
  columns.splice(1, 0, {
    header: 'trajet',
    value: (r) => `#${r.trajet.id} ${r.trajet.departure_city} → ${r.trajet.arrival_city} ${localTime(r.trajet.departure_time)}`,
  });
  await ctx.ui.list(rows, columns, rows, { limit: opts.limit, cursor: (r) => r.id });
}

async function show(ctx: Ctx, _opts: unknown, args: string[]): Promise<void> {
  const { getReservation } = await import('../domain/reservations.js');
  const r = await getReservation(await ctx.db(), Number(args[0]));
  await ctx.ui.record(reservationRecord(r), r, `reservation ${r.id}`);
}

interface CreateOpts {
  trajet: number;
  firstName: string;
  lastName: string;
  phone: string;
  seats: number;
  refundable?: boolean;
  account?: string;
  reason?: string;
}

async function create(ctx: Ctx, opts: CreateOpts): Promise<void> {
  const { createReservation } = await import('../domain/reservations.js');
  const { writeAudit } = await import('../domain/audit.js');
  const r = await ctx.mutate(async (trx) => {
    const res = await createReservation(
      trx,
      {
        trajetId: opts.trajet,
        firstName: opts.firstName,
        lastName: opts.lastName,
        phone: opts.phone,
        seats: opts.seats,
        refundable: opts.refundable,
        account: opts.account,
      },
      { refundRateBp: ctx.settings.refundRateBp },
    );
    await writeAudit(trx, {
      actor: ctx.actor,
      action: 'reservations.create',
      targetType: 'reservation',
      targetId: res.id,
      reason: opts.reason,
      after: {
        trajet_id: res.trajet_id,
        seats_reserved: res.seats_reserved,
        refundable_option: res.refundable_option,
        total_amount: res.total_amount,
        compte_id: res.compte_id,
        paiement_id: res.paiement?.id,
      },
    });
    return res;
  });
  await ctx.ui.record(reservationRecord(r), r);
  ctx.ui.success(
    `${ctx.dryRun ? 'would book' : 'booked'} reservation ${r.id}: ${r.seats_reserved} seat${r.seats_reserved === 1 ? '' : 's'} on trajet ${r.trajet_id}, total ${r.total_amount} (paiement ${r.paiement?.id} pending)`,
  );
}

const DONE: Record<ReservationVerb, string> = { confirm: 'confirmed', cancel: 'cancelled', refund: 'refunded', complete: 'completed' };

async function move(ctx: Ctx, verb: ReservationVerb, reservationId: number, opts: { reason?: string }): Promise<void> {
  const { moveReservation, getReservation, planMove } = await import('../domain/reservations.js');
  const { writeAudit } = await import('../domain/audit.js');
  if (verb === 'cancel' || verb === 'refund') {
    const current = await getReservation(await ctx.db(), reservationId);
    const plan = planMove(reservationId, verb, current.status, current.refundable_option);
    const money = plan.paiementTo === 'refunded' ? ` and refund ${current.total_amount}` : plan.from === 'confirmed' ? ' (paid, not refundable: the money is kept)' : '';
    await ctx.confirm(`${verb} reservation ${reservationId} of ${current.passenger_first_name} ${current.passenger_last_name}${money} on ${ctx.target().display}?`);
  }
  const change: ReservationChange = await ctx.mutate(async (trx) => {
    const c = await moveReservation(trx, reservationId, verb);
    await writeAudit(trx, {
      actor: ctx.actor,
      action: `reservations.${verb}`,
      targetType: 'reservation',
      targetId: reservationId,
      reason: opts.reason,
      before: { status: c.before.status, paiement_status: c.before.paiement?.status },
      after: {
        status: c.after.status,
        paiement_status: c.after.paiement?.status,
        seats_released: c.seats_released,
        refunded_amount: c.refunded_amount,
      },
    });
    return c;
  });
  if (ctx.ui.json) {
    return ctx.ui.printJson({ ...change.after, seats_released: change.seats_released, refunded_amount: change.refunded_amount, dry_run: ctx.dryRun });
  }
  await ctx.ui.record(reservationRecord(change.after));
  const extra = [
    change.seats_released ? `${change.seats_released} seat${change.seats_released === 1 ? '' : 's'} returned to trajet ${change.after.trajet_id}` : '',
    change.refunded_amount !== '0.00' ? `${change.refunded_amount} refunded` : '',
    verb === 'cancel' && change.after.paiement?.status === 'completed' ? 'not refundable: the paiement is kept' : '',
  ].filter(Boolean);
  ctx.ui.success(
    `${ctx.dryRun ? `would be ${DONE[verb]}` : DONE[verb]}: reservation ${reservationId} is ${change.after.status}, paiement ${change.after.paiement?.status}${extra.length ? `; ${extra.join('; ')}` : ''}`,
  );
}
