/** `billettigue stats`: the screen an admin opens every morning. */
import type { Command } from 'commander';
import { action, parseDateOption, type Ctx } from './context.js';
import { displayTime, formatCount, formatMoney } from './ui.js';
import { localZoneName } from '../domain/dates.js';

export function register(stats: Command): void {
  stats
    .option(
      '--since <date>',
      'restrict activity (trajets departing, reservations, paiements, envois, new accounts, refunds) to on/after this date (YYYY-MM-DD or ISO 8601)',
      parseDateOption('--since'),
    )
    .addHelpText('after', `
Current states (accounts, carriers without zone, tokens, archive) are always whole. Without --since,
activity is all-time, "new accounts" is the last 7 days and "refunds" the current month (UTC).
Money is exact (summed in cents).
Examples:
  $ billettigue stats
  $ billettigue stats --since 2026-11-01 --json`)
    .action(action(run));
}

async function run(ctx: Ctx, opts: { since?: Date }): Promise<void> {
  const db = await ctx.db();
  const { collectStats, formatTenthsPct } = await import('../domain/stats.js');
  const { formatCents } = await import('../domain/money.js');
  const s = await collectStats(db, { since: opts.since });
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  const occupancy = formatTenthsPct(s.trajets.upcoming.occupancyTenthsPct);

  if (ctx.ui.json) {
    const line = (l: (typeof s.accounts.byRole)[number]) => ({
      role: l.role,
      total: l.total,
      ...l.byStatus,
      locked: l.locked,
      email_unverified: l.emailUnverified,
      phone_unverified: l.phoneUnverified,
      new: l.created,
    });
    ctx.ui.printJson({
      generated_at: iso(s.now),
      since: iso(s.since),
      windows: {
        new_accounts_since: iso(s.windows.newAccountsSince),
        refunds_since: iso(s.windows.refundsSince),
        upcoming_until: iso(s.windows.upcomingUntil),
      },
      accounts: { total: line(s.accounts.total), by_role: s.accounts.byRole.map(line) },
      trajets: {
        total: s.trajets.total,
        by_status: s.trajets.byStatus,
        upcoming_week: {
          count: s.trajets.upcoming.count,
          seats: s.trajets.upcoming.seats,
          booked: s.trajets.upcoming.booked,
          average_occupancy_pct: occupancy === null ? null : Number(occupancy),
        },
      },
      reservations: {
        count: s.reservations.count,
        total_amount: formatCents(s.reservations.totalCents),
        by_status: s.reservations.byStatus.map((l) => ({ status: l.status, count: l.count, seats: l.seats, total_amount: formatCents(l.totalCents) })),
      },
      paiements: {
        revenue: formatCents(s.paiements.revenueCents),
        by_status: s.paiements.byStatus.map((l) => ({ status: l.status, count: l.count, amount: formatCents(l.amountCents) })),
      },
      refunds: { since: iso(s.windows.refundsSince), count: s.refunds.count, amount: formatCents(s.refunds.amountCents) },
      envois: { total: s.envois.total, by_status: s.envois.byStatus },
      colis: {
        total: s.colis.total,
        lost: s.colis.lost,
        by_status: s.colis.byStatus.map((l) => ({
          status: l.status,
          count: l.count,
          weight_kg: formatCents(l.weightHundredthsKg),
          shipping_cost: formatCents(l.shippingCents),
        })),
      },
      carriers_without_zone: {
        count: s.carriersWithoutZone.count,
        carriers: s.carriersWithoutZone.carriers.map((c) => ({ id: c.id, email: c.email, company_name: c.companyName, company_type: c.companyType })),
      },
      revoked_tokens: { active: s.revokedTokens.active, expired: s.revokedTokens.expired },
      archive: s.archive,
    });
    return;
  }

  const ui = ctx.ui;
  const day = (d: Date) => displayTime(d).slice(0, 10);
  const zone = localZoneName();
  const when = s.since ? `activity since ${displayTime(s.since)}` : 'activity: all time';
  ui.line(ui.bold(`Billettigue on ${ctx.target().display} — ${displayTime(s.now)} ${zone} (${when})`));

  const newHeader = s.since ? `new since ${day(s.windows.newAccountsSince)}` : 'new (7 days)';
  await ui.section('Accounts', [...s.accounts.byRole, s.accounts.total], [
    { header: 'role', value: (l) => l.role },
    { header: 'total', value: (l) => l.total, align: 'right' },
    { header: 'active', value: (l) => l.byStatus.active, align: 'right' },
    { header: 'inactive', value: (l) => l.byStatus.inactive, align: 'right' },
    { header: 'suspended', value: (l) => l.byStatus.suspended, align: 'right' },
    { header: 'deleted', value: (l) => l.byStatus.deleted, align: 'right' },
    { header: 'locked', value: (l) => l.locked, align: 'right' },
    { header: 'email unverified', value: (l) => l.emailUnverified, align: 'right' },
    { header: 'phone unverified', value: (l) => l.phoneUnverified, align: 'right' },
    { header: newHeader, value: (l) => l.created, align: 'right' },
  ]);

  await ui.section(s.since ? 'Trajets departing since then' : 'Trajets', s.trajets.byStatus, [
    { header: 'status', value: (l) => l.status },
    { header: 'trajets', value: (l) => l.count, align: 'right' },
    { header: 'seats', value: (l) => l.seats, align: 'right' },
    { header: 'booked', value: (l) => l.booked, align: 'right' },
  ]);
  const u = s.trajets.upcoming;
  ui.line(
    `Upcoming this week (active, departing before ${displayTime(s.windows.upcomingUntil)} ${zone}): ` +
      `${formatCount(u.count)} trajet(s), ${formatCount(u.booked)}/${formatCount(u.seats)} seats booked` +
      (occupancy === null ? '' : `, average occupancy ${occupancy}%`),
  );

  await ui.section('Reservations', s.reservations.byStatus, [
    { header: 'status', value: (l) => l.status },
    { header: 'reservations', value: (l) => l.count, align: 'right' },
    { header: 'seats', value: (l) => l.seats, align: 'right' },
    { header: 'total amount', value: (l) => formatCents(l.totalCents), align: 'right', kind: 'money' },
  ]);
  await ui.section('Paiements', s.paiements.byStatus, [
    { header: 'status', value: (l) => l.status },
    { header: 'paiements', value: (l) => l.count, align: 'right' },
    { header: 'amount', value: (l) => formatCents(l.amountCents), align: 'right', kind: 'money' },
  ]);
  ui.line(`Revenue (completed paiements): ${formatMoney(formatCents(s.paiements.revenueCents))}`);
  ui.line(`Refunds since ${day(s.windows.refundsSince)}: ${formatCount(s.refunds.count)}, ${formatMoney(formatCents(s.refunds.amountCents))}`);

  await ui.section('Envois', s.envois.byStatus, [
    { header: 'status', value: (l) => l.status },
    { header: 'envois', value: (l) => l.count, align: 'right' },
  ]);
  await ui.section('Colis', s.colis.byStatus, [
    { header: 'status', value: (l) => l.status },
    { header: 'colis', value: (l) => l.count, align: 'right' },
    { header: 'weight (kg)', value: (l) => formatCents(l.weightHundredthsKg), align: 'right' },
    { header: 'shipping cost', value: (l) => formatCents(l.shippingCents), align: 'right', kind: 'money' },
  ]);
  ui.line(`Lost colis: ${formatCount(s.colis.lost)}`);

  const cw = s.carriersWithoutZone;
  await ui.section(`Carriers without any zone: ${cw.count}${cw.count > cw.carriers.length ? ` (first ${cw.carriers.length})` : ''}`, cw.carriers, [
    { header: 'transporteur', value: (c) => c.id, align: 'right', kind: 'id' },
    { header: 'email', value: (c) => c.email },
    { header: 'company', value: (c) => c.companyName ?? '' },
    { header: 'type', value: (c) => c.companyType },
  ]);
  ui.line('');
  ui.line(`Revoked tokens: ${formatCount(s.revokedTokens.active)} active, ${formatCount(s.revokedTokens.expired)} expired (purge: billettigue maintenance purge-tokens)`);
  const a = s.archive;
  ui.line(`Archive: ${formatCount(a.reservations)} reservations, ${formatCount(a.paiements)} paiements, ${formatCount(a.envois)} envois, ${formatCount(a.colis)} colis`);
}
