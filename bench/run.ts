/**
 * `npm run bench [-- name…]`: runs every bench/*.bench.ts (compiled), prints a table of results
 * with the machine's details, and writes bench/results/bench-<timestamp>.json.
 *   BENCH_SIZE=small|full (default full)   BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306)
 *   BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432)
 * A benchmark that throws is reported as FAILED and the others still run; the exit code is 1 when
 * any result misses its target (ok: false) or any benchmark failed.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchContext, BenchModule, BenchResult } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2).filter((a) => a !== '--');

interface Row extends BenchResult {
  bench: string;
}

async function mysqlVersion(url: string): Promise<string> {
  try {
    const { default: mysql } = await import('mysql2/promise');
    const u = new URL(url);
    const conn = await mysql.createConnection({
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username) || 'root',
      password: decodeURIComponent(u.password),
      connectTimeout: 5000,
    });
    try {
      const [rows] = (await conn.query('select version() as v, @@innodb_buffer_pool_size as bp')) as unknown as [Array<{ v: string; bp: number }>];
      return `${rows[0]!.v} (buffer pool ${Math.round(Number(rows[0]!.bp) / 2 ** 20)} MiB)`;
    } finally {
      await conn.end();
    }
  } catch (err) {
    return `unreachable (${(err as Error).message})`;
  }
}

async function postgresVersion(url: string): Promise<string> {
  try {
    const { default: pg } = await import('pg');
    const u = new URL(url);
    const c = new pg.Client({ host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username) || 'postgres', password: decodeURIComponent(u.password), database: 'postgres', connectionTimeoutMillis: 5000 });
    await c.connect();
    try {
      const r = await c.query("select current_setting('server_version') as v, current_setting('shared_buffers') as sb, current_setting('wal_level') as wl");
      const row = r.rows[0] as { v: string; sb: string; wl: string };
      return `${row.v} (shared_buffers ${row.sb}, wal_level ${row.wl})`;
    } finally {
      await c.end();
    }
  } catch (err) {
    return `unreachable (${(err as Error).message})`;
  }
}

async function main(): Promise<void> {
  const available = readdirSync(here)
    .filter((f) => /\.bench\.js$/.test(f))
    .sort();
  const files = available.filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)));
  if (files.length === 0) {
    console.error(`no benchmark matches ${only.join(' ')}; available: ${available.map((f) => f.replace('.bench.js', '')).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const mysqlUrl = (process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
  const pgUrl = (process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
  const size = process.env.BENCH_SIZE === 'small' ? 'small' : 'full';
  const machine = {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    load_average_at_start: os.loadavg().map((l) => Math.round(l * 100) / 100),
    mysql: await mysqlVersion(mysqlUrl),
    postgres: await postgresVersion(pgUrl),
  };
  console.log(`machine: ${machine.cpus}, ${machine.memory_gib} GiB, ${machine.platform}, node ${machine.node}`);
  console.log(`MariaDB/MySQL: ${machine.mysql}; PostgreSQL: ${machine.postgres}; load average ${machine.load_average_at_start.join(' ')}; BENCH_SIZE=${size}`);

  const all: Row[] = [];
  const durations: Record<string, number> = {};
  const started = new Date();
  for (const f of files) {
    const name = f.replace('.bench.js', '');
    const scratchDir = mkdtempSync(path.join(os.tmpdir(), 'bt-bench-'));
    const ctx: BenchContext = { mysqlUrl, pgUrl, scratchDir, size, log: (m) => console.error(`[${name}] ${m}`) };
    const t0 = performance.now();
    try {
      const mod = (await import(pathToFileURL(path.join(here, f)).href)) as { default: BenchModule };
      console.error(`== ${name}: ${mod.default.title}`);
      for (const r of await mod.default.run(ctx)) all.push({ bench: name, ...r });
    } catch (err) {
      all.push({ bench: name, name: 'FAILED', value: NaN, unit: '', note: (err as Error).message, ok: false });
      console.error(`[${name}] failed: ${(err as Error).stack ?? String(err)}`);
    } finally {
      durations[name] = Math.round((performance.now() - t0) / 100) / 10;
      rmSync(scratchDir, { recursive: true, force: true });
    }
  }

  const { default: Table } = await import('cli-table3');
  const table = new Table({ head: ['bench', 'measure', 'value', 'ratio', 'target', 'ok', 'note'], style: { head: [], border: [] }, wordWrap: true, colWidths: [12, 48, 20, 8, 18, 5, 44] });
  for (const r of all) {
    table.push([
      r.bench,
      r.name,
      Number.isFinite(r.value) ? `${fmt(r.value)} ${r.unit}` : 'n/a',
      r.ratio === undefined ? '' : fmt(r.ratio),
      r.target ?? '',
      r.ok === undefined ? '' : r.ok ? 'yes' : 'NO',
      r.note ?? '',
    ]);
  }
  console.log(table.toString());

  const outDir = path.resolve(here, '../../bench/results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `bench-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ started_at: started.toISOString(), machine, size, durations_s: durations, results: all }, null, 2) + '\n');
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
  const missed = all.filter((r) => r.ok === false);
  if (missed.length > 0) {
    console.log(`${missed.length} result(s) missed their target: ${missed.map((r) => `${r.bench}: ${r.name}`).join('; ')}`);
    process.exitCode = 1;
  }
}

function fmt(n: number): string {
  const v = Math.abs(n) >= 100 ? Math.round(n) : Math.round(n * 100) / 100;
  return v.toLocaleString('en');
}

main().catch((err: unknown) => {
  console.error(`bench runner failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
