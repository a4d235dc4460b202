/**
 * `seed demo` throughput, measured the way a developer runs it: the real binary, in a child
 * process, on fresh databases it creates (and drops).
 *
 * - MariaDB, `--scale medium` (≈ 1M rows; BENCH_SIZE=small: small): rows/s overall (wall clock,
 *   start-up and the bcrypt hash included) and of the load alone; peak memory of the process;
 *   with the default two connections, and again on one (the like-for-like comparison).
 * - The ceiling, in the same run: the very same rows written as TSV files beforehand, then loaded
 *   with LOAD DATA LOCAL INFILE (one statement per table, nothing else) into another fresh
 *   database; the ratio seed/ceiling is reported.
 * - Each of those is run BENCH_SEED_REPEAT times (3 at full size, 1 at small), interleaved, and
 *   the best run kept: on a shared machine, noise only ever slows a run down.
 * - The INSERT fallback (BILLETTIGUE_SEED_LOADER=insert) against the same ceiling, for reference.
 * - SQLite, same scale, beside three insert ceilings (rows generated beforehand): the seed's loader,
 *   the same with the indexes kept live, and bare tables.
 * - BENCH_SEED_LARGE=1 adds `--scale large` (≈ 10M rows) on MariaDB for the memory target.
 * Invariants of the seeded MariaDB database are checked after timing.
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import type { BenchContext, BenchModule, BenchResult } from './types.js';
import { parseDatabaseUrl } from '../src/db/config.js';
import { connect } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrator.js';
import { CHUNK_ROWS, ParamsSink, TsvSink, openBulkLoader, type BulkJob, type RowSink } from '../src/db/bulk.js';
import { checkInvariants } from '../src/domain/demo/checks.js';
import { DEMO_COLUMNS, DEMO_TABLES, DemoGenerator, type DemoTable } from '../src/domain/demo/generator.js';
import { DEFAULT_RANDOM_SEED, DEFAULT_REFERENCE, DEMO_PASSWORD, makePlan, type Scale } from '../src/domain/demo/plan.js';
import { demoPasswordHash } from '../src/domain/demo/seed.js';
import { loadSettings } from '../src/domain/settings.js';
import { seedRoles } from '../seeds/default.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../../bin/billettigue');
const MAXRSS_HOOK = pathToFileURL(path.join(here, 'support', 'maxrss.js')).href;

export interface SeedJson {
  loader: string;
  connections: number;
  total_rows: number;
  seconds: number;
  rows_per_second: number;
}

export interface CliRun {
  json: SeedJson;
  wallSeconds: number;
  maxRssBytes: number;
}

/** Runs the real CLI in a child process and returns its JSON, wall time and peak memory. */
export async function runCli(args: string[], env: Record<string, string>, scratch: string): Promise<CliRun> {
  const rssFile = path.join(scratch, `maxrss-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const t0 = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', MAXRSS_HOOK, BIN, '--json', ...args], {
      env: { ...process.env, NO_COLOR: '1', BENCH_MAXRSS_FILE: rssFile, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`billettigue ${args.join(' ')} exited ${code}: ${stderr.trim().split('\n').pop()}`);
  const maxRssBytes = Number(readFileSync(rssFile, 'utf8'));
  rmSync(rssFile, { force: true });
  return { json: JSON.parse(stdout) as SeedJson, wallSeconds, maxRssBytes };
}

async function freshMysql(server: string, name: string, migrate: boolean): Promise<{ url: string; knex: Knex | null }> {
  const admin = await connect(parseDatabaseUrl(server, '--db'), { noDatabase: true });
  await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
  await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [name]);
  await admin.destroy();
  const url = `${server}/${name}`;
  if (!migrate) return { url, knex: null };
  const knex = await connect(parseDatabaseUrl(url, '--db'));
  await migrateLatest(knex);
  await knex.transaction((trx) => seedRoles(trx));
  return { url, knex };
}

async function dropMysql(server: string, name: string): Promise<void> {
  const admin = await connect(parseDatabaseUrl(server, '--db'), { noDatabase: true });
  await admin.raw('DROP DATABASE IF EXISTS ??', [name]).catch(() => undefined);
  await admin.destroy();
}

/** Writes every demo table as a TSV file (not timed): the input of the LOAD DATA ceiling. */
export async function writeTsvFiles(dir: string, scale: Scale, roleIds: { admin: number; user: number; transporteur: number }): Promise<Array<{ table: DemoTable; file: string; rows: number }>> {
  const settings = loadSettings(process.env);
  const gen = demoGenerator(scale, roleIds, await demoPasswordHash(DEMO_PASSWORD, settings.bcryptCost, DEFAULT_RANDOM_SEED));
  mkdirSync(dir, { recursive: true });
  const out: Array<{ table: DemoTable; file: string; rows: number }> = [];
  for (const table of DEMO_TABLES) {
    const file = path.join(dir, `${table}.tsv`);
    const sink = new TsvSink();
    const parts: string[] = [];
    let rows = 0;
    writeFileSync(file, '');
    const flush = () => {
      const c = sink.take();
      rows += c.rows;
      parts.push(c.text);
      if (parts.length >= 50) writeFileSync(file, parts.splice(0).join(''), { flag: 'a' });
    };
    for (const _ of gen.produce(table, sink)) flush();
    flush();
    writeFileSync(file, parts.join(''), { flag: 'a' });
    out.push({ table, file, rows });
  }
  return out;
}

interface RawConn {
  query(o: { sql: string; infileStreamFactory?: () => NodeJS.ReadableStream }, cb: (e: Error | null, r: unknown) => void): void;
}

/** LOAD DATA LOCAL INFILE of each file, one statement per table; returns the seconds spent loading. */
async function loadFiles(knex: Knex, files: Array<{ table: DemoTable; file: string; rows: number }>): Promise<number> {
  const client = knex.client as unknown as { acquireConnection(): Promise<RawConn>; releaseConnection(c: RawConn): Promise<void> };
  const conn = await client.acquireConnection();
  const q = (sql: string, file?: string) =>
    new Promise<{ affectedRows: number; warningStatus: number }>((resolve, reject) =>
      conn.query({ sql, ...(file ? { infileStreamFactory: () => createReadStream(file) } : {}) }, (e, r) => (e ? reject(e) : resolve(r as { affectedRows: number; warningStatus: number }))),
    );
  try {
    const t0 = performance.now();
    for (const f of files) {
      const cols = DEMO_COLUMNS[f.table].map((c) => `\`${c}\``).join(', ');
      const r = await q(
        `LOAD DATA LOCAL INFILE 'f' INTO TABLE \`${f.table}\` CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${cols})`,
        f.file,
      );
      if (r.affectedRows !== f.rows || r.warningStatus) throw new Error(`ceiling: ${f.table} loaded ${r.affectedRows}/${f.rows} rows, ${r.warningStatus} warnings`);
    }
    return (performance.now() - t0) / 1000;
  } finally {
    await client.releaseConnection(conn);
  }
}

function demoGenerator(scale: Scale, roleIds: { admin: number; user: number; transporteur: number }, passwordHash: string): DemoGenerator {
  return new DemoGenerator({
    plan: makePlan(scale),
    randomSeed: DEFAULT_RANDOM_SEED,
    reference: DEFAULT_REFERENCE,
    settings: loadSettings(process.env),
    passwordHash,
    roleIds,
    offsets: Object.fromEntries(DEMO_TABLES.map((t) => [t, 0])) as Record<DemoTable, number>,
  });
}

/**
 * How the SQLite ceilings treat the schema's secondary indexes (UNIQUE ones included):
 * - `seed`: as `seed demo` does (src/db/bulk.ts: dropped and re-created around each table's load,
 *   inside its transaction; NOT NULL, CHECK and foreign keys checked row by row);
 * - `live`: kept and maintained row by row (each key inserted at its place);
 * - `bare`: dropped and not re-created, foreign keys off — what the rows alone cost SQLite.
 */
type SqliteCeilingMode = 'seed' | 'live' | 'bare';
const SQLITE_CEILING_MODES: readonly SqliteCeilingMode[] = ['seed', 'live', 'bare'];

/**
 * A SQLite ceiling: each table's rows generated into memory first (not timed), then inserted by
 * the seed's own SQLite loader (same statements). Returns rows and seconds (index drops
 * included in the time).
 */
async function sqliteCeiling(file: string, scale: Scale, mode: SqliteCeilingMode): Promise<{ rows: number; seconds: number }> {
  const knex = await connect(parseDatabaseUrl(`sqlite:${file}`, '--db'));
  try {
    await migrateLatest(knex);
    await knex.transaction((trx) => seedRoles(trx));
    const roles = (await knex('roles').select('id', 'name')) as Array<{ id: number; name: string }>;
    const id = (n: string) => roles.find((r) => r.name === n)!.id;
    const settings = loadSettings(process.env);
    const gen = demoGenerator(scale, { admin: id('admin'), user: id('user'), transporteur: id('transporteur') }, await demoPasswordHash(DEMO_PASSWORD, settings.bcryptCost, DEFAULT_RANDOM_SEED));
    if (mode === 'bare') await knex.raw('pragma foreign_keys = off');
    let rows = 0;
    let seconds = 0;
    for (const table of DEMO_TABLES) {
      const mem = new ParamsSink();
      for (const _ of gen.produce(table, mem));
      const values = mem.values;
      const n = mem.pending;
      const width = DEMO_COLUMNS[table].length;
      const job: BulkJob = {
        table,
        columns: DEMO_COLUMNS[table],
        rows: n,
        *produce(sink: RowSink) {
          const ps = sink as ParamsSink;
          for (let i = 0; i < n; i += CHUNK_ROWS) {
            const j = Math.min(n, i + CHUNK_ROWS);
            ps.values = values.slice(i * width, j * width);
            ps.pending = j - i;
            yield;
          }
        },
      };
      const t0 = performance.now();
      if (mode === 'bare') {
        const indexes = (await knex.raw("select name from sqlite_master where type = 'index' and tbl_name = ? and sql is not null", [table])) as Array<{ name: string }>;
        for (const ix of indexes) await knex.raw(`drop index "${ix.name}"`);
      }
      // The loader holds the one SQLite connection: opened per table so the DDL can run between.
      const loader = await openBulkLoader(knex, { sqliteRebuildIndexes: mode === 'seed' });
      try {
        rows += await loader.load(job);
      } finally {
        await loader.close();
      }
      seconds += (performance.now() - t0) / 1000;
    }
    return { rows, seconds };
  } finally {
    await knex.destroy();
  }
}

const MB = 1024 * 1024;

const bench: BenchModule = {
  title: 'seed demo: generation + bulk load (MariaDB vs its LOAD DATA ceiling, SQLite, memory)',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const scale: Scale = ctx.size === 'small' ? 'small' : 'medium';
    const full = scale === 'medium';
    // The machine may be shared: each measure is repeated, interleaved with the others, and the
    // best run kept (noise only ever slows a run down).
    const reps = Math.max(1, Number(process.env.BENCH_SEED_REPEAT ?? (full ? 3 : 1)));
    const server = ctx.mysqlUrl;
    const tag = `${process.pid}_${Date.now().toString(36)}`;
    let serial = 0;
    const dbName = (what: string) => `bt_bench_${what}_${tag}_${++serial}`;
    const created: string[] = [];
    const fresh = async (what: string) => {
      const name = dbName(what);
      created.push(name);
      const db = await freshMysql(server, name, true);
      await db.knex!.destroy();
      return { name, url: db.url };
    };
    const results: BenchResult[] = [];
    const best = (runs: CliRun[]) => runs.reduce((a, b) => (b.json.total_rows / b.wallSeconds > a.json.total_rows / a.wallSeconds ? b : a));
    const rate = (r: CliRun) => r.json.total_rows / r.wallSeconds;
    const list = (values: number[]) => values.map((v) => Math.round(v).toLocaleString('en')).join(', ');
    try {
      // The TSV files of the ceiling: the very rows the seed writes (same seed, reference time,
      // settings, role ids: every fresh database gets roles 1-3 the same way).
      const probe = await freshMysql(server, dbName('roles'), true);
      created.push(`bt_bench_roles_${tag}_${serial}`);
      const roles = (await probe.knex!('roles').select('id', 'name')) as Array<{ id: number; name: string }>;
      await probe.knex!.destroy();
      const roleId = (n: string) => roles.find((r) => r.name === n)!.id;
      ctx.log('writing the rows as TSV files for the ceiling (not timed)');
      const files = await writeTsvFiles(path.join(ctx.scratchDir, 'tsv'), scale, { admin: roleId('admin'), user: roleId('user'), transporteur: roleId('transporteur') });
      const fileRows = files.reduce((n, f) => n + f.rows, 0);

      const two: CliRun[] = [];
      const one: CliRun[] = [];
      const ceilings: number[] = [];
      let keep: { name: string; url: string } | null = null;
      for (let i = 0; i < reps; i++) {
        ctx.log(`MariaDB round ${i + 1}/${reps}: seed demo --scale ${scale} (default), LOAD DATA of the files, seed demo on one connection`);
        const a = await fresh('seed');
        two.push(await runCli(['seed', 'demo', '--scale', scale], { DATABASE_URL: a.url }, ctx.scratchDir));
        if (i === 0) keep = a;
        else await dropMysql(server, a.name);
        if (two[i]!.json.total_rows !== fileRows) throw new Error(`the TSV files hold ${fileRows} rows, the seed wrote ${two[i]!.json.total_rows}`);

        const c = await fresh('ceil');
        const knex = await connect(parseDatabaseUrl(c.url, '--db'));
        try {
          ceilings.push(fileRows / (await loadFiles(knex, files)));
        } finally {
          await knex.destroy();
        }
        await dropMysql(server, c.name);

        const o = await fresh('one');
        one.push(await runCli(['seed', 'demo', '--scale', scale], { DATABASE_URL: o.url, BILLETTIGUE_SEED_LANES: '1' }, ctx.scratchDir));
        await dropMysql(server, o.name);
      }
      rmSync(path.join(ctx.scratchDir, 'tsv'), { recursive: true, force: true });
      const ours = best(two);
      const overall = rate(ours);
      const ceiling = Math.max(...ceilings);
      const ratio = overall / ceiling;
      results.push({
        name: `MariaDB seed demo --scale ${scale} (${ours.json.loader}, ${ours.json.connections} connections), overall wall clock, best of ${reps}`,
        value: overall,
        unit: 'rows/s',
        target: full ? '>= 100000 rows/s' : undefined,
        ok: full ? overall >= 100_000 : undefined,
        note: `${ours.json.total_rows} rows in ${ours.wallSeconds.toFixed(2)} s incl. start-up and bcrypt; runs: ${list(two.map(rate))}`,
      });
      results.push({ name: 'MariaDB seed demo, generation + load phase only (same run)', value: ours.json.rows_per_second, unit: 'rows/s', note: `${ours.json.seconds} s` });
      results.push({
        name: `LOAD DATA LOCAL INFILE of the same rows from TSV files (ceiling), best of ${reps}`,
        value: ceiling,
        unit: 'rows/s',
        note: `one statement per table, files written beforehand; runs: ${list(ceilings)}`,
      });
      results.push({
        name: `seed demo (default, ${ours.json.connections} connections, overall) / LOAD DATA ceiling`,
        value: ratio,
        unit: '×',
        ratio,
        target: full ? '>= 0.8' : undefined,
        ok: full ? ratio >= 0.8 : undefined,
      });
      const single = best(one);
      results.push({
        name: `MariaDB seed demo on one connection (like for like), overall, best of ${reps}`,
        value: rate(single),
        unit: 'rows/s',
        ratio: rate(single) / ceiling,
        note: `ratio vs the ceiling; runs: ${list(one.map(rate))}`,
      });
      const peak = Math.max(...two.map((r) => r.maxRssBytes), ...one.map((r) => r.maxRssBytes));
      results.push({ name: `MariaDB seed demo --scale ${scale}, peak memory`, value: peak / MB, unit: 'MB', target: '< 300 MB', ok: peak < 300 * MB });

      // The INSERT fallback, for reference.
      const f = await fresh('ins');
      ctx.log('MariaDB: seed demo with the INSERT fallback');
      const ins = await runCli(['seed', 'demo', '--scale', scale], { DATABASE_URL: f.url, BILLETTIGUE_SEED_LOADER: 'insert' }, ctx.scratchDir);
      await dropMysql(server, f.name);
      results.push({ name: 'MariaDB seed demo, multi-row INSERT fallback, overall', value: rate(ins), unit: 'rows/s', ratio: rate(ins) / ceiling, note: 'ratio vs the LOAD DATA ceiling' });

      // Invariants of what was seeded (after timing).
      const knex = await connect(parseDatabaseUrl(keep!.url, '--db'));
      try {
        const checks = await checkInvariants(knex, loadSettings(process.env), { reference: DEFAULT_REFERENCE });
        const broken = checks.filter((c) => c.violations > 0);
        results.push({
          name: `invariants of the MariaDB ${scale} seed (${checks.length} checks)`,
          value: broken.reduce((n, c) => n + c.violations, 0),
          unit: 'violations',
          target: '0',
          ok: broken.length === 0,
          note: broken.map((c) => c.name).join('; ') || undefined,
        });
      } finally {
        await knex.destroy();
      }
      await dropMysql(server, keep!.name);

      // SQLite: the seed and the same rows inserted by the same loader from memory, interleaved.
      const lite: CliRun[] = [];
      const liteCeilings: Record<SqliteCeilingMode, number[]> = { seed: [], live: [], bare: [] };
      for (let i = 0; i < reps; i++) {
        ctx.log(`SQLite round ${i + 1}/${reps}: seed demo --scale ${scale}, then the insert ceiling`);
        const file = path.join(ctx.scratchDir, `seed-${i}.sqlite3`);
        const sqlite = await connect(parseDatabaseUrl(`sqlite:${file}`, '--db'));
        await migrateLatest(sqlite);
        await sqlite.transaction((trx) => seedRoles(trx));
        await sqlite.destroy();
        lite.push(await runCli(['seed', 'demo', '--scale', scale], { DATABASE_URL: `sqlite:${file}` }, ctx.scratchDir));
        for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
        for (const mode of SQLITE_CEILING_MODES) {
          const f = path.join(ctx.scratchDir, `ceiling-${mode}-${i}.sqlite3`);
          const c = await sqliteCeiling(f, scale, mode);
          liteCeilings[mode].push(c.rows / c.seconds);
          for (const suffix of ['', '-wal', '-shm']) rmSync(f + suffix, { force: true });
        }
      }
      const bestLite = best(lite);
      const liteRate = rate(bestLite);
      const liteCeil = Math.max(...liteCeilings.seed);
      results.push({
        name: `SQLite seed demo --scale ${scale}, overall wall clock, best of ${reps}`,
        value: liteRate,
        unit: 'rows/s',
        target: full ? '>= 150000 rows/s' : undefined,
        ok: full ? liteRate >= 150_000 : undefined,
        note: `${bestLite.json.total_rows} rows in ${bestLite.wallSeconds.toFixed(2)} s; peak ${Math.round(Math.max(...lite.map((r) => r.maxRssBytes)) / MB)} MB; runs: ${list(lite.map(rate))}`,
      });
      results.push({
        name: `SQLite insert ceiling: the seed's loader on rows generated beforehand (indexes re-created per table), best of ${reps}`,
        value: liteCeil,
        unit: 'rows/s',
        note: `the seed without its generation; runs: ${list(liteCeilings.seed)}`,
      });
      const liveCeil = Math.max(...liteCeilings.live);
      results.push({
        name: `SQLite insert ceiling with the indexes kept live (each key inserted at its place), best of ${reps}`,
        value: liveCeil,
        unit: 'rows/s',
        ratio: liteCeil / liveCeil,
        note: `ratio: the seed's loader / this; runs: ${list(liteCeilings.live)}`,
      });
      results.push({
        name: `SQLite insert ceiling, bare tables (no secondary index, FK off), best of ${reps}`,
        value: Math.max(...liteCeilings.bare),
        unit: 'rows/s',
        note: `what the rows alone cost SQLite; runs: ${list(liteCeilings.bare)}`,
      });
      results.push({ name: 'SQLite seed demo (overall) / SQLite insert ceiling', value: liteRate / liteCeil, unit: '×', ratio: liteRate / liteCeil });

      // Large, on request: memory must stay flat.
      if (process.env.BENCH_SEED_LARGE === '1') {
        const l = await fresh('large');
        ctx.log('MariaDB: seed demo --scale large');
        const large = await runCli(['seed', 'demo', '--scale', 'large'], { DATABASE_URL: l.url }, ctx.scratchDir);
        await dropMysql(server, l.name);
        results.push({
          name: 'MariaDB seed demo --scale large, overall wall clock',
          value: rate(large),
          unit: 'rows/s',
          note: `${large.json.total_rows} rows in ${large.wallSeconds.toFixed(1)} s`,
        });
        results.push({ name: 'MariaDB seed demo --scale large, peak memory', value: large.maxRssBytes / MB, unit: 'MB', target: '< 300 MB', ok: large.maxRssBytes < 300 * MB });
      }
      return results;
    } finally {
      for (const n of created) await dropMysql(server, n).catch(() => undefined);
    }
  },
};

export default bench;
