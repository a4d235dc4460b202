/**
 * One id per thing (issue 16): `--transporteur`/`--expediteur` take the ACCOUNT id or email (never
 * the profile id); a number that is no account says so (exit 3). A suspended carrier's trajets
 * take no new booking (docs/rules.md), and suspending it says what that touches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { BOOKING_TABLES, hoursFromNow, insertAccount, insertCarrier } from './helpers/bookings.js';
import { createTrajet } from '../src/domain/trajets.js';
import { createReservation } from '../src/domain/reservations.js';
import { Conflict } from '../src/domain/errors.js';

describe.each(testedKinds())('carriers by account on %s', (kind) => {
  let db: TestDb;
  let carrier: { id: number; email: string; compteId: number };
  let trajetId: number;
  beforeAll(async () => {
    db = await createTestDb(kind);
    // Accounts first so that the profile ids and the account ids differ.
    for (let i = 0; i < 3; i++) await insertAccount(db.knex);
    await insertCarrier(db.knex, { email: 'other.carrier@example.fr' });
    carrier = await insertCarrier(db.knex, { email: 'fret@example.fr', companyName: 'Fret Express', companyType: 'mixte' });
    expect(carrier.compteId).not.toBe(carrier.id);
    const t = await db.knex.transaction((trx) =>
      createTrajet(trx, { transporteur: String(carrier.compteId), from: 'Paris', to: 'Lyon', departure: hoursFromNow(48), priceCents: 2000, seats: 4 }),
    );
    trajetId = t.id;
    await db.knex.transaction((trx) => createReservation(trx, { trajetId, firstName: 'Ana', lastName: 'Roy', phone: '0612345678', seats: 1 }, { refundRateBp: 1000 }));
  });
  afterAll(async () => db?.drop());

  it('--transporteur takes the account id (as accounts list shows it) or the email; tables show the account', async () => {
    const byId = await runJson<Array<{ id: number; transporteur_account_id: number }>>(['trajets', 'list', '--transporteur', String(carrier.compteId)], { url: db.url });
    const byEmail = await runJson<Array<{ id: number }>>(['trajets', 'list', '--transporteur', carrier.email], { url: db.url });
    expect(byId.data.map((t) => t.id)).toEqual([trajetId]);
    expect(byEmail.data.map((t) => t.id)).toEqual([trajetId]);
    expect(byId.data[0]!.transporteur_account_id).toBe(carrier.compteId);
    const listed = await runJson<Array<{ id: number; email: string }>>(['accounts', 'list', '--role', 'transporteur'], { url: db.url });
    expect(listed.data.find((a) => a.email === carrier.email)!.id).toBe(carrier.compteId);
    const table = await run(['-o', 'table', 'trajets', 'list', '--transporteur', carrier.email], { url: db.url });
    expect(table.stdout).toContain(`Fret Express (account ${carrier.compteId})`);
  });

  it('a number that is no account, or an account that is not a carrier, says so (exit 3)', async () => {
    const none = await run(['trajets', 'list', '--transporteur', '424242'], { url: db.url });
    expect(none.code).toBe(3);
    expect(none.stderr).toBe('error: no account with id 424242\n');
    const user = await run(['trajets', 'list', '--transporteur', '1'], { url: db.url });
    expect(user.code).toBe(3);
    expect(user.stderr).toMatch(/^error: account 1 \(.*\) is not a transporteur\n$/);
    const zones = await run(['zones', 'list', '--transporteur', String(carrier.id + 1000)], { url: db.url });
    expect(zones.code).toBe(3);
  });

  it('suspending a carrier says what it touches (question and --dry-run); its trajets then take no new booking', async () => {
    const dry = await run(['accounts', 'suspend', carrier.email, '--dry-run'], { url: db.url });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/would affect: 1 active trajet \(then taking no new booking\), 1 pending reservation and 0 confirmed reservations on them, 0 open envois/);
    const asked = await run(['accounts', 'suspend', carrier.email], { url: db.url });
    expect(asked.code).toBe(2);
    expect(asked.stderr).toMatch(/suspend account fret@example\.fr .*it is a carrier with 1 active trajet .*--yes/);
    const json = await runJson<{ carrier_impact: Record<string, number> }>(['accounts', 'suspend', carrier.email, '--yes'], { url: db.url });
    expect(json.data.carrier_impact).toEqual({ active_trajets: 1, pending_reservations: 1, confirmed_reservations: 0, open_envois: 0 });

    const before = await snapshot(db.knex, BOOKING_TABLES);
    const refused = await run(['reservations', 'create', '--trajet', String(trajetId), '--first-name', 'Léo', '--last-name', 'Martin', '--phone', '0611111111'], { url: db.url });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^error: trajet \d+ belongs to fret@example\.fr \(account \d+\), whose account is suspended: its trajets take no new bookings/);
    expect(await snapshot(db.knex, BOOKING_TABLES)).toEqual(before);
    await expect(
      db.knex.transaction((trx) => createReservation(trx, { trajetId, firstName: 'X', lastName: 'Y', phone: '0612345678', seats: 1 }, { refundRateBp: 1000 })),
    ).rejects.toThrow(Conflict);

    const back = await run(['accounts', 'activate', carrier.email], { url: db.url });
    expect(back.code, back.stderr).toBe(0);
    const ok = await run(['reservations', 'create', '--trajet', String(trajetId), '--first-name', 'Léo', '--last-name', 'Martin', '--phone', '0611111111'], { url: db.url });
    expect(ok.code, ok.stderr).toBe(0);
  });
});
