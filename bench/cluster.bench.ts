/**
 * A restore replicating through a MariaDB Galera cluster (test/cluster/galera.sh: three nodes on
 * 127.0.0.1:3311-3313, started unless already up, stopped afterwards if started here).
 *
 * Data: `seed demo --scale medium` (≈ 1M rows; BENCH_SIZE=small: scale small, ≈ 50k) made on the
 * standalone server (BENCH_MYSQL_URL) and backed up there; every restore below loads it into one
 * database of the cluster through node 1.
 * Measured: single-row commits on node 2 (an autocommit UPDATE of one row, back to back with 10 ms
 * pauses) — alone, while the restore replicates (target: p99 < 1 s), while `backup verify --deep`
 * loads the same file, and while a restore takes the deferred-index path
 * (BILLETTIGUE_DEFER_INDEXES_FROM_ROWS=20000: an index build is DDL every node's commits wait for).
 * Beside them, on the same node in the same run: `billettigue backup` vs `mariadb-dump
 * --single-transaction | gzip -1`, and the restore vs `gunzip | mariadb` (node 2's commits probed
 * meanwhile too). Every figure notes the load average (1 min) when it was taken.
 * Then BENCH_CLUSTER_REPEAT (default 10) restores and deep verifies on that deferred-index path at
 * this size, counted: every one must succeed (no DDL beside our own readers).
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { BenchContext, BenchModule, BenchResult } from './types.js';
import { BIN, timed } from './support/process.js';
import { ensureCluster, galeraMissing, holdCluster, nodeServer, stopCluster } from './support/cluster.js';

interface Exit {
  code: number | null;
  seconds: number;
  stderr: string;
}

function cli(args: string[], url: string, env: Record<string, string> = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', BILLETTIGUE_ACTOR: 'bench', DATABASE_URL: url, ...env },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, seconds: (performance.now() - t0) / 1000, stderr }));
  });
}

async function must(p: Promise<Exit>, what: string): Promise<Exit> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
  return r;
}

interface Latency {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Single-row commits on one node, until stopped. */
async function probe(port: number): Promise<{ stop(): Promise<Latency> }> {
  const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
  await conn.query('CREATE DATABASE IF NOT EXISTS bt_bench_probe');
  await conn.query('CREATE TABLE IF NOT EXISTS bt_bench_probe.t (id INT PRIMARY KEY, v BIGINT NOT NULL)');
  await conn.query('INSERT IGNORE INTO bt_bench_probe.t VALUES (1, 0)');
  const ms: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      await conn.query('UPDATE bt_bench_probe.t SET v = v + 1 WHERE id = 1');
      ms.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await conn.end();
      const s = [...ms].sort((a, b) => a - b);
      const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
      return { n: s.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: s[s.length - 1] ?? NaN };
    },
  };
}

async function whileProbing<T>(fn: () => Promise<T>): Promise<{ result: T; latency: Latency }> {
  const p = await probe(3312);
  try {
    const result = await fn();
    return { result, latency: await p.stop() };
  } catch (err) {
    await p.stop();
    throw err;
  }
}

const fmt = (l: Latency) => `p50 ${l.p50.toFixed(0)} ms, p95 ${l.p95.toFixed(0)} ms, max ${l.max.toFixed(0)} ms over ${l.n} commits`;

/** The 1-minute load average now: the machine is shared, so every figure says how busy it was. */
const load = () => `load ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`;

const bench: BenchModule = {
  title: 'Galera cluster: single-row commits on another node while a restore replicates; deferred-index restores and deep verifies',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const missing = galeraMissing();
    if (missing) return [{ name: 'cluster', value: NaN, unit: '', note: `skipped: ${missing}` }];
    const out: BenchResult[] = [];
    const repeat = Math.max(1, Number(process.env.BENCH_CLUSTER_REPEAT ?? 10));
    const release = await holdCluster();
    let started = false;
    const id = Date.now().toString(36);
    const src = `bt_bench_cl_${id}_src`;
    const live = `bt_bench_cl_${id}`;
    const dir = path.join(ctx.scratchDir, 'backups');
    const standalone = await mysql.createConnection({ uri: ctx.mysqlUrl });
    const node1 = () => mysql.createConnection({ host: '127.0.0.1', port: 3311, user: 'root' });
    try {
      started = ensureCluster();
      ctx.log(started ? 'cluster started' : 'cluster already up');

      // ---- data: the demo seed, backed up on the standalone server ---------------------------
      const scale = ctx.size === 'small' ? 'small' : 'medium';
      const srcUrl = `${ctx.mysqlUrl}/${src}`;
      await must(cli(['db', 'create'], srcUrl), 'db create');
      await must(cli(['db', 'migrate'], srcUrl), 'db migrate');
      await must(cli(['db', 'seed'], srcUrl), 'db seed');
      const seeded = await must(cli(['seed', 'demo', '--scale', scale, '--yes'], srcUrl), 'seed demo');
      await must(cli(['backup', '--dir', dir, '--name', 'cluster'], srcUrl), 'backup');
      const file = path.join(dir, 'cluster.sql.gz');
      // Not "AS rows": ROWS is a reserved word in MariaDB.
      const [[{ n: rows }]] = (await standalone.query('SELECT SUM(table_rows) AS n FROM information_schema.tables WHERE table_schema = ?', [src])) as unknown as [[{ n: number }]];
      ctx.log(`data: seed demo --scale ${scale} in ${seeded.seconds.toFixed(1)} s (≈ ${Number(rows).toLocaleString('en')} rows by the server's estimate)`);
      out.push({ name: `data set: seed demo --scale ${scale}`, value: Number(rows), unit: 'rows', note: "the server's estimate (information_schema.tables)" });
      await standalone.query(`DROP DATABASE IF EXISTS \`${src}\``);
      const liveUrl = url(live);
      await must(cli(['db', 'create'], liveUrl), 'db create (cluster)');
      const restore = (env: Record<string, string> = {}) => cli(['restore', file, '--yes', '--no-safety-backup', '--dir', dir], liveUrl, env);
      const verify = (env: Record<string, string> = {}) => cli(['backup', 'verify', file, '--deep'], liveUrl, env);

      // ---- latency of single-row commits on node 2 ------------------------------------------
      const alone = await whileProbing(() => new Promise((r) => setTimeout(r, 10_000)));
      out.push({ name: 'node 2 single-row commit p99, nothing else running', value: alone.latency.p99, unit: 'ms', note: `${fmt(alone.latency)}; ${load()}` });

      const restored = await whileProbing(() => must(restore(), 'restore'));
      ctx.log(`restore: ${restored.result.seconds.toFixed(1)} s; node 2 commits ${fmt(restored.latency)}, p99 ${restored.latency.p99.toFixed(0)} ms`);
      out.push({ name: `restore through node 1 (${scale}: load, verify, swap)`, value: restored.result.seconds, unit: 's', note: `write sets ≤ 256 KiB, paced on the other nodes' apply queues, indexes loaded with the rows; ${load()}` });
      out.push({
        name: 'node 2 single-row commit p99 while the restore replicates',
        value: restored.latency.p99,
        unit: 'ms',
        target: '< 1000 ms',
        ok: restored.latency.p99 < 1000,
        note: `${fmt(restored.latency)}; ${load()}`,
      });

      // ---- the stock tools on the same node, same data -----------------------------------------
      const node1Cli = '-h 127.0.0.1 -P 3311 -u root';
      const ours = await must(cli(['backup', '--dir', dir, '--name', 'from-cluster'], liveUrl), 'backup (cluster)');
      out.push({ name: 'backup through node 1: billettigue backup', value: ours.seconds, unit: 's', note: `causal snapshot; ${(statSync(path.join(dir, 'from-cluster.sql.gz')).size / 2 ** 20).toFixed(1)} MiB; ${load()}` });
      ctx.log(`backup through node 1: ${ours.seconds.toFixed(1)} s; ${load()}`);
      const stockFile = path.join(ctx.scratchDir, 'stock.sql.gz');
      // LOCK TABLES left out of the dump: a `mariadb` restore of it on a Galera node would run them, which Galera does not support.
      const dumped = await timed('bash', ['-c', `set -o pipefail; mariadb-dump ${node1Cli} --single-transaction --skip-add-locks ${live} | gzip -1 > ${stockFile}`]);
      if (dumped.code !== 0) throw new Error(`mariadb-dump failed: ${dumped.stderr}`);
      out.push({
        name: 'backup through node 1: mariadb-dump --single-transaction | gzip -1',
        value: dumped.seconds,
        unit: 's',
        ratio: ours.seconds / dumped.seconds,
        note: `ratio = billettigue / mariadb-dump; ${(statSync(stockFile).size / 2 ** 20).toFixed(1)} MiB; ${load()}`,
      });
      ctx.log(`mariadb-dump through node 1: ${dumped.seconds.toFixed(1)} s; ${load()}`);
      const stockDb = `${live}_stock`;
      const c1 = await node1();
      await c1.query(`CREATE DATABASE \`${stockDb}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await c1.end();
      const stock = await whileProbing(async () => {
        const r = await timed('bash', ['-c', `set -o pipefail; gunzip < ${stockFile} | mariadb ${node1Cli} ${stockDb}`]);
        if (r.code !== 0) throw new Error(`gunzip | mariadb failed: ${r.stderr}`);
        return r;
      });
      ctx.log(`gunzip | mariadb through node 1: ${stock.result.seconds.toFixed(1)} s, node 2 commits ${fmt(stock.latency)}; ${load()}`);
      out.push({
        name: 'restore through node 1: gunzip | mariadb (same data)',
        value: stock.result.seconds,
        unit: 's',
        ratio: restored.result.seconds / stock.result.seconds,
        note: `ratio = billettigue restore / gunzip | mariadb; node 2 commits meanwhile: p99 ${stock.latency.p99.toFixed(0)} ms, ${fmt(stock.latency)}; ${load()}`,
      });

      const verified = await whileProbing(() => must(verify(), 'verify --deep'));
      ctx.log(`verify --deep: ${verified.result.seconds.toFixed(1)} s, node 2 commits ${fmt(verified.latency)}; ${load()}`);
      out.push({ name: 'backup verify --deep through node 1', value: verified.result.seconds, unit: 's', note: `node 2 commits meanwhile: p99 ${verified.latency.p99.toFixed(0)} ms, ${fmt(verified.latency)}; ${load()}` });

      const deferred = { BILLETTIGUE_DEFER_INDEXES_FROM_ROWS: '20000' };
      const fast = await whileProbing(() => must(restore(deferred), 'restore (deferred indexes)'));
      ctx.log(`restore (deferred indexes): ${fast.result.seconds.toFixed(1)} s, node 2 commits ${fmt(fast.latency)}; ${load()}`);
      out.push({
        name: 'restore with deferred indexes (BILLETTIGUE_DEFER_INDEXES_FROM_ROWS=20000)',
        value: fast.result.seconds,
        unit: 's',
        note: `node 2 commits meanwhile: p99 ${fast.latency.p99.toFixed(0)} ms, ${fmt(fast.latency)} (each index build is DDL every node waits for); ${load()}`,
      });

      // ---- the deferred-index path, again and again -------------------------------------------
      let ok = 0;
      const failures: string[] = [];
      for (let i = 0; i < repeat; i++) {
        for (const [what, p] of [
          ['restore', () => restore(deferred)],
          ['verify --deep', () => verify(deferred)],
        ] as const) {
          const r = await p();
          if (r.code === 0) ok++;
          else failures.push(`${what} #${i + 1}: exit ${r.code}: ${r.stderr.trim().split('\n').pop()}`);
          ctx.log(`${what} #${i + 1} (deferred indexes): exit ${r.code} in ${r.seconds.toFixed(1)} s; ${load()}`);
        }
      }
      out.push({
        name: `restores and deep verifies on the deferred-index path (${scale})`,
        value: ok,
        unit: `of ${2 * repeat}`,
        target: 'all succeed',
        ok: ok === 2 * repeat,
        note: `${failures.length ? failures.slice(0, 3).join('; ') : `${repeat} restores + ${repeat} verify --deep, none aborted (BENCH_CLUSTER_REPEAT=${repeat})`}; ${load()}`,
      });
    } finally {
      await standalone.query(`DROP DATABASE IF EXISTS \`${src}\``).catch(() => undefined);
      await standalone.end().catch(() => undefined);
      const c = await node1().catch(() => null);
      if (c) {
        const [dbs] = (await c.query("SELECT schema_name AS n FROM information_schema.schemata WHERE schema_name LIKE '%bench\\_cl\\_%' OR schema_name = 'bt_bench_probe'")) as unknown as [Array<{ n: string }>];
        for (const d of dbs) if (d.n.includes(id) || d.n === 'bt_bench_probe') await c.query(`DROP DATABASE IF EXISTS \`${d.n}\``).catch(() => undefined);
        await c.end();
      }
      try {
        if (started) stopCluster();
      } finally {
        release();
      }
    }
    return out;
  },
};

function url(database: string): string {
  return `${nodeServer(0)}/${database}`;
}

export default bench;
