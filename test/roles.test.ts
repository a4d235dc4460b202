/** Roles on both databases: counts, create/update/delete rules, and the CLI's refusals leaving the data as it was. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, snapshot, testedKinds, type TestDb } from './helpers/db.js';
import { run, runJson } from './helpers/cli.js';
import { createRole, deleteRole, listRoles, showRole, updateRole } from '../src/domain/roles.js';
import { ACCOUNT_TABLES, makeAccount } from './accounts-fixtures.js';

describe.each(testedKinds())('roles on %s', (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(kind);
    await makeAccount(db.knex, { email: 'a@x.fr', role: 'admin' });
    await makeAccount(db.knex, { email: 'u1@x.fr' });
    await makeAccount(db.knex, { email: 'u2@x.fr', status: 'suspended' });
  });
  afterAll(async () => db?.drop());

  it('lists every role with its account count and profile table', async () => {
    const roles = await listRoles(db.knex);
    expect(roles.map((r) => [r.name, r.accounts, r.profile, r.is_default])).toEqual([
      ['admin', 1, 'administrateur', true],
      ['transporteur', 0, 'transporteur', true],
      ['user', 2, 'utilisateur', true],
    ]);
    const user = await showRole(db.knex, 'user');
    expect(user.accounts_by_status).toEqual({ active: 1, inactive: 0, suspended: 1, deleted: 0 });
  });

  it('creates, renames and deletes a custom role', async () => {
    const r = await db.knex.transaction((trx) => createRole(trx, { name: 'support', description: 'Support agents' }));
    expect(r).toMatchObject({ name: 'support', profile: 'utilisateur', accounts: 0, is_default: false });
    await expect(db.knex.transaction((trx) => createRole(trx, { name: 'support' }))).rejects.toMatchObject({ exitCode: 4 });
    await expect(db.knex.transaction((trx) => createRole(trx, { name: 'Bad Name!' }))).rejects.toMatchObject({ exitCode: 2 });
    const ch = await db.knex.transaction((trx) => updateRole(trx, 'support', { name: 'support_l1', description: '' }));
    expect(ch.after).toEqual({ name: 'support_l1', description: null });
    await expect(db.knex.transaction((trx) => updateRole(trx, 'support_l1', {}))).rejects.toMatchObject({ exitCode: 2 });
    await expect(db.knex.transaction((trx) => updateRole(trx, 'support_l1', { name: 'user' }))).rejects.toMatchObject({ exitCode: 4, code: 'duplicate_role' });
    await db.knex.transaction((trx) => deleteRole(trx, String(r.id)));
    await expect(showRole(db.knex, 'support_l1')).rejects.toMatchObject({ exitCode: 3 });
  });

  it('keeps the default roles: no rename, no delete', async () => {
    await expect(db.knex.transaction((trx) => updateRole(trx, 'transporteur', { name: 'carrier' }))).rejects.toMatchObject({ exitCode: 4, code: 'default_role' });
    await expect(db.knex.transaction((trx) => deleteRole(trx, 'transporteur'))).rejects.toMatchObject({ exitCode: 4, code: 'default_role' });
    // Their description can change.
    await db.knex.transaction((trx) => updateRole(trx, 'transporteur', { description: 'Carriers' }));
  });

  it('CLI: list as JSON; delete of a role in use or a default role is refused (exit 4), nothing changed', async () => {
    const list = await runJson<Array<{ name: string; accounts: number }>>(['roles', 'list'], { url: db.url });
    expect(list.code).toBe(0);
    expect(list.data.find((r) => r.name === 'user')?.accounts).toBe(2);

    await db.knex.transaction((trx) => createRole(trx, { name: 'vip' }));
    await makeAccount(db.knex, { email: 'vip@x.fr', role: 'vip' });
    const before = await snapshot(db.knex, ACCOUNT_TABLES);
    const inUse = await run(['roles', 'delete', 'vip', '--yes'], { url: db.url });
    expect(inUse.code).toBe(4);
    expect(inUse.stderr).toMatch(/^error: role "vip" is used by 1 account: move them first/);
    const dflt = await run(['roles', 'delete', 'admin', '--yes'], { url: db.url });
    expect(dflt.code).toBe(4);
    expect(dflt.stderr).toContain('default role and cannot be deleted');
    const dup = await run(['roles', 'create', 'vip'], { url: db.url });
    expect(dup.code).toBe(4);
    const unknown = await run(['roles', 'show', 'vpi'], { url: db.url });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('did you mean vip?');
    expect(await snapshot(db.knex, ACCOUNT_TABLES)).toEqual(before);
  });

  it('CLI: create, update and delete write one audit row each', async () => {
    expect((await run(['roles', 'create', 'temp', '--description', 'for a week'], { url: db.url })).code).toBe(0);
    expect((await run(['roles', 'update', 'temp', '--description', 'for two weeks'], { url: db.url })).code).toBe(0);
    const del = await run(['roles', 'delete', 'temp'], { url: db.url });
    expect(del.code).toBe(2);
    expect(del.stderr).toContain('--yes');
    expect((await run(['roles', 'delete', 'temp', '--yes'], { url: db.url })).code).toBe(0);
    const audit = await db.knex('audit_log').where('action', 'like', 'roles.%').orderBy('id').pluck('action');
    expect(audit).toEqual(['roles.create', 'roles.update', 'roles.delete']);
  });
});
