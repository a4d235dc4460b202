/**
 * Start-up as whole processes (issue 2): median of 10 runs of `node -e 0`, `billettigue --help`
 * and `billettigue db status` against MariaDB, measured in the same run; reported as ratios.
 * Targets: --help ≤ 2.5× node, db status ≤ 4× node.
 */
import { spawnSync } from 'node:child_process';
import { BIN, median } from './support/process.js';
import type { BenchModule, BenchResult } from './types.js';


function time(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

const bench: BenchModule = {
  title: 'start-up (whole processes, median of 10)',
  async run(ctx) {
    const runs = 10;
    const dbName = `bt_bench_startup_${process.pid}`;
    const url = `${ctx.mysqlUrl}/${dbName}`;
    const env = { ...process.env, NO_COLOR: '1', DATABASE_URL: url };
    // A migrated database to ask the status of.
    for (const args of [['db', 'create'], ['db', 'migrate']]) {
      const r = spawnSync(process.execPath, [BIN, ...args], { env, stdio: 'pipe' });
      if (r.status !== 0) throw new Error(`billettigue ${args.join(' ')} failed: ${r.stderr.toString()}`);
    }
    try {
      const node: number[] = [];
      const help: number[] = [];
      const status: number[] = [];
      // Warm the file cache once, then interleave so background load hits all three alike.
      time(['-e', '0'], env);
      time([BIN, '--help'], env);
      time([BIN, 'db', 'status'], env);
      for (let i = 0; i < runs; i++) {
        node.push(time(['-e', '0'], env));
        help.push(time([BIN, '--help'], env));
        status.push(time([BIN, 'db', 'status'], env));
      }
      const n = median(node);
      const h = median(help);
      const s = median(status);
      ctx.log(`node -e 0 ${n.toFixed(0)} ms, --help ${h.toFixed(0)} ms, db status ${s.toFixed(0)} ms`);
      const results: BenchResult[] = [
        { name: 'node -e 0', value: n, unit: 'ms' },
        { name: 'billettigue --help', value: h, unit: 'ms', ratio: h / n, target: '≤ 2.5× node', ok: h / n <= 2.5 },
        { name: 'billettigue db status (MariaDB)', value: s, unit: 'ms', ratio: s / n, target: '≤ 4× node', ok: s / n <= 4 },
      ];
      return results;
    } finally {
      spawnSync('mariadb', ['-h127.0.0.1', '-uroot', '-e', `DROP DATABASE IF EXISTS \`${dbName}\``]);
    }
  },
};

export default bench;
