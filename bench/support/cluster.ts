/**
 * The test cluster of test/cluster/galera.sh (three MariaDB Galera nodes on 127.0.0.1:3311-3313),
 * for the cluster tests (test/cluster.test.ts) and the cluster benchmark (bench/cluster.bench.ts):
 * is galera installed, is the cluster up, start it, stop it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';
export const NODE_PORTS = [3311, 3312, 3313] as const;

/** test/cluster/galera.sh, found from here whether this file runs compiled (dist/) or not. */
function script(): string {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'test', 'cluster', 'galera.sh');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error('test/cluster/galera.sh not found above ' + import.meta.dirname);
  }
}

/** Server URL (no database) of node i (0, 1, 2). */
export function nodeServer(i: number): string {
  return `mysql://root@127.0.0.1:${NODE_PORTS[i % NODE_PORTS.length]}`;
}

/** Why the cluster cannot run here (galera not installed), or null. */
export function galeraMissing(): string | null {
  if (!existsSync(GALERA_PROVIDER)) return `galera is not installed (${GALERA_PROVIDER} is missing; apt-get install galera-4)`;
  return null;
}

function galera(verb: 'up' | 'down' | 'status', timeoutMs: number): { code: number | null; output: string } {
  const r = spawnSync('bash', [script(), verb], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

/** Starts the cluster unless all three nodes are already Synced; true when this call started it. */
export function ensureCluster(): boolean {
  if (galera('status', 15_000).code === 0) return false;
  const r = galera('up', 240_000);
  if (r.code !== 0) throw new Error(`test/cluster/galera.sh up failed (exit ${r.code}):\n${r.output}`);
  return true;
}

export function stopCluster(): void {
  const r = galera('down', 120_000);
  if (r.code !== 0) throw new Error(`test/cluster/galera.sh down failed (exit ${r.code}):\n${r.output}`);
}

/**
 * Holds the cluster for this process alone (an exclusive flock held by a child process, released
 * when it ends or this process dies): the cluster tests change node-wide settings and take nodes
 * out, so two test runs on one machine take turns. Resolves once held; the result releases it.
 */
export async function holdCluster(timeoutMs = 900_000): Promise<() => void> {
  const { spawn } = await import('node:child_process');
  const lock = path.join(process.env.TMPDIR ?? '/tmp', 'billettigue-galera.users.lock');
  const child = spawn('flock', ['-x', '-w', String(Math.ceil(timeoutMs / 1000)), lock, '-c', 'echo held; exec cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const release = () => {
    child.stdin.end();
  };
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('held') && resolve());
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => reject(new Error(`flock is needed to share the test cluster: ${e.message}`)));
    child.on('exit', (code) => reject(new Error(`could not hold the test cluster (flock exit ${code}): ${err.trim() || 'another test run holds it'}`)));
  });
  return release;
}
