/**
 * Before any test: the CLI tests spawn the compiled binary, so dist/ must exist (the README's test
 * command builds first), and MariaDB and PostgreSQL must answer when they are among the tested databases.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { postgresServerUrl, testedKinds } from './db.js';

export default async function setup(): Promise<void> {
  const main = path.resolve(import.meta.dirname, '../../dist/src/cli/main.js');
  if (!existsSync(main)) throw new Error('dist/ is missing: run `npm run build` first (npm test does it)');
  if (testedKinds().includes('mysql')) {
    const { default: mysql } = await import('mysql2/promise');
    const url = new URL(process.env.BT_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
    try {
      const conn = await mysql.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: url.username || 'root', password: decodeURIComponent(url.password) });
      await conn.end();
    } catch (err) {
      throw new Error(`MariaDB does not answer at ${url.hostname}:${url.port || 3306} (${(err as Error).message}); start it, or run with BT_TEST_DB=sqlite`);
    }
  }
  if (testedKinds().includes('postgres')) {
    const { default: pg } = await import('pg');
    const url = new URL(postgresServerUrl());
    const client = new pg.Client({ host: url.hostname, port: Number(url.port || 5432), user: decodeURIComponent(url.username) || 'postgres', password: decodeURIComponent(url.password), database: 'postgres', connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      await client.end();
    } catch (err) {
      throw new Error(`PostgreSQL does not answer at ${url.hostname}:${url.port || 5432} (${(err as Error).message}); start it, or run with BT_TEST_DB=sqlite,mysql`);
    }
  }
}
