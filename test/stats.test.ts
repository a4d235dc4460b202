/**
 * `billettigue stats` on the small planted platform (test/maintenance-fixtures.ts): every figure is
 * (1) the number read off the fixture by hand and (2) the result of a hand-written SQL query that
 * does not share code with src/domain/stats.ts (per-row amounts summed in integer cents here).
 * Then the real binary: --json equals the domain result, the table renders, bad --since is exit 2.
 */
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, tableCounts, testedKinds, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { plantPlatform, type Planted } from './maintenance-fixtures.js';
import { collectStats, startOfMonthUtc, type Stats } from '../src/domain/stats.js';
import { rawRows } from '../src/db/dialect.js';
import { toCents, toDbTime } from '../src/db/values.js';
import { PRODUCT_TABLES } from '../src/db/schema.js';

const DAY = 86_400_000;
/** Mid-month, so "refunds this month" does not depend on the day the tests run. */
const NOW = new Date('2026-11-20T10:00:00Z');

/** Hand-written SQL: count of rows. */
async function count(knex: Knex, sql: string, bindings: unknown[] = []): Promise<number> {
  const rows = await rawRows<{ n: number | string }>(knex, sql, bindings);
  return Number(rows[0]!.n);
}
/** Hand-written SQL: amounts fetched row by row and summed in integer cents. */
async function cents(knex: Knex, sql: string, bindings: unknown[] = []): Promise<number> {
  const rows = await rawRows<{ v: string | number }>(knex, sql, bindings);
  return rows.reduce((s, r) => s + toCents(r.v), 0);
}

const pick = <T extends { status: string }>(lines: T[], status: string) => lines.find((l) => l.status === status)!;

describe.each(testedKinds())('stats on %s', (kind) => {
  let db: TestDb;
  let p: Planted;
  let s: Stats;
  beforeAll(async () => {
    db = await createTestDb(kind);
    p = await plantPlatform(db.knex, NOW);
    s = await collectStats(db.knex, { now: NOW });
  });
  afterAll(async () => db?.drop());

  it('accounts by role and status, locked, unverified, new this week', async () => {
    const role = (r: string) => s.accounts.byRole.find((l) => l.role === r)!;
    expect(s.accounts.byRole.map((l) => l.role)).toEqual(['admin', 'support', 'transporteur', 'user']);
    expect(role('user')).toEqual({
      role: 'user',
      total: 4,
      byStatus: { active: 3, inactive: 0, suspended: 1, deleted: 0 },
      locked: 1,
      emailUnverified: 1,
      phoneUnverified: 2,
      created: 1,
    });
    expect(role('transporteur').emailUnverified).toBe(1);
    expect(role('support').created).toBe(1);
    expect(s.accounts.total).toMatchObject({ total: 8, byStatus: { active: 7, suspended: 1 }, locked: 1, emailUnverified: 2, phoneUnverified: 2, created: 2 });
    // Cross-check by hand-written SQL.
    const k = db.knex;
    expect(s.accounts.total.total).toBe(await count(k, 'select count(*) as n from comptes'));
    expect(s.accounts.total.locked).toBe(await count(k, 'select count(*) as n from comptes where account_locked = true'));
    expect(s.accounts.total.byStatus.suspended).toBe(await count(k, "select count(*) as n from comptes where status = 'suspended'"));
    expect(s.accounts.total.emailUnverified).toBe(await count(k, 'select count(*) as n from comptes where email_verified = false'));
    expect(s.accounts.total.created).toBe(await count(k, 'select count(*) as n from comptes where created_at >= ?', [toDbTime(new Date(NOW.getTime() - 7 * DAY))]));
    expect(role('user').total).toBe(await count(k, "select count(*) as n from comptes c join roles r on r.id = c.role_id where r.name = 'user'"));
  });

  it('trajets by status and upcoming this week with occupancy', async () => {
    expect(s.trajets.byStatus).toEqual([
      { status: 'active', count: 3, seats: 58, booked: 3 },
      { status: 'cancelled', count: 1, seats: 8, booked: 0 },
      { status: 'completed', count: 2, seats: 14, booked: 0 },
      { status: 'suspended', count: 1, seats: 4, booked: 4 },
    ]);
    expect(s.trajets.total).toBe(7);
    // tSoon (3/5 booked) and tTomorrow (0/3); tLater is in 20 days, tSuspended is not active.
    expect(s.trajets.upcoming).toEqual({ count: 2, seats: 8, booked: 3, occupancyTenthsPct: 375 });
    const k = db.knex;
    const window = [toDbTime(NOW), toDbTime(new Date(NOW.getTime() + 7 * DAY))];
    expect(s.trajets.upcoming.count).toBe(
      await count(k, "select count(*) as n from trajets where status = 'active' and departure_time >= ? and departure_time < ?", window),
    );
    expect(s.trajets.upcoming.booked).toBe(
      await count(k, "select coalesce(sum(seats_count - available_seats), 0) as n from trajets where status = 'active' and departure_time >= ? and departure_time < ?", window),
    );
    for (const l of s.trajets.byStatus) expect(l.count).toBe(await count(k, 'select count(*) as n from trajets where status = ?', [l.status]));
  });

  it('reservations and revenue by status, to the cent', async () => {
    expect(s.reservations.byStatus).toEqual([
      { status: 'pending', count: 1, seats: 2, totalCents: 2470 },
      { status: 'confirmed', count: 2, seats: 5, totalCents: 4959 },
      { status: 'cancelled', count: 4, seats: 5, totalCents: 8020 },
      { status: 'completed', count: 2, seats: 5, totalCents: 7037 },
      { status: 'refunded', count: 3, seats: 5, totalCents: 8209 },
    ]);
    expect(s.reservations).toMatchObject({ count: 12, totalCents: 30695 });
    expect(s.paiements.byStatus).toEqual([
      { status: 'pending', count: 1, amountCents: 2470 },
      { status: 'completed', count: 5, amountCents: 13996 },
      { status: 'failed', count: 3, amountCents: 6020 },
      { status: 'refunded', count: 3, amountCents: 8209 },
    ]);
    expect(s.paiements.revenueCents).toBe(13996);
    const k = db.knex;
    for (const l of s.reservations.byStatus) {
      expect(l.totalCents).toBe(await cents(k, 'select total_amount as v from reservations where status = ?', [l.status]));
      expect(l.count).toBe(await count(k, 'select count(*) as n from reservations where status = ?', [l.status]));
    }
    for (const l of s.paiements.byStatus) expect(l.amountCents).toBe(await cents(k, 'select amount as v from paiements where status = ?', [l.status]));
  });

  it('refunds this month', async () => {
    // Only rSoonRefunded was refunded this month (yesterday): 12.35 + 1.24.
    expect(s.windows.refundsSince).toEqual(startOfMonthUtc(NOW));
    expect(s.refunds).toEqual({ count: 1, amountCents: 1359 });
    expect(s.refunds.amountCents).toBe(
      await cents(db.knex, "select amount as v from paiements where status = 'refunded' and updated_at >= ?", ['2026-11-01 00:00:00']),
    );
  });

  it('envois and colis by status, with lost colis', async () => {
    expect(s.envois.byStatus).toEqual([
      { status: 'pending', count: 1 },
      { status: 'accepted', count: 1 },
      { status: 'in_transit', count: 1 },
      { status: 'delivered', count: 2 },
      { status: 'cancelled', count: 1 },
    ]);
    expect(s.colis.byStatus).toEqual([
      { status: 'pending', count: 2, weightHundredthsKg: 1033, shippingCents: 2550 },
      { status: 'packaged', count: 1, weightHundredthsKg: 420, shippingCents: 1130 },
      { status: 'shipped', count: 1, weightHundredthsKg: 1999, shippingCents: 3499 },
      { status: 'delivered', count: 2, weightHundredthsKg: 325, shippingCents: 1488 },
      { status: 'lost', count: 2, weightHundredthsKg: 105, shippingCents: 1158 },
    ]);
    expect(s.colis).toMatchObject({ total: 8, lost: 2 });
    for (const l of s.colis.byStatus) {
      expect(l.shippingCents).toBe(await cents(db.knex, 'select shipping_cost as v from colis where status = ?', [l.status]));
      expect(l.weightHundredthsKg).toBe(await cents(db.knex, 'select weight as v from colis where status = ?', [l.status]));
    }
  });

  it('carriers without any zone, revoked tokens, archive sizes', async () => {
    expect(s.carriersWithoutZone).toEqual({
      count: 1,
      carriers: [{ id: p.ids.carrier2T, email: 'carrier2@example.fr', companyName: null, companyType: 'colis' }],
    });
    expect(s.carriersWithoutZone.count).toBe(
      await count(db.knex, 'select count(*) as n from transporteurs t left join zones_desservies z on z.transporteur_id = t.id where z.id is null'),
    );
    expect(s.revokedTokens).toEqual({ active: 1, expired: 2 });
    expect(s.revokedTokens.expired).toBe(await count(db.knex, 'select count(*) as n from revoked_tokens where expires_at < ?', [toDbTime(NOW)]));
    expect(s.archive).toEqual({ reservations: 0, paiements: 0, envois: 0, colis: 0 });
  });

  it('--since restricts activity, new accounts and refunds to the period', async () => {
    const since = new Date(NOW.getTime() - 12 * DAY);
    const r = await collectStats(db.knex, { now: NOW, since });
    expect(r.since).toEqual(since);
    expect(r.accounts.total.created).toBe(3);
    expect(r.accounts.total.total).toBe(8); // states stay whole
    expect(pick(r.trajets.byStatus, 'active')).toEqual({ status: 'active', count: 3, seats: 58, booked: 3 });
    expect(pick(r.trajets.byStatus, 'completed')).toEqual({ status: 'completed', count: 1, seats: 4, booked: 0 });
    expect(pick(r.trajets.byStatus, 'cancelled').count).toBe(0);
    expect(r.reservations.byStatus.map((l) => [l.status, l.count, l.totalCents])).toEqual([
      ['pending', 1, 2470],
      ['confirmed', 2, 4959],
      ['cancelled', 1, 2470],
      ['completed', 0, 0],
      ['refunded', 0, 0],
    ]);
    expect(r.paiements.revenueCents).toBe(4959);
    expect(r.refunds).toEqual({ count: 1, amountCents: 1359 });
    expect(r.envois.byStatus.filter((l) => l.count > 0).map((l) => l.status)).toEqual(['pending', 'accepted', 'in_transit']);
    expect(r.colis).toMatchObject({ total: 4, lost: 1 });
    expect(pick(r.colis.byStatus, 'lost').shippingCents).toBe(508);
    expect(r.carriersWithoutZone.count).toBe(1);
    expect(r.revokedTokens).toEqual({ active: 1, expired: 2 });
    const sinceS = toDbTime(since);
    expect(r.paiements.revenueCents).toBe(await cents(db.knex, "select amount as v from paiements where status = 'completed' and payment_date >= ?", [sinceS]));
    expect(r.colis.total).toBe(await count(db.knex, 'select count(*) as n from colis c join envois e on e.id = c.envoi_id where e.created_at >= ?', [sinceS]));
  });
});

describe.each(testedKinds())('billettigue stats (binary) on %s', (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(kind);
    await plantPlatform(db.knex);
  });
  afterAll(async () => db?.drop());

  it('--json is one document matching the domain figures, money as strings', async () => {
    const since = '2020-01-01';
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON document, asserted field by field
    const { code, data, stderr } = await runJson<Record<string, any>>(['stats', '--since', since], { url: db.url });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const d = await collectStats(db.knex, { since: new Date(`${since}T00:00:00Z`) });
    expect(data.since).toBe('2020-01-01T00:00:00.000Z');
    expect(data.accounts.total).toMatchObject({ total: 8, active: 7, suspended: 1, locked: 1, email_unverified: 2, new: d.accounts.total.created });
    expect(data.reservations.total_amount).toBe('306.95');
    expect(data.reservations.by_status[1]).toEqual({ status: 'confirmed', count: 2, seats: 5, total_amount: '49.59' });
    expect(data.paiements.revenue).toBe('139.96');
    expect(data.refunds).toEqual({ since: '2020-01-01T00:00:00.000Z', count: 3, amount: '82.09' });
    expect(data.trajets.upcoming_week).toEqual({ count: 2, seats: 8, booked: 3, average_occupancy_pct: 37.5 });
    expect(data.colis.lost).toBe(2);
    expect(data.colis.by_status[4]).toEqual({ status: 'lost', count: 2, weight_kg: '1.05', shipping_cost: '11.58' });
    expect(data.carriers_without_zone.count).toBe(1);
    expect(data.carriers_without_zone.carriers[0]).toMatchObject({ email: 'carrier2@example.fr', company_name: null, company_type: 'colis' });
    expect(data.revoked_tokens).toEqual({ active: 1, expired: 2 });
    expect(data.archive).toEqual({ reservations: 0, paiements: 0, envois: 0, colis: 0 });
  });

  it('prints plain tables for people', async () => {
    const r = await run(['stats'], { url: db.url });
    expect(r.code).toBe(0);
    for (const text of ['Accounts', 'Trajets', 'Reservations', 'Paiements', 'Envois', 'Colis', 'Revenue (completed paiements): 139.96', 'Lost colis: 2', 'Carriers without any zone: 1', 'carrier2@example.fr', 'Revoked tokens: 1 active, 2 expired', 'average occupancy 37.5%']) {
      expect(r.stdout).toContain(text);
    }
    expect(r.stdout).not.toContain(String.fromCharCode(27)); // NO_COLOR: no ANSI escapes
  });

  it('a --since that is not a date is exit 2, naming the option, and changes nothing', async () => {
    const before = await tableCounts(db.knex, PRODUCT_TABLES);
    const r = await run(['stats', '--since', 'last week'], { url: db.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*--since "last week" is not a day/m);
    expect(r.stdout).toBe('');
    expect(await tableCounts(db.knex, PRODUCT_TABLES)).toEqual(before);
  });
});
