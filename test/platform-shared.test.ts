/**
 * The platform app (Sequelize, test/platform/) writing a database billettigue created, and
 * billettigue then showing and acting on what the app wrote, through the real binary; and the
 * reverse: billettigue's demo data read by the app's models (validate() and the seed's includes).
 * MariaDB and PostgreSQL: Sequelize on SQLite needs the `sqlite3` native package, not installed here.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sequelize } from 'sequelize';
import { createTestDb, testedKinds, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { definePlatform, platformSequelize, type Platform } from './platform/models.js';
import { PlatformApp } from './platform/app.js';
import { rawRows } from '../src/db/dialect.js';
import { tokenHash } from '../src/domain/tokens.js';

const kinds = testedKinds().filter((k) => k === 'mysql' || k === 'postgres');
const DAY = 86_400_000;

describe.each(kinds)('the platform app on a database billettigue created (%s)', (kind) => {
  let db: TestDb;
  let seq: Sequelize;
  let app: PlatformApp;
  const ids: Record<string, number> = {};
  let adminToken = '';
  const cli = (args: string[], input?: string) => run(args, { url: db.url, input, env: { BILLETTIGUE_LOCKOUT_THRESHOLD: '5' } });
  const json = <T = Record<string, unknown>>(args: string[], input?: string) => runJson<T>(args, { url: db.url, input });

  beforeAll(async () => {
    db = await createTestDb(kind);
    seq = platformSequelize(db.url);
    app = new PlatformApp(definePlatform(seq));
  });
  afterAll(async () => {
    await seq?.close();
    await db?.drop();
  });

  it("the app's everyday writes succeed: accounts, trajets, bookings (guest too), payments, colis of weight 0, lockout, logout", async () => {
    const user = await app.register('user', 'lea.martin@example.fr', 'motdepasse-lea', { first_name: 'Léa', last_name: 'Martin', phone_number: '06 12 34 56 78' });
    const carrier = await app.register('transporteur', 'transports@example.fr', 'motdepasse-tr', { phone_number: '0698765432', company_name: 'Trans Loire', company_type: 'mixte' });
    const admin = await app.register('admin', 'admin@example.fr', 'motdepasse-adm', { first_name: 'Ada', last_name: 'Admin' });
    Object.assign(ids, { user: user.compteId, utilisateur: user.profileId, carrier: carrier.compteId, transporteur: carrier.profileId, admin: admin.compteId });
    ids.trajet = await app.createTrajet(carrier.profileId, 'Orléans', 'Tours', new Date(Date.now() + 10 * DAY), '12.50', 4);
    const booked = await app.book(ids.trajet, { first: 'Léa', last: 'Martin', phone: '06 12 34 56 78' }, 2, true, user.compteId);
    const guest = await app.book(ids.trajet, { first: 'Paul', last: 'Invité', phone: '+33 7 00 00 00 01' }, 1, false, null);
    ids.reservation = booked.reservationId;
    ids.guest = guest.reservationId;
    await app.pay(booked.reservationId);
    ids.envoi = await app.ship(user.profileId, user.compteId, carrier.profileId, [
      { description: 'Livres', weight: '2.50' },
      { description: 'Enveloppe vide', weight: '0.00' },
    ]);
    await app.m.ZonesDesservies.create({ city_name: 'Orléans', transporteur_id: carrier.profileId, zone_type: 'both', service_frequency: 'daily' });
    for (let i = 0; i < 5; i++) expect(await app.login('lea.martin@example.fr', 'wrong')).toBeNull();
    expect(await app.login('lea.martin@example.fr', 'motdepasse-lea')).toBeNull(); // locked
    adminToken = (await app.login('admin@example.fr', 'motdepasse-adm'))!;
    expect(adminToken).toMatch(/^ey/);
    expect(await app.isRevoked(adminToken)).toBe(false);
    await app.logout(adminToken);
    expect(await app.isRevoked(adminToken)).toBe(true);
    // The database computed the hash billettigue looks tokens up by; the app's lookup by token is indexed.
    const [row] = await rawRows<{ token_hash: string }>(db.knex, 'SELECT token_hash FROM revoked_tokens WHERE token = ?', [adminToken]);
    expect(row!.token_hash).toBe(tokenHash(adminToken));
    const plan = await db.knex.transaction(async (trx) => {
      if (kind === 'postgres') await trx.raw('SET LOCAL enable_seqscan = off'); // a tiny table is scanned otherwise
      return rawRows<Record<string, unknown>>(trx, 'EXPLAIN SELECT * FROM revoked_tokens WHERE token = ?', [adminToken]);
    });
    expect(JSON.stringify(plan)).toContain('revoked_tokens_token_index');
    expect((await db.knex('colis').where({ envoi_id: ids.envoi, weight: '0.00' })).length).toBe(1);
    const { user: u, trajets } = await app.seedQueries(carrier.profileId);
    expect((u?.get('compte') as { get(k: string): unknown }).get('role')).toBeTruthy();
    expect((trajets[0]!.get('reservations') as unknown[]).length).toBe(2);
  });

  it('billettigue shows and acts on all of it', async () => {
    const shown = await json<{ account: { account_locked: boolean; failed_logins: number } }>(['accounts', 'show', 'lea.martin@example.fr']);
    expect(shown.code).toBe(0);
    expect(shown.data.account).toMatchObject({ account_locked: true, failed_logins: 5 });
    expect((await cli(['accounts', 'unlock', 'lea.martin@example.fr', '--reason', 'phoned the support'])).code).toBe(0);
    expect(await app.login('lea.martin@example.fr', 'motdepasse-lea')).toMatch(/^ey/);
    expect((await cli(['accounts', 'lock', 'transports@example.fr', '--reason', 'audit'])).code).toBe(0);
    expect(await app.login('transports@example.fr', 'motdepasse-tr')).toBeNull();
    expect((await cli(['accounts', 'unlock', 'transports@example.fr'])).code).toBe(0);

    for (const [args, n] of [
      [['accounts', 'list'], 3],
      [['roles', 'list'], 3],
      [['tokens', 'list'], 1],
      [['trajets', 'list', '--status', 'active'], 1],
      [['reservations', 'list'], 2],
      [['payments', 'list'], 2],
      [['envois', 'list'], 1],
      [['colis', 'list'], 2],
      [['zones', 'list', '--city', 'orleans'], 1],
    ] as Array<[string[], number]>) {
      const r = await json<unknown[]>(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.data, args.join(' ')).toHaveLength(n);
    }
    for (const args of [['trajets', 'show', String(ids.trajet)], ['reservations', 'show', String(ids.guest)], ['envois', 'show', String(ids.envoi)]]) {
      expect((await cli(args)).code, args.join(' ')).toBe(0);
    }
    // The app's token (account in "id", not "sub") is found by the token itself.
    const checked = await json<{ revoked: boolean; token: { user_id: number } }>(['tokens', 'check'], adminToken);
    expect(checked.code).toBe(0);
    expect(checked.data.token.user_id).toBe(ids.admin!);
    expect((await cli(['tokens', 'revoke'], adminToken)).code).toBe(4); // already revoked, by the app
    const check = await cli(['maintenance', 'check']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect((await cli(['stats'])).code).toBe(0);
    expect((await cli(['reservations', 'confirm', String(ids.guest), '--yes'])).code).toBe(0);
    expect((await cli(['envois', 'accept', String(ids.envoi)])).code).toBe(0);
    expect((await json<unknown[]>(['audit', 'list'])).data.length).toBeGreaterThanOrEqual(5);

    const dir = path.join(db.dir, 'backups');
    expect((await cli(['backup', '--dir', dir, '--name', 'shared'])).code).toBe(0);
    const restored = await cli(['restore', 'shared', '--dir', dir, '--yes']);
    expect(restored.code, restored.stderr).toBe(0);

    // The app keeps reading and writing after the restore.
    expect(await app.isRevoked(adminToken)).toBe(true);
    await app.book(ids.trajet!, { first: 'Zoé', last: 'Après', phone: '0611111111' }, 1, false, null);
    const again = await app.login('admin@example.fr', 'motdepasse-adm');
    await app.logout(again!);
    expect((await json<unknown[]>(['tokens', 'list'])).data).toHaveLength(2);
    expect((await cli(['maintenance', 'check'])).code).toBe(0);
  }, 240_000); // some 40 runs of the binary: minutes on a loaded 2-core machine
});

describe.each(kinds)("billettigue's demo data read by the app's models (%s)", (kind) => {
  let db: TestDb;
  let seq: Sequelize;
  let m: Platform;
  beforeAll(async () => {
    db = await createTestDb(kind);
    const r = await run(['seed', 'demo', '--scale', 'tiny', '--yes'], { url: db.url });
    expect(r.code, r.stderr).toBe(0);
    seq = platformSequelize(db.url);
    m = definePlatform(seq);
  });
  afterAll(async () => {
    await seq?.close();
    await db?.drop();
  });

  it("every row passes the models' validate(), and the seed's include queries work", async () => {
    const models = [m.Role, m.Compte, m.Utilisateur, m.Transporteur, m.Administrateur, m.Trajet, m.Reservation, m.Paiement, m.Envoi, m.Colis, m.ZonesDesservies, m.RevokedToken];
    let rows = 0;
    for (const model of models) {
      for (const row of await model.findAll()) {
        const err = await row.validate().then(() => null, (e: Error) => e.message);
        expect(err, `${model.name} ${String(row.get('id'))}`).toBeNull();
        rows++;
      }
    }
    expect(rows).toBeGreaterThan(100);
    const app = new PlatformApp(m);
    const carrier = (await m.Trajet.findOne())!.get('transporteur_id') as number;
    const { user, trajets } = await app.seedQueries(carrier);
    expect(user).not.toBeNull();
    expect(trajets.length).toBeGreaterThan(0);
  });
});
