/**
 * Concurrent `reservations create` as separate processes of the real binary, all started at once
 * (parallelism limited only by Promise.all): exactly as many succeed as there are seats, every
 * other one exits 4 "not enough seats", and the invariants hold. MariaDB: 40 buyers for 10 seats
 * (the test); SQLite: 20 buyers for 5 seats (one writer at a time, busy timeout).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { hoursFromNow, insertCarrier } from './helpers/bookings.js';
import { run } from './helpers/cli.js';
import { createTrajet } from '../src/domain/trajets.js';
import { bookingInvariantViolations } from '../src/domain/reservations.js';

describe.each(testedKinds())('concurrent reservations create on %s', (kind) => {
  const buyers = kind === 'sqlite' ? 20 : 40;
  const seats = kind === 'sqlite' ? 5 : 10;
  let db: TestDb;
  let trajetId: number;
  beforeAll(async () => {
    db = await createTestDb(kind);
    const carrier = await insertCarrier(db.knex);
    trajetId = (
      await db.knex.transaction((trx) =>
        createTrajet(trx, { transporteur: carrier.compteId, from: 'Paris', to: 'Lyon', departure: hoursFromNow(24), priceCents: 1500, seats }),
      )
    ).id;
  });
  afterAll(async () => db?.drop());

  it(`${buyers} buyers, ${seats} seats: exactly ${seats} succeed, the others exit 4 "not enough seats"`, { timeout: 180_000 }, async () => {
    const results = await Promise.all(
      Array.from({ length: buyers }, (_, i) =>
        run(
          ['--json', 'reservations', 'create', '--trajet', String(trajetId), '--first-name', `Buyer${i}`, '--last-name', 'Test', '--phone', '+33612345678'],
          { url: db.url, timeoutMs: 170_000 },
        ),
      ),
    );
    const ok = results.filter((r) => r.code === 0);
    const refused = results.filter((r) => r.code === 4);
    expect(ok.length, results.filter((r) => r.code !== 0 && r.code !== 4).map((r) => r.stderr).join('\n')).toBe(seats);
    expect(refused.length).toBe(buyers - seats);
    for (const r of refused) {
      const err = JSON.parse(r.stderr.trim().split('\n').pop()!) as { error: { code: string; message: string } };
      expect(err.error.code).toBe('not_enough_seats');
      expect(err.error.message).toContain('not enough seats');
    }
    const booked = ok.map((r) => (JSON.parse(r.stdout) as { id: number; paiement: { status: string } }));
    expect(new Set(booked.map((b) => b.id)).size).toBe(seats);
    for (const b of booked) expect(b.paiement.status).toBe('pending');

    const t = (await db.knex('trajets').where({ id: trajetId }).first('available_seats')) as { available_seats: number };
    expect(Number(t.available_seats)).toBe(0);
    expect(Number(((await db.knex('reservations').count({ n: '*' }).first()) as { n: number }).n)).toBe(seats);
    expect(Number(((await db.knex('paiements').count({ n: '*' }).first()) as { n: number }).n)).toBe(seats);
    expect(Number(((await db.knex('audit_log').where('action', 'reservations.create').count({ n: '*' }).first()) as { n: number }).n)).toBe(seats);
    expect(await bookingInvariantViolations(db.knex)).toEqual([]);
  });
});
