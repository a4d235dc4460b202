/**
 * `billettigue accounts` through the real binary on both databases: every bad-input case of the
 * issue exits with its code and one clear line, and leaves the database exactly as it was; the
 * "done when" story (find a locked account by part of its email, see why, unlock it, reset its
 * password, see it in the audit log) works as a new user would run it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { recordLoginAttempt } from '../src/domain/lockout.js';
import { verifyPassword } from '../src/domain/passwords.js';
import { ACCOUNT_TABLES, makeAccount } from './accounts-fixtures.js';

const NEW_USER = ['accounts', 'create', '--role', 'user', '--email', 'new@example.fr', '--first-name', 'Nina', '--last-name', 'Neuf', '--phone', '06 11 22 33 44'];

interface BadCase {
  name: string;
  args: string[];
  input?: string;
  code: number;
  stderr: RegExp;
}

const BAD: BadCase[] = [
  {
    name: 'duplicate email (any case)',
    args: ['accounts', 'create', '--role', 'user', '--email', ' JEAN.DUPONT@example.fr', '--first-name', 'J', '--last-name', 'D', '--phone', '0612345678', '--generate-password'],
    code: 4,
    stderr: /^error: an account with email jean\.dupont@example\.fr already exists \(id \d+\)\n$/,
  },
  { name: 'unknown role', args: [...NEW_USER.map((a) => (a === 'user' ? 'usr' : a)), '--generate-password'], code: 2, stderr: /^error: --role: no role "usr" \(did you mean user\?\); roles: admin, transporteur, user\n$/ },
  { name: 'missing profile field for the role', args: ['accounts', 'create', '--role', 'user', '--email', 'new@example.fr', '--first-name', 'Nina', '--last-name', 'Neuf', '--generate-password'], code: 2, stderr: /^error: --phone is required for role user \(profile utilisateur\)\n$/ },
  { name: 'transporteur without its phone', args: ['accounts', 'create', '--role', 'transporteur', '--email', 'new@example.fr', '--company-name', 'X', '--generate-password'], code: 2, stderr: /--phone is required for role transporteur/ },
  { name: 'invalid email', args: [...NEW_USER.map((a) => (a === 'new@example.fr' ? 'new-at-example.fr' : a)), '--generate-password'], code: 2, stderr: /^error: "new-at-example\.fr" is not a valid email address/ },
  { name: 'invalid phone', args: [...NEW_USER.map((a) => (a === '06 11 22 33 44' ? '12 34' : a)), '--generate-password'], code: 2, stderr: /^error: --phone "12 34" is not a phone number: use E\.164/ },
  { name: 'password too short', args: [...NEW_USER, '--password-stdin'], input: 'short\n', code: 2, stderr: /^error: the password is too short: use at least 10 characters\n$/ },
  { name: 'password longer than 72 bytes', args: [...NEW_USER, '--password-stdin'], input: `${'é'.repeat(37)}\n`, code: 2, stderr: /^error: the password is 74 bytes long; bcrypt uses at most 72 bytes/ },
  { name: 'no TTY and no --password-stdin', args: NEW_USER, code: 2, stderr: /^error: no password source: stdin is not a terminal: use --password-stdin or --generate-password\n$/ },
  { name: 'empty stdin', args: [...NEW_USER, '--password-stdin'], input: '', code: 2, stderr: /^error: --password-stdin: stdin was empty/ },
  { name: 'both password sources', args: [...NEW_USER, '--password-stdin', '--generate-password'], input: 'longenoughpassword\n', code: 2, stderr: /choose one of --password-stdin and --generate-password/ },
  { name: 'unknown account, near email', args: ['accounts', 'show', 'jean.dupond@example.fr'], code: 3, stderr: /^error: no account with email jean\.dupond@example\.fr \(did you mean jean\.dupont@example\.fr\?\)\n$/ },
  { name: 'unknown account id', args: ['accounts', 'unlock', '99999'], code: 3, stderr: /^error: no account with id 99999\n$/ },
  { name: 'unknown account on reset-password (no password asked)', args: ['accounts', 'reset-password', 'ghost@nowhere.org'], code: 3, stderr: /^error: no account with email ghost@nowhere\.org\n$/ },
  { name: '--sort on an unknown field', args: ['accounts', 'list', '--sort', 'password_hash'], code: 2, stderr: /^error: --sort "password_hash" is not allowed: use one of id, email, created_at, last_login, failed_logins/ },
  { name: '--limit 0', args: ['accounts', 'list', '--limit', '0'], code: 2, stderr: /^error: --limit must be a whole number from 1 to 10000, got "0"\n$/ },
  { name: '--limit negative', args: ['accounts', 'list', '--limit', '-5'], code: 2, stderr: /^error: --limit must be a whole number from 1 to 10000, got "-5"\n$/ },
  { name: 'lock an account already locked (no-op: exit 0)', args: ['accounts', 'lock', 'jean.dupont@example.fr'], code: 0, stderr: /^nothing to do: account jean\.dupont@example\.fr is already locked\n$/ },
  { name: 'activate an active account (no-op: exit 0)', args: ['accounts', 'activate', 'marie@example.fr'], code: 0, stderr: /^nothing to do: account marie@example\.fr is already active\n$/ },
  { name: 'activate a deleted account', args: ['accounts', 'activate', 'gone@example.fr'], code: 4, stderr: /its status is deleted \(deleted is final\)/ },
  { name: 'suspend the last active admin', args: ['accounts', 'suspend', 'boss@example.fr', '--yes'], code: 4, stderr: /^error: boss@example\.fr is the last active admin: suspending it would leave nobody able to administer the platform/ },
  { name: 'suspend without a TTY and without --yes', args: ['accounts', 'suspend', 'marie@example.fr'], code: 2, stderr: /confirmation needed, and stdin is not a terminal: re-run with --yes\n$/ },
  { name: 'set-role without the new profile fields', args: ['accounts', 'set-role', 'carrier@example.fr', 'user', '--yes'], code: 2, stderr: /^error: --first-name is required for role user \(profile utilisateur\)\n$/ },
  { name: 'verify without saying what', args: ['accounts', 'verify', 'marie@example.fr'], code: 2, stderr: /say what to verify: --email and\/or --phone/ },
];

describe.each(testedKinds())('accounts CLI on %s', (kind) => {
  let db: TestDb;
  let jean: number;
  beforeAll(async () => {
    db = await createTestDb(kind);
    await makeAccount(db.knex, { email: 'boss@example.fr', role: 'admin', firstName: 'Bea', lastName: 'Boss' });
    jean = await makeAccount(db.knex, { email: 'jean.dupont@example.fr', firstName: 'Jean', lastName: 'Dupont', phone: '+33612345678' });
    await makeAccount(db.knex, { email: 'marie@example.fr', firstName: 'Marie', lastName: 'Curie' });
    await makeAccount(db.knex, { email: 'gone@example.fr', status: 'deleted' });
    await makeAccount(db.knex, { email: 'carrier@example.fr', role: 'transporteur' });
    // The platform's login code failed five times in a row: the policy locked the account.
    for (let i = 0; i < 5; i++) await recordLoginAttempt(db.knex, 'jean.dupont@example.fr', { success: false }, { lockoutThreshold: 5 });
  });
  afterAll(async () => db?.drop());

  for (const c of BAD) {
    it(`bad input: ${c.name} → exit ${c.code}, nothing changed`, async () => {
      const before = await snapshot(db.knex, ACCOUNT_TABLES);
      const r = await run(c.args, { url: db.url, input: c.input });
      expect(r.stderr).toMatch(c.stderr);
      expect(r.code).toBe(c.code);
      expect(r.stdout).toBe('');
      expect(await snapshot(db.knex, ACCOUNT_TABLES)).toEqual(before);
    });
  }

  it('bad input with --json: the error is a JSON object on stderr', async () => {
    const r = await run(['--json', 'accounts', 'show', 'nobody@example.fr'], { url: db.url });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stderr)).toEqual({ error: { code: 'account_not_found', message: 'no account with email nobody@example.fr' } });
  });

  it('done when: find the locked account by part of its email, see why, unlock, reset its password, see it in the audit log', async () => {
    const help = await run(['accounts', '--help']);
    expect(help.code).toBe(0);
    for (const verb of ['list', 'show', 'unlock', 'reset-password']) expect(help.stdout).toContain(verb);

    const found = await run(['accounts', 'list', '--locked', '--search', 'dupont'], { url: db.url });
    expect(found.code).toBe(0);
    expect(found.stdout).toMatch(/jean\.dupont@example\.fr/);
    expect(found.stdout).toContain('locked');
    expect(found.stdout).not.toContain('marie@');

    const shown = await run(['accounts', 'show', 'jean.dupont@example.fr'], { url: db.url });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/can log in\tno: locked: 5 consecutive failed logins \(threshold 5\) \(lockout policy/);
    expect(shown.stdout).toMatch(/failed logins \(consecutive\)\t5 \(locks at 5\)/);

    const unlocked = await run(['accounts', 'unlock', 'jean.dupont@example.fr', '--reason', 'called support, identity checked'], { url: db.url });
    expect(unlocked.code).toBe(0);
    expect(unlocked.stderr).toContain('unlocked account jean.dupont@example.fr');

    const reset = await run(['accounts', 'reset-password', 'jean.dupont@example.fr', '--generate-password', '--reason', 'ticket 4521'], { url: db.url });
    expect(reset.code).toBe(0);
    const m = /^generated password for jean\.dupont@example\.fr: (\S+)\n$/.exec(reset.stdout);
    expect(m).not.toBeNull();
    const row = await db.knex('comptes').where('id', jean).first();
    expect(await verifyPassword(m![1]!, row.password_hash)).toBe(true);
    expect(row).toMatchObject({ failed_logins: 0, login_attempts: 0 });
    expect(row.password_changed_at).not.toBeNull();

    const audit = await runJson<Array<{ action: string; reason: string | null; actor: string }>>(['audit', 'list', '--target', `compte:${jean}`], { url: db.url });
    expect(audit.data.map((a) => [a.action, a.reason, a.actor])).toEqual([
      ['accounts.reset-password', 'ticket 4521', 'test-runner'],
      ['accounts.unlock', 'called support, identity checked', 'test-runner'],
      ['accounts.lockout', '5 consecutive failed logins (threshold 5)', 'lockout-policy'],
    ]);
    const table = await run(['audit', 'list', '--action', 'accounts.'], { url: db.url });
    expect(table.stdout).toContain('accounts.reset-password');
  });

  it('create: the generated password is printed once (JSON too), never a hash anywhere', async () => {
    const r = await runJson<{ account: { id: number; email: string; phone_number: string }; generated_password: string; dry_run: boolean }>(
      ['accounts', 'create', '--role', 'transporteur', '--email', ' Fret@Example.FR ', '--phone', '06 99 88 77 66', '--company-name', 'Fret Express', '--company-type', 'colis', '--generate-password'],
      { url: db.url },
    );
    expect(r.code).toBe(0);
    expect(r.data.account).toMatchObject({ email: 'fret@example.fr', phone_number: '+33699887766' });
    expect(r.data.generated_password).toMatch(/^\S{20}$/);
    const hash = (await db.knex('comptes').where('id', r.data.account.id).first('password_hash')).password_hash as string;
    expect(await verifyPassword(r.data.generated_password, hash)).toBe(true);

    const piped = await run([...NEW_USER, '--password-stdin'], { url: db.url, input: 'a long enough password\n' });
    expect(piped.code).toBe(0);
    expect(piped.stdout).toContain('new@example.fr');
    expect(piped.stdout).not.toContain('a long enough password');

    const show = await run(['--json', 'accounts', 'show', 'fret@example.fr'], { url: db.url });
    const list = await run(['--json', 'accounts', 'list', '--limit', '100'], { url: db.url });
    const auditJson = ((await db.knex('audit_log').select('before_json', 'after_json')) as Array<Record<string, string | null>>).map((a) => `${a.before_json} ${a.after_json}`).join('\n');
    for (const text of [show.stdout, list.stdout, auditJson, r.stderr, piped.stderr]) {
      expect(text).not.toContain('password_hash');
      expect(text).not.toMatch(/\$2[aby]\$/);
    }
  });

  it('--dry-run does the work, says what would change, and writes nothing', async () => {
    const before = await snapshot(db.knex, ACCOUNT_TABLES);
    const r = await run(['accounts', 'suspend', 'marie@example.fr', '--dry-run'], { url: db.url });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('would suspend account marie@example.fr');
    const c = await run([...NEW_USER.map((a) => (a === 'new@example.fr' ? 'dry@example.fr' : a)), '--generate-password', '--dry-run'], { url: db.url });
    expect(c.code).toBe(0);
    expect(c.stdout).not.toContain('generated password');
    expect(await snapshot(db.knex, ACCOUNT_TABLES)).toEqual(before);
  });

  it('suspend, set-role and delete --hard with --yes; each writes one audit row', async () => {
    const before = Number((await db.knex('audit_log').count({ n: '*' }).first())!.n);
    expect((await run(['accounts', 'suspend', 'marie@example.fr', '--yes', '--reason', 'chargeback'], { url: db.url })).code).toBe(0);
    const moved = await run(['accounts', 'set-role', 'marie@example.fr', 'admin', '--yes', '--first-name', 'Marie', '--last-name', 'Curie'], { url: db.url });
    expect(moved.code).toBe(0);
    expect(await db.knex('administrateurs').whereIn('compte_id', db.knex('comptes').where('email', 'marie@example.fr').select('id')).first()).toBeTruthy();
    expect((await run(['accounts', 'delete', 'gone@example.fr', '--hard', '--yes'], { url: db.url })).code).toBe(0);
    expect(await db.knex('comptes').where('email', 'gone@example.fr').first()).toBeUndefined();
    expect(Number((await db.knex('audit_log').count({ n: '*' }).first())!.n)).toBe(before + 3);
  });
});
