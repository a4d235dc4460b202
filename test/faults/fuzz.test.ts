/**
 * Hostile values in every mutating verb, found by walking the command tree (a verb takes --dry-run
 * when it mutates): each flag's value and each argument in turn gets values picked for its kind
 * (test/faults/support/fuzz-values.ts: empty, 10 KB, emoji/RTL/combining accents, SQL injection,
 * NaN, 1e309, -1, 0, a 19-digit id, comma and 3-decimal money, an impossible date), every other
 * slot keeping a valid value (the verb's baseline, which must itself succeed, so that the hostile
 * value is what the verb meets). Every case runs with --dry-run, so the database must come out
 * identical whatever the verb decided; one that exits 0 must be a value its slot may take.
 * Each case asserts: an exit code of 0 (allowed values only), 2, 3 or 4 — never 1 or a crash —,
 * exactly one `error:` line and no stack trace when refused, no password hash or secret printed.
 * SQLite runs the whole matrix; MariaDB and PostgreSQL a quarter of it plus every 10 KB value
 * (their column limits differ). A second part runs accepted text for real and reads it back:
 * stored exactly as typed, or refused.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { jwt } from '../accounts-fixtures.js';
import { makeTransporteur, makeUtilisateur } from '../envois-fixtures.js';
import { run } from '../helpers/cli.js';
import { createTestDb, tableChecksums, testedKinds, type TestDb } from '../helpers/db.js';
import { commandTree, type VerbSpec } from './support/commands.js';
import { COMBINING, EMOJI, LONG, MAY_ACCEPT, NUL_TEXT, RTL, SQLI, VALUES, slotType, type Hostile, type SlotType } from './support/fuzz-values.js';

const BATCH = 8;
/**
 * BATCH dry runs write at once: on SQLite (one writer at a time) more of them than the default five
 * conflict retries allow would wait their turn; the retry count is the documented knob for that.
 */
const RUN_ENV = { BILLETTIGUE_CONFLICT_RETRIES: '200' };

/** Mutating verbs left out, and why (every other one, present or future, must have a baseline). */
const NOT_FUZZED: Record<string, string> = {
  'db adopt': 'acts only on a database billettigue did not build (exit 4 here); its one value flag, --dir, is the one db reset and db rollback take',
};

async function firstId(knex: Knex, table: string, where: (qb: Knex.QueryBuilder) => Knex.QueryBuilder = (qb) => qb): Promise<number> {
  const row = (await where(knex(table).select('id')).orderBy('id').first()) as { id: number } | undefined;
  if (!row) throw new Error(`fixture: no ${table} row for a baseline`);
  return Number(row.id);
}

async function emailOf(knex: Knex, compteId: number): Promise<string> {
  return ((await knex('comptes').where({ id: compteId }).first('email')) as { email: string }).email;
}

/** Every file and folder under `dir` (SQLite's -wal/-shm come and go with connections: not counted). */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => !/-(wal|shm|journal)$/.test(f)).sort();
}

/** A valid invocation of every mutating verb on the demo data (args after the verb's path). */
async function baselines(db: TestDb): Promise<Record<string, string[]>> {
  const k = db.knex;
  const users = k('comptes').join('utilisateurs', 'utilisateurs.compte_id', 'comptes.id').where('comptes.status', 'active').where('account_locked', false).select('comptes.id', 'comptes.email').orderBy('comptes.id');
  const [u1, u2, u3, u4, u5, u6, u7] = (await users) as Array<{ id: number; email: string }>;
  const locked = await emailOf(k, await firstId(k, 'comptes', (qb) => qb.where({ account_locked: true })));
  const suspended = await emailOf(k, await firstId(k, 'comptes', (qb) => qb.where({ status: 'suspended' })));
  const unverified = await emailOf(k, await firstId(k, 'comptes', (qb) => qb.where({ email_verified: false, status: 'active' })));
  const verified = await emailOf(k, await firstId(k, 'comptes', (qb) => qb.where({ email_verified: true, status: 'active' })));
  const carrierRow = (await k('transporteurs').join('comptes', 'comptes.id', 'transporteurs.compte_id').where('comptes.status', 'active').where('company_type', 'mixte').first('transporteurs.id', 'comptes.email')) as { id: number; email: string };
  const future = (qb: Knex.QueryBuilder) => qb.where('status', 'active').where('available_seats', '>', 1).where('departure_time', '>', new Date(Date.now() + 86_400_000).toISOString().slice(0, 19).replace('T', ' '));
  const active = await firstId(k, 'trajets', future);
  const activeOther = (await future(k('trajets').select('id')).orderBy('id', 'desc').first()) as { id: number };
  const departed = await firstId(k, 'trajets', (qb) => qb.where({ status: 'active' }).where('departure_time', '<', new Date().toISOString().slice(0, 19).replace('T', ' ')));
  const suspendedTrajet = await firstId(k, 'trajets', (qb) => qb.where({ status: 'suspended' }));
  const pending = await firstId(k, 'reservations', (qb) => qb.where({ status: 'pending' }));
  const confirmed = await firstId(k, 'reservations', (qb) => qb.where({ status: 'confirmed' }));
  const refundable = await firstId(k, 'reservations', (qb) => qb.where({ status: 'confirmed', refundable_option: true }));
  const envoiPending = await firstId(k, 'envois', (qb) => qb.where({ status: 'pending' }));
  const envoiAccepted = await firstId(k, 'envois', (qb) => qb.where({ status: 'accepted' }));
  const envoiTransit = await firstId(k, 'envois', (qb) => qb.where({ status: 'in_transit' }));
  const colisPending = await firstId(k, 'colis', (qb) => qb.whereIn('envoi_id', k('envois').select('id').where({ status: 'pending' })));
  const colisShipped = await firstId(k, 'colis', (qb) => qb.where({ status: 'shipped' }));
  const zone = await firstId(k, 'zones_desservies');
  const archived = await firstId(k, 'reservations_archive');
  const customRole = 'fuzz-support';
  const tokenFile = path.join(db.dir, 'token.jwt');
  writeFileSync(tokenFile, jwt({ sub: String(u1!.id), exp: Math.floor(Date.now() / 1000) + 86_400, jti: 'fuzz' }));
  const backupDir = path.join(db.dir, 'backups');
  const backupFile = readdirSync(backupDir).find((f) => f.endsWith('.gz'))!;
  const person = ['--first-name', 'Ana', '--last-name', 'Lopes', '--phone', '0612345678'];
  return {
    'accounts create': ['--role', 'user', '--email', 'fuzz.new@example.fr', ...person, '--generate-password', '--reason', 'fuzz'],
    'accounts lock': [u1!.email, '--reason', 'fuzz'],
    'accounts unlock': [locked, '--reason', 'fuzz'],
    'accounts suspend': [u2!.email, '--reason', 'fuzz'],
    'accounts activate': [suspended, '--reason', 'fuzz'],
    'accounts deactivate': [u3!.email, '--reason', 'fuzz'],
    'accounts delete': [u4!.email, '--reason', 'fuzz'],
    'accounts reset-password': [u5!.email, '--generate-password', '--reason', 'fuzz'],
    'accounts verify': [unverified, '--email', '--reason', 'fuzz'],
    'accounts unverify': [verified, '--email', '--reason', 'fuzz'],
    'accounts set-role': [u6!.email, 'transporteur', '--company-name', 'Cars Fuzz', '--company-type', 'mixte', '--phone', '0612345678', '--reason', 'fuzz'],
    'roles create': ['fuzz-new', '--description', 'a role'],
    'roles update': [customRole, '--name', 'fuzz-renamed', '--description', 'a role'],
    'roles delete': [customRole],
    'tokens revoke': ['--token-file', tokenFile, '--reason', 'fuzz'],
    'tokens purge': ['--expired-before', '2026-01-01'],
    'trajets create': ['--transporteur', carrierRow.email, '--from', 'Paris', '--to', 'Lyon', '--departure', '2027-03-01T08:00:00Z', '--price', '12.50', '--seats', '3', '--max-package-weight', '10', '--departure-point', 'Gare', '--arrival-point', 'Part-Dieu', '--reason', 'fuzz'],
    'trajets update': [String(active), '--departure', '2027-03-02T08:00:00Z', '--price', '13.00', '--seats', '40', '--departure-point', 'Gare', '--arrival-point', 'Centre', '--max-package-weight', '5', '--reason', 'fuzz'],
    'trajets suspend': [String(active), '--reason', 'fuzz'],
    'trajets resume': [String(suspendedTrajet), '--reason', 'fuzz'],
    'trajets complete': [String(departed), '--reason', 'fuzz'],
    'trajets cancel': [String(activeOther.id), '--reason', 'fuzz'],
    'reservations create': ['--trajet', String(active), ...person, '--seats', '1', '--account', u7!.email, '--reason', 'fuzz'],
    'reservations confirm': [String(pending), '--reason', 'fuzz'],
    'reservations cancel': [String(confirmed), '--reason', 'fuzz'],
    'reservations refund': [String(refundable), '--reason', 'fuzz'],
    'reservations complete': [String(confirmed), '--reason', 'fuzz'],
    'envois create': ['--expediteur', u1!.email, '--transporteur', carrierRow.email, '--description', 'books', '--recipient-name', 'Marc', '--recipient-phone', '0655443322', '--colis', 'box:2.5:30x20x10', '--reason', 'fuzz'],
    'envois accept': [String(envoiPending), '--reason', 'fuzz'],
    'envois ship': [String(envoiAccepted), '--reason', 'fuzz'],
    'envois deliver': [String(envoiTransit), '--reason', 'fuzz'],
    'envois cancel': [String(envoiPending), '--reason', 'fuzz'],
    'colis mark-lost': [String(colisShipped), '--reason', 'fuzz'],
    'colis update': [String(colisPending), '--weight', '2.5', '--dimensions', '30x20x10', '--description', 'box', '--reason', 'fuzz'],
    'zones create': ['--transporteur', carrierRow.email, '--city', 'Fuzzville', '--region', 'Centre', '--type', 'both', '--frequency', 'weekly', '--max-weight', '20', '--reason', 'fuzz'],
    'zones update': [String(zone), '--city', 'Fuzzbourg', '--region', 'Ouest', '--type', 'both', '--frequency', 'daily', '--max-weight', '15', '--reason', 'fuzz'],
    'zones delete': [String(zone), '--reason', 'fuzz'],
    'db migrate': [],
    'db rollback': ['--step', '1', '--dir', backupDir],
    'db seed': ['--admin-email', 'fuzz.admin@example.fr', '--admin-first-name', 'Ada', '--admin-last-name', 'Min', '--generate-password'],
    'db reset': ['--dir', backupDir],
    'seed demo': ['--scale', 'tiny', '--accounts', '5', '--transporteurs', '2', '--trajets', '3', '--reservations', '3', '--envois', '2', '--random-seed', 'fuzz', '--now', '2026-11-25', '--fresh'],
    'backup clean': ['--dir', backupDir],
    'backup prune': ['--keep', '5', '--keep-safety', '5', '--dir', backupDir],
    restore: [path.join(backupDir, backupFile), '--dir', backupDir, '--jobs', '1'],
    'maintenance purge-tokens': ['--batch-size', '100'],
    'maintenance archive': ['--older-than', '400d', '--batch-size', '100'],
    'maintenance archive restore': ['--id', `reservation:${archived}`, '--reason', 'fuzz'],
  };
}

interface Case {
  label: string;
  args: string[];
  type: SlotType;
  hostile: Hostile;
}

/**
 * Cases for one verb: each argument and each flag's value replaced in the baseline by hostile
 * values of its kind. To keep the matrix to a couple of hundred processes a slot takes one value,
 * rotating through its kind's list so that every value meets several slots across the tree; the
 * few date slots take every date value.
 */
const perSlot = (type: SlotType) => (type === 'date' ? VALUES.date.length : 1);

function casesFor(verb: VerbSpec, base: string[], turn: Map<SlotType, number>): Case[] {
  const out: Case[] = [];
  const pick = (type: SlotType, n: number): Hostile[] => {
    const list = VALUES[type];
    const start = turn.get(type) ?? 0;
    turn.set(type, start + n);
    return Array.from({ length: Math.min(n, list.length) }, (_, i) => list[(start + i) % list.length]!);
  };
  const valueFlag = (a: string | undefined) => verb.flags.find((f) => f.long === a)?.placeholder !== undefined;
  const positional = base.map((a, i) => ({ a, i })).filter(({ a, i }) => !a.startsWith('--') && !valueFlag(base[i - 1]));
  verb.args.forEach((arg, n) => {
    const at = positional[n]?.i;
    if (at === undefined) return;
    const type = slotType(arg.name);
    for (const hostile of pick(type, perSlot(type))) {
      const args = [...base];
      args[at] = hostile.value;
      out.push({ label: `${verb.name} <${arg.name}> = ${hostile.name}`, args: [...verb.path, ...args], type, hostile });
    }
  });
  for (const flag of verb.flags) {
    if (!flag.placeholder) continue;
    const type = slotType(flag.placeholder);
    const at = base.indexOf(flag.long);
    for (const hostile of pick(type, perSlot(type))) {
      const args = at >= 0 ? [...base.slice(0, at), flag.long, hostile.value, ...base.slice(at + 2)] : [...base, flag.long, hostile.value];
      out.push({ label: `${verb.name} ${flag.long} = ${hostile.name}`, args: [...verb.path, ...args], type, hostile });
    }
  }
  return out;
}

/** What every refused or accepted case must look like on the outside. */
function verdict(c: Case, r: { code: number | null; stdout: string; stderr: string }): string | null {
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
  const out = `${r.stdout}\n${r.stderr}`;
  if (/\$2[aby]\$\d\d\$/.test(out)) return 'a password hash was printed';
  if (/^\s+at .+:\d+:\d+\)?$/m.test(r.stderr)) return 'a stack trace was printed';
  if (r.code === 0) return MAY_ACCEPT[c.type].has(c.hostile) ? null : 'accepted (exit 0) a value its slot must refuse';
  if (![2, 3, 4].includes(r.code ?? -1)) return `exit ${r.code}`;
  if (errors.length !== 1) return `${errors.length} error lines`;
  return null;
}

describe.each(testedKinds())('fuzzing every mutating verb on %s', (kind) => {
  let db: TestDb;
  let base: Record<string, string[]>;
  let verbs: VerbSpec[];

  beforeAll(async () => {
    db = await createTestDb(kind);
    const cli = async (args: string[]) => {
      const r = await run(args, { url: db.url, timeoutMs: 120_000, env: RUN_ENV, cwd: db.dir });
      if (r.code !== 0) throw new Error(`fixture ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    };
    await cli(['seed', 'demo', '--scale', 'tiny', '--now', 'today', '--yes', '-q']);
    await cli(['maintenance', 'archive', '--older-than', '30d', '--yes', '-q']);
    await cli(['roles', 'create', 'fuzz-support', '-q']);
    await cli(['backup', 'create', '--dir', path.join(db.dir, 'backups'), '-q']);
    const someone = await firstId(db.knex, 'comptes', (qb) => qb.where({ status: 'active', account_locked: false }).whereNotNull('id').orderBy('id', 'desc'));
    await db.knex('comptes').where({ id: someone }).update({ account_locked: true });
    // An active trajet already gone (trajets complete); the demo completed all of those.
    const mid = (await db.knex('trajets').where({ status: 'active' }).orderBy('id').select('id'))[2] as { id: number };
    await db.knex('trajets').where({ id: mid.id }).update({ departure_time: '2026-01-01 08:00:00' });
    // The demo has no pending or accepted envoi (its clock is past them): two, one accepted.
    const sender = (await db.knex('comptes').join('utilisateurs', 'utilisateurs.compte_id', 'comptes.id').where({ status: 'active', account_locked: false }).first('email')) as { email: string };
    const carrier = (await db.knex('transporteurs').join('comptes', 'comptes.id', 'transporteurs.compte_id').where('comptes.status', 'active').where('company_type', 'mixte').first('email')) as { email: string };
    for (let i = 0; i < 2; i++) {
      await cli(['envois', 'create', '--expediteur', sender.email, '--transporteur', carrier.email, '--description', 'books', '--recipient-name', 'Marc', '--recipient-phone', '0655443322', '--colis', 'box:2', '-q']);
    }
    await cli(['envois', 'accept', String(await firstId(db.knex, 'envois', (qb) => qb.where({ status: 'pending' }).orderBy('id', 'desc'))), '-q']);
    base = await baselines(db);
    verbs = (await commandTree()).filter((v) => v.mutating && !NOT_FUZZED[v.name]);
  }, 300_000);
  afterAll(async () => db?.drop());

  it('every mutating verb has a baseline, and each baseline succeeds (dry run)', async () => {
    expect(verbs.map((v) => v.name).filter((n) => !base[n])).toEqual([]);
    const failures: string[] = [];
    for (let i = 0; i < verbs.length; i += BATCH) {
      await Promise.all(
        verbs.slice(i, i + BATCH).map(async (v) => {
          const r = await run([...v.path, ...base[v.name]!, '--dry-run', '--yes'], { url: db.url, env: RUN_ENV, cwd: db.dir });
          if (r.code !== 0) failures.push(`${v.name}: exit ${r.code}: ${r.stderr.trim()}`);
        }),
      );
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('hostile values: exit 0/2/3/4 as allowed, one error line, no secret, database unchanged', async () => {
    const turn = new Map<SlotType, number>();
    const all = verbs.flatMap((v) => casesFor(v, base[v.name]!, turn));
    // Every hostile value of every kind meets at least one slot.
    for (const [type, values] of Object.entries(VALUES)) {
      for (const v of values) expect(all.filter((c) => c.type === type && c.hostile === v).length, `${type} ${v.name}`).toBeGreaterThanOrEqual(1);
    }
    const cases = kind === 'sqlite' ? all : all.filter((c, i) => i % 4 === 0 || c.hostile === LONG);
    const before = await tableChecksums(db.knex);
    const files = listing(db.dir);
    const failures: string[] = [];
    for (let i = 0; i < cases.length; i += BATCH) {
      await Promise.all(
        cases.slice(i, i + BATCH).map(async (c) => {
          const r = await run([...c.args, '--dry-run', '--yes'], { url: db.url, env: RUN_ENV, cwd: db.dir });
          const bad = verdict(c, r);
          if (bad) failures.push(`${c.label}: ${bad} (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`);
        }),
      );
    }
    expect(failures).toEqual([]);
    expect(await tableChecksums(db.knex)).toEqual(before);
    // No temp file, staging file or folder left behind (the runs' cwd is this folder too).
    expect(listing(db.dir)).toEqual(files);
    expect(cases.length).toBeGreaterThan(kind === 'sqlite' ? 150 : 40);
  }, 240_000);
});

/**
 * Accepted text is stored exactly: names, descriptions and cities with emoji, right-to-left marks,
 * combining accents, quotes of an SQL injection, or a NUL byte (through stdin/files, the only ways
 * one can arrive) — each either stored as typed, byte for byte, or refused with exit 2 and nothing
 * written.
 */
describe.each(testedKinds())('accepted text is stored exactly on %s', (kind) => {
  let db: TestDb;
  let sender: string;
  let carrier: string;
  beforeAll(async () => {
    db = await createTestDb(kind);
    sender = (await makeUtilisateur(db.knex)).email;
    carrier = (await makeTransporteur(db.knex, { companyType: 'mixte' })).email;
  });
  afterAll(async () => db?.drop());

  let n = 0;
  /** Runs a creating verb; exit 0 → `read()` gives back exactly `value`; else exit 2 and nothing changed. */
  async function storedOrRefused(args: string[], value: string, read: () => Promise<unknown>, input?: string): Promise<void> {
    const before = await tableChecksums(db.knex);
    const r = await run(args, { url: db.url, input, cwd: db.dir });
    if (r.code === 0) {
      expect(await read()).toBe(value);
      return;
    }
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error:')), r.stderr).toHaveLength(1);
    expect(await tableChecksums(db.knex)).toEqual(before);
  }

  const texts = [EMOJI, RTL, COMBINING, SQLI, LONG, { name: 'NUL byte', value: NUL_TEXT }];

  it.each(texts)('$name in a role description, account names, an envoi and its colis', async ({ value }) => {
    const tag = `${kind}${++n}`;
    // argv cannot carry a NUL: that value comes in through the colis file only.
    if (value !== NUL_TEXT) {
      await storedOrRefused(['roles', 'create', `fuzz-${tag}`, '--description', value], value, async () => ((await db.knex('roles').where({ name: `fuzz-${tag}` }).first('description')) as { description: string }).description);
      const email = `stored.${tag}@example.fr`;
      await storedOrRefused(
        ['accounts', 'create', '--role', 'user', '--email', email, '--first-name', value, '--last-name', value, '--phone', '0612345678', '--generate-password'],
        value,
        async () => ((await db.knex('utilisateurs').join('comptes', 'comptes.id', 'utilisateurs.compte_id').where({ email }).first('last_name')) as { last_name: string }).last_name,
      );
      await storedOrRefused(
        ['envois', 'create', '--expediteur', sender, '--transporteur', carrier, '--description', value, '--recipient-name', `R ${tag}`, '--recipient-phone', '0655443322', '--colis', 'box:2'],
        value,
        async () => ((await db.knex('envois').where({ recipient_name: `R ${tag}` }).first('description')) as { description: string }).description,
      );
    }
    const colisFile = path.join(db.dir, `colis-${tag}.json`);
    writeFileSync(colisFile, JSON.stringify([{ description: value, weight: 1.5 }]));
    await storedOrRefused(
      ['envois', 'create', '--expediteur', sender, '--transporteur', carrier, '--description', 'by file', '--recipient-name', `F ${tag}`, '--recipient-phone', '0655443322', '--colis-file', colisFile],
      value,
      async () => ((await db.knex('colis').join('envois', 'envois.id', 'colis.envoi_id').where({ recipient_name: `F ${tag}` }).first('colis.description')) as { description: string }).description,
    );
  });

  it('a password with a NUL byte is refused (bcrypt would stop at it), nothing written', async () => {
    const before = await tableChecksums(db.knex);
    const r = await run(['accounts', 'create', '--role', 'user', '--email', 'nul.pw@example.fr', '--first-name', 'A', '--last-name', 'B', '--phone', '0612345678', '--password-stdin'], { url: db.url, input: `long enough ${NUL_TEXT} password\n` });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: .*NUL/im);
    expect(await tableChecksums(db.knex)).toEqual(before);
  });
});
