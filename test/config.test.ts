import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientInferred, parseDatabaseUrl, redactUrl, resolveTarget } from '../src/db/config.js';
import { Unavailable } from '../src/domain/errors.js';

function dirWithEnv(content?: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bt-config-'));
  if (content !== undefined) writeFileSync(path.join(dir, '.env'), content);
  return dir;
}

describe('target resolution (PRODUCT.md order)', () => {
  it('defaults to ./billettigue.sqlite3', () => {
    const cwd = dirWithEnv();
    const t = resolveTarget({ env: {}, cwd });
    expect(t).toMatchObject({ kind: 'sqlite', filename: path.join(cwd, 'billettigue.sqlite3'), source: 'default' });
  });

  it('--db beats DATABASE_URL, which beats DB_*, which beats the default', () => {
    const cwd = dirWithEnv('DB_HOST=envfile-host\nDB_NAME=fromfile\n');
    const env = { DATABASE_URL: 'mysql://u@url-host:3307/fromurl', DB_HOST: 'var-host' };
    expect(resolveTarget({ dbFlag: 'sqlite:x.sqlite3', env, cwd })).toMatchObject({ kind: 'sqlite', source: '--db' });
    expect(resolveTarget({ env, cwd })).toMatchObject({ kind: 'mysql', host: 'url-host', port: 3307, database: 'fromurl', source: 'DATABASE_URL' });
    expect(resolveTarget({ env: { DB_HOST: 'var-host' }, cwd })).toMatchObject({ host: 'var-host', database: 'fromfile', source: 'DB_* variables' });
    expect(resolveTarget({ env: {}, cwd })).toMatchObject({ host: 'envfile-host', database: 'fromfile' });
  });

  it('reads DATABASE_URL from ./.env', () => {
    const cwd = dirWithEnv('DATABASE_URL=mysql://a:b@h:3306/d\n');
    expect(resolveTarget({ env: {}, cwd })).toMatchObject({ kind: 'mysql', host: 'h', user: 'a', password: 'b', database: 'd' });
  });

  it('DB_CLIENT=sqlite uses DB_NAME as the file', () => {
    const cwd = dirWithEnv();
    expect(resolveTarget({ env: { DB_CLIENT: 'sqlite', DB_NAME: 'data/app.sqlite3' }, cwd })).toMatchObject({
      kind: 'sqlite',
      filename: path.join(cwd, 'data/app.sqlite3'),
    });
  });

  it('refuses a typo in .env with a "did you mean"', () => {
    const cwd = dirWithEnv('DB_HOTS=db.example\n');
    expect(() => resolveTarget({ env: {}, cwd })).toThrow(/unknown variable DB_HOTS \(did you mean DB_HOST\?\)/);
    expect(() => resolveTarget({ env: {}, cwd })).toThrow(Unavailable);
  });

  it('refuses unknown schemes and clients', () => {
    expect(() => parseDatabaseUrl('oracle://u@h/d', '--db')).toThrow(/unknown URL scheme "oracle:"/);
    expect(() => resolveTarget({ env: { DB_CLIENT: 'oracle' }, cwd: dirWithEnv() })).toThrow(/DB_CLIENT=oracle is not supported/);
    expect(() => parseDatabaseUrl('mysql://u@h:99999/d', '--db')).toThrow(/not a valid URL|port/);
  });

  it('never shows a password', () => {
    const t = parseDatabaseUrl('mysql://app:s3cr%40t@db.example:3306/prod', '--db');
    expect(t.kind === 'mysql' && t.password).toBe('s3cr@t');
    expect(t.display).toBe('mysql://app:***@db.example:3306/prod');
    expect(redactUrl('failed for mysql://app:hunter2@h/x and more')).toBe('failed for mysql://app:***@h/x and more');
    expect(() => parseDatabaseUrl('mysql://app:hunter2@[bad', '--db')).toThrow(/^(?!.*hunter2)/);
  });

  it('reads postgres:// and postgresql:// URLs, with PostgreSQL defaults', () => {
    const t = parseDatabaseUrl('postgresql://app:s3cr%40t@db.example/prod', '--db');
    expect(t).toMatchObject({ kind: 'postgres', host: 'db.example', port: 5432, user: 'app', password: 's3cr@t', database: 'prod' });
    expect(t.display).toBe('postgres://app:***@db.example:5432/prod');
    expect(parseDatabaseUrl('postgres://h:5433/x', '--db')).toMatchObject({ kind: 'postgres', user: 'postgres', port: 5433 });
    expect(parseDatabaseUrl('postgres://u@[::1]:5432/x', '--db')).toMatchObject({ host: '::1', display: 'postgres://u@[::1]:5432/x' });
  });

  it('DB_CLIENT=postgres|postgresql|pg selects PostgreSQL, default port 5432', () => {
    for (const client of ['postgres', 'postgresql', 'pg', 'PG']) {
      expect(resolveTarget({ env: { DB_CLIENT: client, DB_NAME: 'b' }, cwd: dirWithEnv() })).toMatchObject({ kind: 'postgres', port: 5432, user: 'postgres', database: 'b' });
    }
  });

  it("the seed's .env without DB_CLIENT: port 5432 means PostgreSQL, other ports MySQL", () => {
    const cwd = dirWithEnv('DB_NAME=billettigue\nDB_USER=postgres\nDB_PASSWORD=postgres\nDB_HOST=localhost\nDB_PORT=5432\n');
    const t = resolveTarget({ env: {}, cwd });
    expect(t).toMatchObject({ kind: 'postgres', host: 'localhost', port: 5432, user: 'postgres', password: 'postgres', database: 'billettigue' });
    expect(t.display).toBe('postgres://postgres:***@localhost:5432/billettigue');
    expect(resolveTarget({ env: { DB_PORT: '3307' }, cwd: dirWithEnv() })).toMatchObject({ kind: 'mysql', port: 3307 });
    expect(resolveTarget({ env: { DB_HOST: 'h' }, cwd: dirWithEnv() })).toMatchObject({ kind: 'mysql', port: 3306 });
    expect(clientInferred(t)).toBe(true);
    expect(clientInferred(resolveTarget({ env: { DB_CLIENT: 'pg' }, cwd }))).toBe(false);
  });

  it('without DB_CLIENT the server answer wins over the port, with that engine\'s default user', () => {
    const cwd = dirWithEnv('DB_HOST=h\nDB_PORT=5433\nDB_NAME=b\n');
    expect(resolveTarget({ env: {}, cwd })).toMatchObject({ kind: 'mysql', user: 'root', port: 5433 });
    expect(resolveTarget({ env: {}, cwd, answered: 'postgres' })).toMatchObject({ kind: 'postgres', user: 'postgres', port: 5433, display: 'postgres://postgres@h:5433/b' });
    expect(resolveTarget({ env: { DB_CLIENT: 'mysql' }, cwd, answered: 'postgres' })).toMatchObject({ kind: 'mysql' });
  });
});
