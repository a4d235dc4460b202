/**
 * The demo generator without a database: scales and their totals, the plan's refusals,
 * determinism (same seed → same bytes; rows are pure functions of their index), the value
 * encodings of the bulk sinks, the seeded password hash, production mode.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import mysql from 'mysql2';
import { ParamsSink, SqlValuesSink, TsvSink } from '../src/db/bulk.js';
import { DEMO_PARENTS, DEMO_TABLES, DemoGenerator, type DemoTable } from '../src/domain/demo/generator.js';
import { DEFAULT_REFERENCE, DEMO_PASSWORD, SCALES, isProductionEnv, makePlan, type Scale } from '../src/domain/demo/plan.js';
import { slug } from '../src/domain/demo/pools.js';
import { Rng, cumulative, seedWords } from '../src/domain/demo/rng.js';
import { bcryptBase64, demoPasswordHash, scheduleOrder } from '../src/domain/demo/seed.js';
import { verifyPassword } from '../src/domain/passwords.js';
import { DEFAULT_SETTINGS } from '../src/domain/settings.js';
import { InvalidInput } from '../src/domain/errors.js';

const ZERO = Object.fromEntries(DEMO_TABLES.map((t) => [t, 0])) as Record<DemoTable, number>;

function generator(scale: Scale, randomSeed = '1', offsets = ZERO): DemoGenerator {
  return new DemoGenerator({
    plan: makePlan(scale),
    randomSeed,
    reference: DEFAULT_REFERENCE,
    settings: DEFAULT_SETTINGS,
    passwordHash: '$2b$04$abcdefghijklmnopqrstuu',
    roleIds: { admin: 1, user: 2, transporteur: 3 },
    offsets,
  });
}

/** All of a table's rows as TSV text. */
function tsv(gen: DemoGenerator, table: DemoTable): { text: string; rows: number } {
  const sink = new TsvSink();
  let text = '';
  let rows = 0;
  for (const _ of gen.produce(table, sink)) {
    const c = sink.take();
    text += c.text;
    rows += c.rows;
  }
  const c = sink.take();
  return { text: text + c.text, rows: rows + c.rows };
}

describe('scales', () => {
  const expected: Record<Scale, [number, number]> = {
    tiny: [800, 1_200],
    small: [45_000, 55_000],
    medium: [900_000, 1_100_000],
    large: [9_000_000, 11_000_000],
  };
  it.each(SCALES)('%s has the announced number of rows', (scale) => {
    const counts = generator(scale).counts();
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(expected[scale][0]);
    expect(total).toBeLessThanOrEqual(expected[scale][1]);
    expect(counts.paiements).toBe(counts.reservations);
    expect(counts.comptes).toBe(counts.utilisateurs + counts.transporteurs + counts.administrateurs);
  });

  it('applies overrides and refuses incoherent ones', () => {
    expect(makePlan('tiny', { accounts: 10, envois: 0 })).toMatchObject({ accounts: 10, envois: 0, trajets: 70 });
    const refused = (o: Parameters<typeof makePlan>[1]) => expect(() => makePlan('tiny', o)).toThrow(InvalidInput);
    refused({ accounts: 0 });
    refused({ trajets: 0, reservations: 1 });
    refused({ trajets: 10, reservations: 201 });
    refused({ transporteurs: 0 });
    expect(makePlan('tiny', { transporteurs: 0, trajets: 0, reservations: 0, envois: 0 }).transporteurs).toBe(0);
  });
});

describe('generator', () => {
  it('same seed, same bytes; another seed, other bytes', () => {
    const a = generator('tiny', 'x');
    const b = generator('tiny', 'x');
    const c = generator('tiny', 'y');
    for (const t of DEMO_TABLES) {
      const ta = tsv(a, t);
      expect(ta.rows).toBe(a.counts()[t]);
      expect(tsv(b, t).text).toBe(ta.text);
      if (ta.rows > 0) expect(tsv(c, t).text).not.toBe(ta.text);
    }
  });

  it('rows are pure functions of the seed: a table generated alone equals the same table generated after the others', () => {
    const alone = generator('tiny', 'z');
    const all = generator('tiny', 'z');
    for (const t of DEMO_TABLES) if (t !== 'colis') tsv(all, t);
    expect(tsv(alone, 'colis').text).toBe(tsv(all, 'colis').text);
    expect(tsv(generator('tiny', 'z'), 'reservations').text).toBe(tsv(all, 'reservations').text);
  });

  it('ids follow the offsets', () => {
    const offsets = { ...ZERO, comptes: 1000, trajets: 50 };
    const rows = tsv(generator('tiny', '1', offsets), 'trajets').text.split('\n');
    expect(rows[0]!.split('\t')[0]).toBe('51');
    const first = tsv(generator('tiny', '1', offsets), 'comptes').text.split('\n')[0]!.split('\t');
    expect(first[0]).toBe('1001');
    expect(first[1]).toBe('admin@demo.billettigue.test');
  });

  it('the three sinks write the same number of rows and values', () => {
    const gen = generator('tiny', '3');
    const p = new ParamsSink();
    for (const _ of gen.produce('reservations', p));
    expect(p.pending).toBe(gen.counts().reservations);
    expect(p.values.length).toBe(gen.counts().reservations * 14);
    const s = new SqlValuesSink();
    for (const _ of gen.produce('reservations', s));
    expect(s.take().rows).toBe(gen.counts().reservations);
  });
});

describe('load schedule', () => {
  it('puts the heaviest chain first and every parent before its children', () => {
    const order = scheduleOrder(generator('medium').counts());
    expect(order.slice(0, 3)).toEqual(['comptes', 'transporteurs', 'trajets']);
    expect([...order].sort()).toEqual([...DEMO_TABLES].sort());
    for (const t of DEMO_TABLES) for (const p of DEMO_PARENTS[t]) expect(order.indexOf(p)).toBeLessThan(order.indexOf(t));
  });

  it('forks produce the same rows as their parent, even interleaved', () => {
    const base = generator('small', 'f');
    const a = base.fork();
    const b = base.fork();
    const sa = new TsvSink();
    const sb = new TsvSink();
    const ia = a.produce('reservations', sa);
    const ib = b.produce('envois', sb);
    let ta = '';
    let tb = '';
    for (let da = false, db = false; !da || !db; ) {
      if (!da) da = Boolean(ia.next().done);
      ta += sa.take().text;
      if (!db) db = Boolean(ib.next().done);
      tb += sb.take().text;
    }
    const fresh = generator('small', 'f');
    expect(ta).toBe(tsv(fresh, 'reservations').text);
    expect(tb).toBe(tsv(fresh, 'envois').text);
  });
});

describe('sinks', () => {
  const tricky = ["D'Artagnan", 'back\\slash', 'tab\there', 'new\nline', 'cr\rhere', 'nul\0byte', 'ctrl\x1aZ', 'Élodie ’ 😀'];

  it('SQL literals are escaped exactly as mysql2 escapes them', () => {
    const sink = new SqlValuesSink();
    for (const v of tricky) sink.str(v);
    sink.end();
    expect(sink.take().text).toBe('(' + tricky.map((v) => mysql.escape(v)).join(',') + ')');
  });

  it('TSV escapes tabs, newlines and backslashes; NULL is \\N', () => {
    const sink = new TsvSink();
    sink.str('a\tb\nc\\d');
    sink.strOrNull(null);
    sink.hundredths(1205);
    sink.hundredthsOrNull(null);
    sink.time(Date.UTC(2026, 10, 25, 7, 5, 9) / 1000);
    sink.bool(true);
    sink.end();
    expect(sink.take()).toEqual({ text: 'a\\tb\\nc\\\\d\t\\N\t12.05\t\\N\t2026-11-25 07:05:09\t1\n', rows: 1 });
  });

  it('times are UTC and cross days, years and leap days correctly', () => {
    const sink = new ParamsSink();
    for (const iso of ['2024-02-29T23:59:59Z', '2024-03-01T00:00:00Z', '1999-12-31T12:00:00Z', '2026-11-25T00:00:00Z']) sink.time(Date.parse(iso) / 1000);
    expect(sink.values).toEqual(['2024-02-29 23:59:59', '2024-03-01 00:00:00', '1999-12-31 12:00:00', '2026-11-25 00:00:00']);
  });
});

describe('randomness and names', () => {
  it('a stream positioned twice replays the same values; bounds are inclusive', () => {
    const r = new Rng(seedWords('s'));
    const first = [r.at(3, 42).next(), r.next(), r.next()];
    expect([r.at(3, 42).next(), r.next(), r.next()]).toEqual(first);
    expect(r.at(3, 43).next()).not.toBe(first[0]);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(r.int(1, 5));
    expect([...seen].sort()).toEqual([1, 2, 3, 4, 5]);
    const w = cumulative([0, 5, 0, 5]);
    for (let i = 0; i < 500; i++) expect([1, 3]).toContain(r.weighted(w));
  });

  it('slugs are ASCII', () => {
    expect(slug("Élodie D'Arc-Ségur")).toBe('elodie-darc-segur');
    expect(slug('Transports Lefèvre & Fils SARL')).toBe('transports-lefevre-fils-sarl');
  });
});

describe('password and production mode', () => {
  it('hashes once with a salt derived from the seed: same seed, same hash, and it verifies', async () => {
    const h1 = await demoPasswordHash(DEMO_PASSWORD, 4, 'abc');
    expect(await demoPasswordHash(DEMO_PASSWORD, 4, 'abc')).toBe(h1);
    expect(await demoPasswordHash(DEMO_PASSWORD, 4, 'abd')).not.toBe(h1);
    expect(h1).toMatch(/^\$2b\$04\$[./A-Za-z0-9]{53}$/);
    expect(await verifyPassword(DEMO_PASSWORD, h1)).toBe(true);
    const random = await demoPasswordHash(DEMO_PASSWORD, 4, 'abc', true);
    expect(random).not.toBe(h1);
    expect(bcryptBase64(createHash('sha256').update('x').digest().subarray(0, 16))).toHaveLength(22);
  });

  it('production mode is NODE_ENV or BILLETTIGUE_ENV = production', () => {
    expect(isProductionEnv({ NODE_ENV: 'production' })).toBe(true);
    expect(isProductionEnv({ BILLETTIGUE_ENV: 'Production' })).toBe(true);
    expect(isProductionEnv({ NODE_ENV: 'development' })).toBe(false);
    expect(isProductionEnv({})).toBe(false);
  });
});
