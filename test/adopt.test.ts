/**
 * Day one (issue 12): the platform's database was built by `sequelize.sync()` and filled by the app
 * (test/platform/). billettigue recognises it and names `db adopt`; `--dry-run` changes nothing;
 * adoption refuses (nothing changed) when a required column is missing or of another type; a row
 * breaking a CHECK is listed and that CHECK skipped; after `db adopt --yes` every group works, a
 * backup/restore round trip too, and the app keeps working; `db adopt --undo` gives the app's tables
 * back exactly. MariaDB and PostgreSQL run the real Sequelize (on PostgreSQL: SERIAL ids,
 * timestamptz, an `enum_<table>_<column>` type per status); SQLite uses the DDL Sequelize writes
 * there (test/platform/sqlite-schema.ts: Sequelize on SQLite needs the `sqlite3` package).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sequelize } from 'sequelize';
import { testedKinds, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { type PlatformApp, signJwt } from './platform/app.js';
import { platformDb } from './platform/db.js';
import { snapshotTables } from './platform/snapshot.js';
import { insertId, rawRows } from '../src/db/dialect.js';
import { acquireRestoreLock } from '../src/backup/lock.js';
import { SEED_TABLES } from '../src/db/schema.js';
import { tokenHash } from '../src/domain/tokens.js';

const DAY = 86_400_000;

/** What differs in the report and the DDL from one engine to the other. */
const REPORT: Record<'mysql' | 'postgres', { comptes: RegExp; email: RegExp; check: RegExp; tokenDdl: string[] }> = {
  mysql: {
    comptes: /^comptes \(utf8mb4_general_ci\)$/m,
    email: /^ {2}ok\s+email\s+varchar\(255\), not null$/m,
    check: /^ {2}add\s+check comptes_status_check: `status` in \('active', 'inactive', 'suspended', 'deleted'\)$/m,
    tokenDdl: ['ALTER TABLE `revoked_tokens` ADD COLUMN `token_hash` CHAR(64) AS (SHA2(`token`, 256)) STORED', 'CREATE INDEX `revoked_tokens_token_index` ON `revoked_tokens` (`token`(255));'],
  },
  postgres: {
    comptes: /^comptes$/m,
    email: /^ {2}ok\s+email\s+character varying\(255\), not null$/m,
    // Sequelize's ENUM is the rule: no CHECK on it, and the report says so.
    check: /^ {2}ok\s+check comptes_status_check {2}— enforced by the enumerated type of status$/m,
    tokenDdl: ['ALTER TABLE "revoked_tokens" ADD COLUMN "token_hash" char(64) GENERATED ALWAYS AS (', 'CREATE OR REPLACE FUNCTION bt_fold(text)'],
  },
};

/** The plan a lookup of the app's revoked token gets: the index it uses. */
async function tokenLookupPlan(db: TestDb, token: string): Promise<string> {
  if (db.kind === 'mysql') return String((await rawRows<{ key: string | null }>(db.knex, 'EXPLAIN SELECT * FROM revoked_tokens WHERE token = ?', [token]))[0]!.key);
  // PostgreSQL: a tiny table is scanned whatever its indexes; with scans off, the plan shows the index.
  return db.knex.transaction(async (trx) => {
    await trx.raw('SET LOCAL enable_seqscan = off');
    return (await rawRows<{ 'QUERY PLAN': string }>(trx, 'EXPLAIN SELECT * FROM revoked_tokens WHERE token = ?', [token])).map((p) => p['QUERY PLAN']).join(' ');
  });
}

describe.each(testedKinds().filter((k): k is 'mysql' | 'postgres' => k === 'mysql' || k === 'postgres'))('day one on %s: the platform app built the database', (kind) => {
  let db: TestDb;
  let app: PlatformApp;
  let seq: Sequelize;
  let original: Awaited<ReturnType<typeof snapshotTables>>;
  const cli = (args: string[], input?: string) => run(args, { url: db.url, input, cwd: db.dir });
  const json = <T = Record<string, unknown>>(args: string[], input?: string) => runJson<T>(args, { url: db.url, input, cwd: db.dir });

  beforeAll(async () => {
    ({ db, app: app!, seq: seq! } = (await platformDb(kind)) as { db: TestDb; app: PlatformApp; seq: Sequelize });
    original = await snapshotTables(db.knex, kind);
  });
  afterAll(async () => {
    await seq?.close();
    await db?.drop();
  });

  it('doctor and every command that needs the schema name `db adopt`; db migrate exits 4 and creates nothing', async () => {
    const doctor = await cli(['doctor']);
    expect(doctor.code).toBe(5);
    expect(doctor.stdout).toMatch(/migrations\s+none: the platform app built this database .*`billettigue db adopt`/);
    for (const args of [['accounts', 'list'], ['accounts', 'show', 'admin@example.fr'], ['trajets', 'list'], ['db', 'status'], ['stats']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(5);
      expect(r.stderr, args.join(' ')).toMatch(/^error: this database was built by the platform app .*`billettigue db adopt`/m);
    }
    const migrate = await cli(['db', 'migrate']);
    expect(migrate.code).toBe(4);
    expect(migrate.stderr).toMatch(/^error: db migrate would create tables that already exist: .*`billettigue db adopt`/m);
    const reset = await cli(['db', 'reset', '--yes']);
    expect(reset.code).toBe(5);
    expect(reset.stderr).toMatch(/db reset would drop the platform app's tables/);
    expect(await snapshotTables(db.knex, kind)).toEqual(original);
  });

  it('db adopt --dry-run prints the report and the exact DDL and changes nothing', async () => {
    const r = await cli(['db', 'adopt', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    const want = REPORT[kind];
    expect(r.stdout).toMatch(want.comptes);
    expect(r.stdout).toMatch(want.email);
    expect(r.stdout).toMatch(want.check);
    expect(r.stdout).toMatch(/^ {2}~\s+foreign key \(role_id\) → roles\(id\) on delete CASCADE {2}— expected roles\(id\) on delete RESTRICT/m);
    for (const ddl of want.tokenDdl) expect(r.stdout).toContain(ddl);
    if (kind === 'postgres') {
      // Sequelize's types on PostgreSQL, as the report names them.
      expect(r.stdout).toMatch(/^ {2}~\s+status\s+enum_comptes_status, not null, default active {2}— an enumerated type \(active, inactive, suspended, deleted\)/m);
      expect(r.stdout).toMatch(/^ {2}ok\s+created_at\s+timestamp with time zone, not null$/m);
      expect(r.stdout).toMatch(/^ {2}ok\s+price\s+numeric\(10,2\), not null$/m);
      // Cities are searched folded: a plain index on city_name does not serve, bt_fold(city_name) does.
      expect(r.stdout).toContain('CREATE INDEX "zones_desservies_city_name_index" ON "zones_desservies" (bt_fold("city_name"));');
    }
    expect(r.stderr).toMatch(/dry run: \d+ change\(s\) would be made; nothing changed/);
    const j = await json<{ blockers: string[]; tables: Array<{ name: string; status: string }>; changes: Array<{ kind: string; sql: string[] }> }>(['db', 'adopt', '--dry-run']);
    expect(j.code).toBe(0);
    expect(j.data.blockers).toEqual([]);
    expect(j.data.tables.filter((t) => t.status === 'present').map((t) => t.name)).toEqual([...SEED_TABLES]);
    expect(j.data.tables.filter((t) => t.status === 'create').map((t) => t.name)).toEqual(['audit_log', 'reservations_archive', 'paiements_archive', 'envois_archive', 'colis_archive']);
    expect(j.data.changes.at(-1)!.kind).toBe('baseline');
    expect(await snapshotTables(db.knex, kind)).toEqual(original);
  });

  it('without a terminal it needs --yes (exit 2) and changes nothing', async () => {
    const r = await cli(['db', 'adopt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes/);
    expect(await snapshotTables(db.knex, kind)).toEqual(original);
  });

  it('db adopt --yes: safety backup, additive changes only, no row modified; the app keeps working', async () => {
    const r = await cli(['db', 'adopt', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const safety = /safety backup: (\S+safety_backup_\S+\.sql\.gz)/.exec(r.stderr)?.[1];
    expect(safety && existsSync(safety)).toBe(true);
    expect(r.stderr).toMatch(/adopted .*: \d+ change\(s\) made, no row modified/);
    expect((await cli(['doctor'])).code).toBe(0);
    expect((await cli(['db', 'status'])).code).toBe(0);
    const now = await snapshotTables(db.knex, kind);
    for (const t of SEED_TABLES.filter((x) => x !== 'revoked_tokens')) expect(now.data[t], t).toBe(original.data[t]);
    expect((await cli(['db', 'adopt', '--yes'])).code).toBe(4); // already adopted
    // The app, after adoption: its writes (seed's columns only) pass the new CHECKs and the token hash.
    const u = await app.register('user', 'zoe@example.fr', 'motdepasse-zoe', { first_name: 'Zoé', last_name: 'Petit', phone_number: '0611111111' });
    const token = (await app.login('zoe@example.fr', 'motdepasse-zoe'))!;
    await app.logout(token);
    expect(await app.isRevoked(token)).toBe(true);
    const [hash] = await rawRows<{ token_hash: string }>(db.knex, 'SELECT token_hash FROM revoked_tokens WHERE token = ?', [token]);
    expect(hash!.token_hash).toBe(tokenHash(token));
    // The app's lookup by token: MySQL's prefix index; on PostgreSQL Sequelize's own UNIQUE (btree) serves it.
    expect(await tokenLookupPlan(db, token)).toMatch(kind === 'mysql' ? /^revoked_tokens_token_index$/ : /Index Scan using revoked_tokens_token_key/);
    expect(u.compteId).toBeGreaterThan(0);
    // Booking, payment and a colis of 0 kg, with the new CHECKs in place.
    const carrier = (await app.m.Transporteur.findOne())!.get('id') as number;
    const trajet = await app.createTrajet(carrier, 'Tours', 'Nantes', new Date(Date.now() + 5 * DAY), '20.00', 3);
    const booked = await app.book(trajet, { first: 'Zoé', last: 'Petit', phone: '0611111111' }, 1, false, u.compteId);
    await app.pay(booked.reservationId);
    await app.ship(u.profileId, u.compteId, carrier, [{ description: 'Lettre', weight: '0.00' }]);
    // Dates the app wrote (timestamptz on PostgreSQL) read back in UTC, whatever the machine's zone.
    const created = (await app.m.Compte.findOne({ where: { email: 'zoe@example.fr' } }))!.get('createdAt') as Date;
    const shown = await runJson<{ account: { created_at: string } }>(['accounts', 'show', 'zoe@example.fr'], { url: db.url, env: { TZ: 'Pacific/Auckland' } });
    expect(shown.data.account.created_at).toBe(`${created.toISOString().slice(0, 19)}.000Z`);
  });

  it('every group lists and shows, and one mutation per group works', async () => {
    const j = async <T = unknown[]>(args: string[], input?: string) => {
      const r = await json<T>(args, input);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.data;
    };
    const carrier = (await j<Array<{ id: number }>>(['accounts', 'list', '--role', 'transporteur']))[0]!;
    const trajets = await j<Array<{ id: number }>>(['trajets', 'list']);
    for (const args of [
      ['accounts', 'show', 'lea.martin@example.fr'],
      ['roles', 'list'],
      ['roles', 'show', 'user'],
      ['tokens', 'list'],
      ['trajets', 'show', String(trajets[0]!.id)],
      ['reservations', 'list'],
      ['payments', 'list'],
      ['envois', 'list'],
      ['colis', 'list'],
      ['zones', 'list'],
      ['audit', 'list'],
      ['stats'],
    ]) {
      await j(args);
    }
    await j(['accounts', 'lock', 'lea.martin@example.fr', '--reason', 'test']);
    await j(['roles', 'create', 'support', '--description', 'Support client']);
    const appToken = signJwt({ id: carrier.id, exp: Math.floor(Date.now() / 1000) + 3600 });
    await j(['tokens', 'revoke', '--reason', 'stolen phone'], appToken);
    expect(await app.isRevoked(appToken)).toBe(true); // billettigue's revocation, seen by the app
    const t = await j<{ trajet: { id: number } }>(['trajets', 'create', '--transporteur', 'transports@example.fr', '--from', 'Tours', '--to', 'Blois', '--departure', new Date(Date.now() + 20 * DAY).toISOString(), '--price', '9.90', '--seats', '3']);
    const res = await j<{ reservation: { id: number } }>(['reservations', 'create', '--trajet', String(t.trajet?.id ?? (t as unknown as { id: number }).id), '--first-name', 'Invité', '--last-name', 'Sans Compte', '--phone', '0700000002']);
    expect(res).toBeTruthy();
    await j(['envois', 'create', '--expediteur', 'lea.martin@example.fr', '--transporteur', 'transports@example.fr', '--description', 'Cadeaux', '--recipient-name', 'Marie', '--recipient-phone', '0611223344', '--colis', 'Boîte:1.5']);
    const pending = (await j<Array<{ id: number; status: string }>>(['colis', 'list', '--status', 'pending']))[0]!;
    await j(['colis', 'update', String(pending.id), '--weight', '3']);
    await j(['zones', 'add', '--transporteur', 'transports@example.fr', '--city', 'Blois']);
    // Statuses written into the app's columns (enumerated types on PostgreSQL).
    await j(['accounts', 'suspend', 'lea.martin@example.fr', '--yes']);
    await j(['accounts', 'activate', 'lea.martin@example.fr']);
    const guest = (await j<Array<{ id: number; status: string }>>(['reservations', 'list', '--status', 'pending']))[0]!;
    await j(['reservations', 'confirm', String(guest.id), '--yes']);
    const envoi = (await j<Array<{ id: number }>>(['envois', 'list', '--status', 'pending']))[0]!;
    await j(['envois', 'accept', String(envoi.id)]);
    expect((await j<Array<{ id: number }>>(['envois', 'list', '--status', 'accepted'])).map((e) => e.id)).toContain(envoi.id);
    // Archiving moves a finished reservation out and back into the app's table (its status an
    // enumerated type on PostgreSQL, a varchar in the archive).
    const profile = (await app.m.Transporteur.findOne())!.get('id') as number;
    const old = await app.createTrajet(profile, 'Paris', 'Lyon', new Date('2020-03-01T08:00:00Z'), '10.00', 2);
    const past = await app.book(old, { first: 'Ancien', last: 'Voyage', phone: '0700000003' }, 1, false, null);
    await j(['reservations', 'cancel', String(past.reservationId), '--yes']);
    const paiement = (await app.m.Paiement.findOne({ where: { reservation_id: past.reservationId } }))!.get('status');
    await j(['maintenance', 'archive', '--older-than', '1y', '--yes']);
    expect(await app.m.Reservation.findByPk(past.reservationId)).toBeNull();
    await j(['maintenance', 'archive', 'restore', '--id', `reservation:${past.reservationId}`, '--yes']);
    expect((await app.m.Reservation.findByPk(past.reservationId))!.get('status')).toBe('cancelled');
    expect((await app.m.Paiement.findOne({ where: { reservation_id: past.reservationId } }))!.get('status')).toBe(paiement);
    const check = await cli(['maintenance', 'check']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
  }, 240_000); // some 30 runs of the binary: minutes on a loaded 2-core machine

  it('a backup/restore round trip keeps the adopted database as it was; the app keeps working', async () => {
    const before = await snapshotTables(db.knex, kind);
    const dir = path.join(db.dir, 'rt');
    expect((await cli(['backup', '--dir', dir, '--name', 'adopted'])).code).toBe(0);
    const r = await cli(['restore', 'adopted', '--dir', dir, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const after = await snapshotTables(db.knex, kind);
    expect(after.data).toEqual(before.data);
    expect(after.tables).toEqual(before.tables);
    // PostgreSQL stores a CHECK re-created from its printed form with other casts and parentheses
    // (`= ANY ((ARRAY['a'::varchar])::text[])` comes back as `= ANY (ARRAY[('a'::varchar)::text])`): same rule.
    const rule = (text: string) => text.replace(/::(character varying|text)(\[\])?/g, '').replace(/[()]/g, '');
    expect(Object.fromEntries(Object.entries(after.schema).map(([k, v]) => [k, rule(v)]))).toEqual(Object.fromEntries(Object.entries(before.schema).map(([k, v]) => [k, rule(v)])));
    const token = (await app.login('admin@example.fr', 'motdepasse-adm'))!;
    await app.logout(token);
    expect(await app.isRevoked(token)).toBe(true);
  });

  it('db rollback and db reset refuse to go below the adoption baseline (exit 4) and drop nothing', async () => {
    const before = await snapshotTables(db.knex, kind);
    const rb = await cli(['db', 'rollback', '--yes']);
    expect(rb.code).toBe(4);
    expect(rb.stderr).toMatch(/rolling them back would drop the platform app's tables\. Use `billettigue db adopt --undo`/);
    expect((await cli(['db', 'rollback', '--all', '--dry-run'])).code).toBe(4);
    const reset = await cli(['db', 'reset', '--yes']);
    expect(reset.code).toBe(4);
    expect(reset.stderr).toMatch(/`billettigue db adopt --undo`/);
    expect(await snapshotTables(db.knex, kind)).toEqual(before);
  });

  it("db adopt --undo gives the app's tables back exactly (schema), touching no row", async () => {
    const before = await snapshotTables(db.knex, kind);
    // revoked_tokens loses the computed token_hash: its other columns keep every row.
    const tokens = () => db.knex('revoked_tokens').orderBy('id').select('id', 'token', 'user_id', 'revoked_at', 'expires_at', 'reason');
    const tokensBefore = await tokens();
    const r = await cli(['db', 'adopt', '--undo', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const after = await snapshotTables(db.knex, kind);
    expect(after.tables).toEqual(original.tables);
    if (kind === 'postgres') {
      // The restore above set the replaced tables aside (bt_undo_…, for `restore --undo`); their
      // city indexes call bt_fold(), which therefore stays, with a warning. Everything else goes.
      expect(r.stderr).toMatch(/^warning: bt_fold\(\) \(and the unaccent extension, if adoption added it\) stays: .*bt_undo_/m);
      const { '(database)': db1, ...tables1 } = after.schema;
      const { '(database)': db0, ...tables0 } = original.schema;
      expect(tables1).toEqual(tables0);
      const added = db1!.split('\n').filter((l) => !db0!.split('\n').includes(l));
      expect(added.length).toBeGreaterThan(0);
      for (const l of added) expect(l).toMatch(/^(extension unaccent|function (bt_fold|unaccent\w*)\()/);
    } else {
      expect(after.schema).toEqual(original.schema);
    }
    for (const t of SEED_TABLES.filter((x) => x !== 'revoked_tokens')) expect(after.data[t], t).toBe(before.data[t]);
    expect(await tokens()).toEqual(tokensBefore);
    expect(tokensBefore.length).toBeGreaterThan(1);
    expect((await cli(['accounts', 'list'])).code).toBe(5); // un-adopted again
    await app.register('user', 'apres@example.fr', 'motdepasse-apres', { first_name: 'A', last_name: 'B', phone_number: '0622222222' });
  });
});

describe.each(testedKinds())('adoption refused or partial on %s', (kind) => {
  it('refuses (exit 4, the list, nothing changed) when a required column is missing or of an incompatible type', async () => {
    const { db, seq } = await platformDb(kind, false);
    try {
      await db.knex.raw('ALTER TABLE comptes DROP COLUMN failed_logins');
      if (kind === 'mysql') await db.knex.raw('ALTER TABLE colis MODIFY weight DOUBLE NOT NULL');
      if (kind === 'postgres') await db.knex.raw('ALTER TABLE colis ALTER COLUMN weight TYPE double precision');
      const before = await snapshotTables(db.knex, kind);
      const r = await run(['db', 'adopt', '--yes'], { url: db.url, cwd: db.dir });
      expect(r.code).toBe(4);
      expect(r.stdout).toMatch(/^ {2}MISSING\s+failed_logins\s+\(expected integer, not null, default 0\) {2}— required by the seed$/m);
      expect(r.stdout).toMatch(/adoption refused: \d+ blocking difference\(s\):/);
      expect(r.stderr).toMatch(/^error: cannot adopt .*column comptes\.failed_logins is missing.*Nothing was changed$/m);
      if (kind !== 'sqlite') expect(r.stderr).toMatch(/column colis\.weight: money and weights are exact DECIMALs/);
      expect(await snapshotTables(db.knex, kind)).toEqual(before);
      expect(existsSync(path.join(db.dir, 'backups'))).toBe(false);
    } finally {
      await seq?.close();
      await db.drop();
    }
  });

  it('lists the rows that break a CHECK (or a UNIQUE) and skips only that one; undo restores the original', async () => {
    const { db, seq } = await platformDb(kind);
    try {
      const t = (await db.knex('trajets').first('id', 'transporteur_id', 'departure_time', 'created_at')) as { id: number; transporteur_id: number; departure_time: string; created_at: string };
      const bad = await insertId(db.knex('trajets').insert({
        departure_city: 'Nantes', arrival_city: 'Angers', departure_time: t.departure_time, price: '5.00', seats_count: 60, available_seats: 60, transporteur_id: t.transporteur_id, created_at: t.created_at, updated_at: t.created_at,
      }));
      const u = (await db.knex('utilisateurs').first('*')) as Record<string, unknown>;
      delete u.id;
      const twin = await insertId(db.knex('utilisateurs').insert(u));
      const original = await snapshotTables(db.knex, kind);

      const dry = await runJson<{ warnings: string[]; tables: Array<{ name: string; checks: Array<{ name: string; action: string; violations: { count: number; ids: number[] } | null }>; indexes: Array<{ name: string; action: string }> }> }>(
        ['db', 'adopt', '--dry-run'],
        { url: db.url, cwd: db.dir },
      );
      expect(dry.code).toBe(0);
      const trajets = dry.data.tables.find((x) => x.name === 'trajets')!;
      expect(trajets.checks.find((c) => c.name === 'trajets_seats_count_check')).toMatchObject({ action: 'skip', violations: { count: 1, ids: [bad] } });
      expect(trajets.checks.find((c) => c.name === 'trajets_price_check')).toMatchObject({ action: 'add' });
      expect(dry.data.tables.find((x) => x.name === 'utilisateurs')!.indexes.find((i) => i.name === 'utilisateurs_compte_id_unique')).toMatchObject({ action: 'skip' });

      // A restore running meanwhile (its lock held): adoption waits for nobody and changes nothing.
      const lock = await acquireRestoreLock(db.target);
      try {
        const busy = await run(['db', 'adopt', '--yes'], { url: db.url, cwd: db.dir });
        expect(busy.code).toBe(4);
        expect(busy.stderr).toMatch(/is running/);
      } finally {
        await lock.release();
      }
      expect(await snapshotTables(db.knex, kind)).toEqual(original);

      const r = await run(['db', 'adopt', '--yes'], { url: db.url, cwd: db.dir });
      expect(r.code, r.stderr).toBe(0);
      const q = kind === 'postgres' ? '"' : '`';
      expect(r.stderr).toContain(`warning: trajets: CHECK trajets_seats_count_check (${q}seats_count${q} between 1 and 50) not added: 1 row(s) break it: ids ${bad}`);
      expect(r.stderr).toMatch(new RegExp(`warning: utilisateurs: UNIQUE \\(compte_id\\) not added: 2 rows share their \\(compte_id\\): ids \\d+, ${twin}`));
      const schema = (await snapshotTables(db.knex, kind, ['trajets'])).schema.trajets!;
      expect(schema).toContain('trajets_price_check');
      expect(schema).not.toContain('trajets_seats_count_check');
      // The rows are untouched; billettigue reports them.
      expect((await run(['maintenance', 'check', '--rule', 'check_trajets'], { url: db.url })).code).toBe(6);

      const undo = await run(['db', 'adopt', '--undo', '--yes'], { url: db.url, cwd: db.dir });
      expect(undo.code, undo.stderr).toBe(0);
      expect(await snapshotTables(db.knex, kind)).toEqual(original);
      if (kind === 'sqlite') expect(await rawRows(db.knex, 'PRAGMA foreign_key_check')).toEqual([]);
    } finally {
      await seq?.close();
      await db.drop();
    }
  });
});

describe.each(testedKinds().filter((k) => k === 'sqlite'))('day one on %s (the DDL Sequelize writes there)', (kind) => {
  let db: TestDb;
  let original: Awaited<ReturnType<typeof snapshotTables>>;
  beforeAll(async () => {
    ({ db } = await platformDb(kind));
    original = await snapshotTables(db.knex, kind);
  });
  afterAll(async () => db?.drop());

  it('adopts (tables it references rebuilt with their CHECKs, foreign keys intact), works, and undoes exactly', async () => {
    const cli = (args: string[], input?: string) => run(args, { url: db.url, input, cwd: db.dir });
    expect((await cli(['accounts', 'list'])).code).toBe(5);
    expect((await cli(['db', 'adopt', '--dry-run'])).code).toBe(0);
    expect(await snapshotTables(db.knex, kind)).toEqual(original);
    const r = await cli(['db', 'adopt', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(await rawRows(db.knex, 'PRAGMA foreign_key_check')).toEqual([]);
    const comptes = (await snapshotTables(db.knex, kind, ['comptes'])).schema.comptes!;
    expect(comptes).toContain('constraint "comptes_status_check" check');
    expect(comptes).not.toContain('__bt_rebuild');
    const children = await rawRows<{ sql: string }>(db.knex, "SELECT sql FROM sqlite_master WHERE name IN ('utilisateurs', 'reservations', 'revoked_tokens')");
    for (const c of children) expect(c.sql).toContain('REFERENCES `comptes`');
    for (const t of SEED_TABLES) expect((await snapshotTables(db.knex, kind, [t])).data[t], t).toBe(original.data[t]);
    for (const args of [['doctor'], ['accounts', 'list'], ['trajets', 'show', '1'], ['colis', 'list'], ['maintenance', 'check'], ['db', 'status']]) {
      const x = await cli(args);
      expect(x.code, `${args.join(' ')}: ${x.stderr}`).toBe(0);
    }
    const token = (await db.knex('revoked_tokens').first('token')) as { token: string };
    expect((await cli(['tokens', 'check'], token.token)).code).toBe(0);
    // A cascade still cascades, a CHECK now holds.
    await expect(db.knex('colis').where('id', 1).update({ weight: -1 })).rejects.toThrow();
    const u = await cli(['db', 'adopt', '--undo', '--yes']);
    expect(u.code, u.stderr).toBe(0);
    expect(await snapshotTables(db.knex, kind)).toEqual(original);
  });
});

describe.each(testedKinds().filter((k) => k === 'postgres'))("the app's enumerated types on %s", (kind) => {
  it('a label billettigue does not allow brings the CHECK (compared as text); a value the type lacks is a warning; undo is exact', async () => {
    const { db, seq } = await platformDb(kind);
    try {
      // The app renamed a status: its type now has 'archived' and lacks 'deleted'.
      await db.knex.raw("ALTER TYPE enum_comptes_status RENAME VALUE 'deleted' TO 'archived'");
      const original = await snapshotTables(db.knex, kind);
      const dry = await runJson<{ warnings: string[]; tables: Array<{ name: string; columns: Array<{ name: string; notes: string[] }>; checks: Array<{ name: string; predicate: string; action: string }> }> }>(
        ['db', 'adopt', '--dry-run'],
        { url: db.url, cwd: db.dir },
      );
      expect(dry.code).toBe(0);
      const comptes = dry.data.tables.find((t) => t.name === 'comptes')!;
      expect(comptes.columns.find((c) => c.name === 'status')!.notes).toContain("the type lacks deleted: billettigue's commands that set it fail until the app's type has it");
      expect(comptes.checks.find((c) => c.name === 'comptes_status_check')).toMatchObject({ action: 'add', predicate: `"status"::text in ('active', 'inactive', 'suspended', 'deleted')` });
      // The other statuses keep their type as the rule.
      expect(dry.data.tables.find((t) => t.name === 'trajets')!.checks.find((c) => c.name === 'trajets_status_check')).toMatchObject({ action: 'none' });
      expect(await snapshotTables(db.knex, kind)).toEqual(original);

      const r = await run(['db', 'adopt', '--yes'], { url: db.url, cwd: db.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain("warning: comptes.status: the type lacks deleted: billettigue's commands that set it fail until the app's type has it");
      await expect(db.knex('comptes').where('email', 'admin@example.fr').update({ status: 'archived' })).rejects.toThrow(/comptes_status_check/);
      expect((await run(['accounts', 'suspend', 'lea.martin@example.fr', '--yes'], { url: db.url })).code).toBe(0);
      const del = await run(['accounts', 'delete', 'lea.martin@example.fr', '--yes'], { url: db.url });
      // Refused by the app's type, said in one line (exit 2, like a CHECK), the account unchanged.
      expect(del.code).toBe(2);
      expect(del.stderr).toMatch(/^error: .*the column's type refuses this value \(invalid input value for enum enum_comptes_status: "deleted"\): an enumerated type of the platform app lacks it/m);
      expect((await db.knex('comptes').where('email', 'lea.martin@example.fr').first('status')).status).toBe('suspended');
      expect((await run(['accounts', 'activate', 'lea.martin@example.fr'], { url: db.url })).code).toBe(0);

      const undo = await run(['db', 'adopt', '--undo', '--yes'], { url: db.url, cwd: db.dir });
      expect(undo.code, undo.stderr).toBe(0);
      expect((await snapshotTables(db.knex, kind)).schema).toEqual(original.schema);
    } finally {
      await seq?.close();
      await db.drop();
    }
  });
});

describe.each(testedKinds().filter((k) => k === 'postgres'))('a long transaction of the app during adoption on %s', (kind) => {
  it('a change that waits more than the lock timeout fails (exit 4) and what was done is undone', async () => {
    const { db, seq } = await platformDb(kind);
    try {
      const original = await snapshotTables(db.knex, kind);
      // The app has written a colis in a transaction still open: CREATE INDEX and ALTER TABLE on colis must wait.
      const app = await db.knex.transaction();
      await app.raw("UPDATE colis SET dimensions = '10x10x10' WHERE id = (SELECT min(id) FROM colis)");
      const started = Date.now();
      let r;
      try {
        r = await run(['db', 'adopt', '--yes'], { url: db.url, cwd: db.dir, timeoutMs: 120_000 });
      } finally {
        await app.rollback();
      }
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(/^error: adoption waited too long for a lock on colis \(index colis_envoi_status_index on colis .*\): a transaction of the platform app holds it\. What adoption had done is undone/m);
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(await snapshotTables(db.knex, kind)).toEqual(original);
    } finally {
      await seq?.close();
      await db.drop();
    }
  }, 180_000);
});
