/**
 * A platform database for the adoption tests: on MariaDB and PostgreSQL built by Sequelize itself
 * (`sequelize.sync()`, then a few of the app's own writes), on SQLite from the DDL Sequelize
 * writes there (test/platform/sqlite-schema.ts). `server` puts it on another MariaDB server (the
 * cluster tests pass a Galera node's URL).
 */
import knexFactory from 'knex';
import type { Sequelize } from 'sequelize';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { PlatformApp } from './app.js';
import { definePlatform, platformSequelize } from './models.js';
import { SEQUELIZE_SQLITE_DDL, fillSqlitePlatform } from './sqlite-schema.js';

const DAY = 86_400_000;

export async function platformDb(kind: 'mysql' | 'postgres' | 'sqlite', fill = true, server?: string): Promise<{ db: TestDb; app: PlatformApp | null; seq: Sequelize | null }> {
  const db = await createTestDb(kind, { migrate: false, serverDefaults: true, server });
  if (kind === 'sqlite') {
    const raw = knexFactory({ client: 'better-sqlite3', connection: { filename: db.target.kind === 'sqlite' ? db.target.filename : '' }, useNullAsDefault: true });
    for (const s of SEQUELIZE_SQLITE_DDL) await raw.raw(s);
    if (fill) await fillSqlitePlatform(raw);
    await raw.destroy();
    return { db, app: null, seq: null };
  }
  const seq = platformSequelize(db.url);
  const m = definePlatform(seq);
  await seq.sync();
  const app = new PlatformApp(m);
  if (fill) {
    const user = await app.register('user', 'lea.martin@example.fr', 'motdepasse-lea', { first_name: 'Léa', last_name: 'Martin', phone_number: '06 12 34 56 78' });
    const carrier = await app.register('transporteur', 'transports@example.fr', 'motdepasse-tr', { phone_number: '0698765432', company_name: 'Trans Loire', company_type: 'mixte' });
    await app.register('admin', 'admin@example.fr', 'motdepasse-adm', { first_name: 'Ada', last_name: 'Admin' });
    const trajet = await app.createTrajet(carrier.profileId, 'Orléans', 'Tours', new Date(Date.now() + 10 * DAY), '12.50', 4);
    const booked = await app.book(trajet, { first: 'Léa', last: 'Martin', phone: '06 12 34 56 78' }, 2, true, user.compteId);
    await app.pay(booked.reservationId);
    await app.book(trajet, { first: 'Paul', last: 'Invité', phone: '0700000001' }, 1, false, null);
    await app.ship(user.profileId, user.compteId, carrier.profileId, [
      { description: 'Livres', weight: '2.50' },
      { description: 'Enveloppe vide', weight: '0.00' },
    ]);
    await app.m.ZonesDesservies.create({ city_name: 'Orléans', transporteur_id: carrier.profileId, zone_type: 'both' });
    await app.logout((await app.login('admin@example.fr', 'motdepasse-adm'))!);
  }
  return { db, app, seq };
}
