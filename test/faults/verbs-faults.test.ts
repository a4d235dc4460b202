/**
 * A mutating verb whose database connection dies in the middle of its transaction (server restart,
 * a DBA's KILL, a network cut): the server rolls the transaction back, so the verb must say the
 * connection was lost and the change was not made, exit 5, and leave every table exactly as it was.
 * The fault is injected without a proxy: the verb is paused inside its transaction, just before
 * COMMIT (BILLETTIGUE_TEST_PAUSE_AT=mutate:commit), the test ends that session on the server
 * (MariaDB KILL, PostgreSQL pg_terminate_backend), then lets the verb go on.
 * SQLite has no connection to lose: an embedded file, nothing between the process and its data.
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbKind } from '../../src/db/config.js';
import { createTrajet } from '../../src/domain/trajets.js';
import { createReservation } from '../../src/domain/reservations.js';
import { start } from '../backup-fixtures.js';
import { makeTransporteur, makeUtilisateur } from '../envois-fixtures.js';
import { hoursFromNow } from '../helpers/bookings.js';
import { run } from '../helpers/cli.js';
import { isConnectionLost, lostConnection, translateDbError } from '../../src/db/errors.js';
import { dateFlags, type VerbSpec } from './support/commands.js';
import { IMPOSSIBLE_DATES } from './support/fuzz-values.js';
import { createTestDb, tableChecksums, testedKinds, withServer, type TestDb } from '../helpers/db.js';

/** Ends, on the server, the one session of `database` that has a transaction open; returns how many it ended. */
async function killOpenTransaction(kind: DbKind, database: string): Promise<number> {
  return withServer(kind, async (admin) => {
    if (kind === 'mysql') {
      const [rows] = (await admin.raw(
        'SELECT p.id AS id FROM information_schema.innodb_trx t JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE p.db = ?',
        [database],
      )) as [Array<{ id: number }>];
      for (const r of rows) await admin.raw(`KILL ${Number(r.id)}`);
      return rows.length;
    }
    const r = (await admin.raw(
      "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = ? AND state LIKE 'idle in transaction%'",
      [database],
    )) as { rows: Array<{ ended: boolean }> };
    return r.rows.filter((x) => x.ended).length;
  });
}

const serverKinds = testedKinds().filter((k) => k !== 'sqlite');

describe.each(serverKinds)('connection lost mid-transaction on %s', (kind) => {
  let db: TestDb;
  let trajetToBook: number;
  let trajetToCancel: number;
  let sender: string;
  let carrier: string;
  const database = () => (db.target.kind === 'sqlite' ? '' : db.target.database);

  beforeAll(async () => {
    db = await createTestDb(kind);
    const c = await makeTransporteur(db.knex, { companyType: 'mixte' });
    const u = await makeUtilisateur(db.knex);
    sender = u.email;
    carrier = c.email;
    await db.knex.transaction(async (trx) => {
      const mk = async () => (await createTrajet(trx, { transporteur: c.compteId, from: 'Paris', to: 'Lyon', departure: hoursFromNow(48), priceCents: 1990, seats: 4 })).id;
      trajetToBook = await mk();
      trajetToCancel = await mk();
      await createReservation(trx, { trajetId: trajetToCancel, firstName: 'Paul', lastName: 'Durand', phone: '0611111111', seats: 2 }, { refundRateBp: 1000 });
    });
  });
  afterAll(async () => db?.drop());

  const verbs: Array<[string, () => string[]]> = [
    ['reservations create', () => ['reservations', 'create', '--trajet', String(trajetToBook), '--first-name', 'Ana', '--last-name', 'Lopes', '--phone', '0612345678']],
    ['trajets cancel', () => ['trajets', 'cancel', String(trajetToCancel), '--reason', 'storm', '--yes']],
    ['accounts create', () => ['accounts', 'create', '--role', 'user', '--email', 'lost.conn@example.fr', '--first-name', 'Lea', '--last-name', 'Roux', '--phone', '0699887766', '--generate-password']],
    ['envois create', () => ['envois', 'create', '--expediteur', sender, '--transporteur', carrier, '--description', 'books', '--recipient-name', 'Marc', '--recipient-phone', '0655443322', '--colis', 'box:2.5']],
  ];

  it.each(verbs)('%s: exit 5, one line, database unchanged, and the same command then succeeds', async (_name, args) => {
    const before = await tableChecksums(db.knex);
    const resume = path.join(db.dir, `resume-${Date.now()}`);
    const p = start(args(), { url: db.url, env: { BILLETTIGUE_TEST_PAUSE_AT: 'mutate:commit', BILLETTIGUE_TEST_RESUME_FILE: resume, BILLETTIGUE_BCRYPT_COST: '4' } });
    await p.waitFor(/billettigue-paused mutate:commit/);
    expect(await killOpenTransaction(kind, database())).toBe(1);
    writeFileSync(resume, '');
    const { code } = await p.exited;
    const errors = p.stderr().split('\n').filter((l) => l.startsWith('error:'));
    expect(errors, p.stderr()).toHaveLength(1);
    expect(errors[0]).toMatch(/connection to the database was lost/);
    expect(errors[0]).toMatch(/not made/);
    expect(p.stderr()).not.toMatch(/^\s+at /m);
    expect(p.stdout()).toBe('');
    expect(code).toBe(5);
    expect(await tableChecksums(db.knex)).toEqual(before);

    const again = await run(args(), { url: db.url });
    expect(again.code, again.stderr).toBe(0);
    expect(await tableChecksums(db.knex)).not.toEqual(before);
  });
});

describe('what a lost connection means for the change', () => {
  // Driver errors as mysql2 and node-postgres build them (no database can be made to lose a
  // connection at exactly the instant COMMIT is on the wire, so these shapes stand in for it).
  const inFlight = Object.assign(new Error('COMMIT; - Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true });
  const unsent = Object.assign(new Error("COMMIT; - Can't add new command when connection is in closed state"), { fatal: true });
  const pgTerminated = new Error('COMMIT; - Connection terminated unexpectedly');
  const pgAdmin = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' });

  it.each([
    ['a lost COMMIT (mysql2)', inFlight, true, /may or may not have been saved/],
    ['a lost COMMIT (node-postgres)', pgTerminated, true, /may or may not have been saved/],
    ['a COMMIT never sent', unsent, true, /the change was not made/],
    ['a statement before COMMIT', inFlight, false, /the change was not made/],
    ['a session ended by the server', pgAdmin, false, /the change was not made/],
  ])('%s', (_name, err, duringCommit, said) => {
    expect(isConnectionLost(err)).toBe(true);
    const e = lostConnection(err, { inTransaction: true, duringCommit });
    expect(e.exitCode).toBe(5);
    expect(e.message).toMatch(said);
    expect(e.message).not.toMatch(/COMMIT;/);
  });

  it('outside a transaction it claims nothing about a change', () => {
    const e = translateDbError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })) as Error;
    expect(e.message).toMatch(/^the connection to the database was lost \(read ECONNRESET\): check that the database server is up/);
  });
});

/**
 * Impossible dates (2026-02-30 read as 2026-03-02 by JavaScript's Date) in every flag that takes a
 * date, found by walking the command tree: exit 2, one line naming the flag and the value,
 * nothing changed. Parsing does not depend on the engine: SQLite runs every date; MariaDB and
 * PostgreSQL one date per flag (the flags that reach the database before parsing would show there).
 */
describe.each(testedKinds())('impossible dates in every date flag on %s', (kind) => {
  let db: TestDb;
  let carrier: string;
  let trajet: number;
  beforeAll(async () => {
    db = await createTestDb(kind);
    const c = await makeTransporteur(db.knex, { companyType: 'mixte' });
    carrier = c.email;
    trajet = (await createTrajet(db.knex, { transporteur: c.compteId, from: 'Paris', to: 'Lyon', departure: hoursFromNow(48), priceCents: 1990, seats: 4 })).id;
  });
  afterAll(async () => db?.drop());

  /** What the other mandatory flags and the arguments of a verb need so that the date is reached. */
  const others = (verb: VerbSpec, flag: string): string[] => {
    const valid: Record<string, string> = { '--transporteur': carrier, '--from': 'Paris', '--to': 'Lyon', '--departure': '2027-01-10T08:00:00Z', '--price': '12.50', '--seats': '3' };
    const args = verb.args.filter((a) => a.required).map(() => String(trajet));
    const flags = verb.flags.filter((f) => f.mandatory && f.long !== flag).flatMap((f) => [f.long, valid[f.long] ?? 'x']);
    return [...args, ...flags];
  };

  it('finds the date flags of the issue, and more', async () => {
    const names = (await dateFlags()).map(({ verb, flag }) => `${verb.name} ${flag.long}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'tokens purge --expired-before',
        'maintenance archive --older-than',
        'seed demo --now',
        'accounts list --created-since',
        'envois list --since',
        'audit list --since',
        'trajets create --departure',
        'trajets list --between',
      ]),
    );
  });

  it('every date flag refuses every impossible date: exit 2, one line, nothing changed', async () => {
    const before = await tableChecksums(db.knex);
    const dates = kind === 'sqlite' ? IMPOSSIBLE_DATES : IMPOSSIBLE_DATES.slice(0, 1);
    const cases = (await dateFlags()).flatMap(({ verb, flag }) =>
      dates.map((date) => {
        const value = flag.variadic ? [date, '2027-01-01'] : [date];
        return { label: `${verb.name} ${flag.long} ${date}`, date, flag: flag.long, args: [...verb.path, ...others(verb, flag.long), flag.long, ...value, '--yes'] };
      }),
    );
    const failures: string[] = [];
    for (let i = 0; i < cases.length; i += 8) {
      await Promise.all(
        cases.slice(i, i + 8).map(async (c) => {
          const r = await run(c.args, { url: db.url });
          const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
          const ok = r.code === 2 && errors.length === 1 && errors[0]!.includes(c.flag) && errors[0]!.includes(c.date) && !/^\s+at /m.test(r.stderr);
          if (!ok) failures.push(`${c.label}: exit ${r.code}, ${r.stderr.trim()}`);
        }),
      );
    }
    expect(failures).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(dates.length * 10);
    expect(await tableChecksums(db.knex)).toEqual(before);
  });
});
