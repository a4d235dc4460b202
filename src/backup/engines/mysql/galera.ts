/**
 * The MySQL backup side on a MariaDB Galera cluster: the rules of src/backup/engines/mysql/rules.ts
 * as Galera needs them (the session side — causal reads, conflict retries, a node refusing work —
 * is src/db/engines/mysql/galera.ts). What Galera changes, and what billettigue does about it:
 *
 * - GET_LOCK is node-local. The restore/adoption lock of a database is a row of `bt_locks`.`locks`,
 *   written in a replicated transaction (when two nodes write it at once, certification lets one
 *   win and the other reads the winner), naming its owner (host, pid, actor, node, start) for
 *   whoever finds it taken. The owner refreshes a heartbeat every TTL/6; a lock whose heartbeat
 *   is older than the TTL (BILLETTIGUE_LOCK_TTL seconds, default 60) is stale and is taken over.
 *   The owner also holds GET_LOCK on its own node: there, the server knows at once whether the
 *   owner's connection is gone. A restore checks it still holds the lock just before its swap.
 * - Write sets are bounded (wsrep_max_ws_size) and a big one holds up commits on every node while
 *   it is certified and applied: a table loads in chunks (one transaction each) of at most
 *   BILLETTIGUE_MAX_WRITE_SET bytes of rows (default 256 KiB; never over half wsrep_max_ws_size),
 *   and waits while another node has more than PACE_QUEUE write sets received and not applied.
 * - DDL runs in total order (TOI) on every node and aborts whatever transaction holds a metadata
 *   lock on its table, our own readers included, instead of waiting: an index is never built while
 *   another of our connections reads the table, and before the swap's RENAME TABLE every node is
 *   asked for open transactions in the live database. The swap waits for them to end
 *   (BILLETTIGUE_SWAP_WAIT seconds, default 30), then refuses (exit 4) rather than abort them.
 *   Galera offers no way to make the RENAME itself wait: a transaction that starts on the live
 *   tables in the instant between the check and the RENAME is aborted (its client sees a
 *   deadlock error and retries).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { MysqlTarget } from '../../../db/config.js';
import { restoreLockName } from '../../../db/leftovers.js';
import { driverText } from '../../../db/engines/driver-error.js';
import { Conflict, InvalidInput, Unavailable } from '../../../domain/errors.js';
import type { LockOptions } from '../types.js';
import type { LoadPacer, MysqlRules } from './rules.js';
import { closeQuietly, openMysql, rows, run, type OkPacket, type RawConnection } from './conn.js';
import { deferIndexesFromEnv } from './defer.js';

const MiB = 1 << 20;
export const DEFAULT_WRITE_SET_BYTES = 256 << 10;
const LOCKS = '`bt_locks`.`locks`';

function envNumber(name: string, fallback: number, min: number, max: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const m = /^(\d+)\s*([kmg]i?b?)?$/i.exec(raw.trim());
  const unit = { k: 1 << 10, m: MiB, g: 1 << 30 }[(m?.[2]?.[0] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  const n = m ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new InvalidInput(`${name}=${raw} is invalid: expected a whole number from ${min} to ${max}`);
  }
  return n;
}

/** Seconds without a heartbeat after which a cluster lock is stale. */
export function lockTtlSeconds(env?: NodeJS.ProcessEnv): number {
  return envNumber('BILLETTIGUE_LOCK_TTL', 60, 5, 86_400, env);
}

// ---- the cluster-wide lock ------------------------------------------------------------------

interface LockRow {
  name: string;
  token: string;
  purpose: string;
  owner_host: string;
  owner_pid: number;
  owner_user: string;
  node: string;
  node_id: string;
  started_at: string;
  /** Seconds since started_at / heartbeat_at, by the clock of the node that answers. */
  age: number;
  beat: number;
}

interface Node {
  name: string;
  /** hostname:port of the mariadbd: the same on every connection to this node. */
  id: string;
}

async function thisNode(conn: RawConnection): Promise<Node> {
  const [n] = await rows<{ name: string; id: string }>(conn, "SELECT @@wsrep_node_name AS name, CONCAT(@@hostname, ':', @@port) AS id");
  return { name: n!.name, id: n!.id };
}

async function ensureLockTable(conn: RawConnection): Promise<void> {
  const [t] = await rows<{ n: number }>(conn, "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'bt_locks' AND table_name = 'locks'");
  if (Number(t?.n) > 0) return;
  // DDL (TOI, replicated): only the first lock ever taken on this cluster creates them.
  await run(conn, 'CREATE DATABASE IF NOT EXISTS `bt_locks` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
  await run(
    conn,
    `CREATE TABLE IF NOT EXISTS ${LOCKS} (
      name VARCHAR(191) NOT NULL PRIMARY KEY,
      token CHAR(32) NOT NULL,
      purpose VARCHAR(64) NOT NULL,
      owner_host VARCHAR(255) NOT NULL,
      owner_pid INT UNSIGNED NOT NULL,
      owner_user VARCHAR(255) NOT NULL,
      node VARCHAR(255) NOT NULL,
      node_id VARCHAR(255) NOT NULL,
      connection_id BIGINT UNSIGNED NOT NULL,
      started_at DATETIME(6) NOT NULL,
      heartbeat_at DATETIME(6) NOT NULL
    ) ENGINE=InnoDB`,
  );
}

async function readLock(conn: RawConnection, name: string, forUpdate = false): Promise<LockRow | null> {
  const [r] = await rows<LockRow>(
    conn,
    `SELECT name, token, purpose, owner_host, owner_pid, owner_user, node, node_id, DATE_FORMAT(started_at, '%Y-%m-%dT%H:%i:%sZ') AS started_at,
            TIMESTAMPDIFF(MICROSECOND, started_at, UTC_TIMESTAMP(6)) / 1e6 AS age,
            TIMESTAMPDIFF(MICROSECOND, heartbeat_at, UTC_TIMESTAMP(6)) / 1e6 AS beat
       FROM ${LOCKS} WHERE name = ?${forUpdate ? ' FOR UPDATE' : ''}`,
    [name],
  );
  return r ? { ...r, age: Number(r.age), beat: Number(r.beat) } : null;
}

/** "pid 4242 on ops-1 (alice) through node node1, since …Z (12 s ago, last heartbeat 3 s ago)" */
function describeOwner(r: LockRow): string {
  return `pid ${r.owner_pid} on ${r.owner_host} (${r.owner_user}) through node ${r.node}, since ${r.started_at} (${Math.round(r.age)} s ago, last heartbeat ${Math.round(r.beat)} s ago)`;
}

function isConflictAbort(err: unknown): boolean {
  const errno = (err as { errno?: number })?.errno;
  return errno === 1213 || errno === 1062;
}

async function acquireClusterLock(conn: RawConnection, target: MysqlTarget, options: LockOptions): Promise<{ token: string; notice?: string; name: string; me: Node }> {
  const name = options.name ?? restoreLockName(target.database);
  const purpose = options.purpose ?? 'restore';
  const ttl = lockTtlSeconds();
  await ensureLockTable(conn);
  const me = await thisNode(conn);
  const held = (r: LockRow) =>
    new Conflict(`another ${r.purpose} of ${target.display} is running: ${describeOwner(r)}; wait for it to finish (a lock without heartbeat for ${ttl} s is taken over)`, {
      code: 'restore_running',
      details: { owner_pid: r.owner_pid, owner_host: r.owner_host, owner_user: r.owner_user, node: r.node, started_at: r.started_at, purpose: r.purpose },
    });
  const [g] = await rows<{ got: number | null }>(conn, 'SELECT GET_LOCK(?, 0) AS got', [name]);
  if (g?.got !== 1) {
    // Its holder is on this very node: the row names it (unless it is between GET_LOCK and its INSERT).
    const r = await readLock(conn, name);
    if (r) throw held(r);
    throw new Conflict(`another restore of ${target.display} is starting through this node (lock ${name} is held): wait for it to finish`, { code: 'restore_running' });
  }
  const token = randomBytes(16).toString('hex');
  const owner = [purpose, os.hostname(), process.pid, options.actor ?? process.env.BILLETTIGUE_ACTOR ?? os.userInfo().username, me.name, me.id];
  let notice: string | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      await run(conn, 'START TRANSACTION');
      const r = await readLock(conn, name, true);
      if (r) {
        // This node's GET_LOCK is ours: an owner that took the lock through this node is gone.
        const goneHere = r.node_id === me.id;
        if (!goneHere && r.beat <= ttl) throw held(r);
        notice = `took over the ${r.purpose} lock of ${target.display} from ${describeOwner(r)}: ${goneHere ? 'its connection to that node is gone' : `no heartbeat for over ${ttl} s`}`;
        await run(
          conn,
          `UPDATE ${LOCKS} SET token = ?, purpose = ?, owner_host = ?, owner_pid = ?, owner_user = ?, node = ?, node_id = ?, connection_id = CONNECTION_ID(),
                  started_at = UTC_TIMESTAMP(6), heartbeat_at = UTC_TIMESTAMP(6) WHERE name = ? AND token = ?`,
          [token, ...owner, name, r.token],
        );
      } else {
        await run(
          conn,
          `INSERT INTO ${LOCKS} (name, token, purpose, owner_host, owner_pid, owner_user, node, node_id, connection_id, started_at, heartbeat_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, CONNECTION_ID(), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))`,
          [name, token, ...owner],
        );
      }
      await run(conn, 'COMMIT');
      return { token, notice, name, me };
    } catch (err) {
      await run(conn, 'ROLLBACK').catch(() => undefined);
      // Another node wrote the row at the same moment and won certification: read it again.
      if (isConflictAbort(err) && attempt < 20) {
        await new Promise((r) => setTimeout(r, 20 * attempt));
        continue;
      }
      throw err;
    }
  }
}

// ---- open transactions before the swap ------------------------------------------------------

interface OpenTransaction {
  id: number;
  user: string;
  host: string;
  age: number;
}

/** Transactions open in `live` on the node of `conn` (sessions using it; exact tables when metadata_lock_info is installed). */
async function openTransactions(conn: RawConnection, live: string): Promise<OpenTransaction[]> {
  const base = `SELECT p.id AS id, p.user AS user, p.host AS host, TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS age
                  FROM information_schema.innodb_trx t JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id
                 WHERE p.id <> CONNECTION_ID() AND p.command <> 'Daemon' AND p.user <> 'system user'`;
  const byDb = await rows<OpenTransaction>(conn, `${base} AND p.db = ?`, [live]);
  const byLock = await rows<OpenTransaction>(
    conn,
    `${base} AND p.id IN (SELECT thread_id FROM information_schema.metadata_lock_info WHERE table_schema = ?)`,
    [live],
  ).catch(() => [] as OpenTransaction[]); // the plugin is not installed: sessions using the database only
  const seen = new Map<number, OpenTransaction>();
  for (const t of [...byDb, ...byLock]) seen.set(Number(t.id), { ...t, id: Number(t.id), age: Number(t.age) });
  return [...seen.values()];
}

interface ClusterNode {
  address: string;
  conn: RawConnection;
  own: boolean;
}

/** A connection to every node of the cluster (the SQL addresses they publish), this one included. */
async function connectNodes(conn: RawConnection, target: MysqlTarget, onWarning?: (m: string) => void): Promise<ClusterNode[]> {
  const [a] = await rows<{ Value: string }>(conn, "SHOW STATUS LIKE 'wsrep_incoming_addresses'");
  const [mine] = await rows<{ Value: string }>(conn, "SHOW STATUS LIKE 'wsrep_gcomm_uuid'");
  const nodes: ClusterNode[] = [{ address: `${target.host}:${target.port}`, conn, own: true }];
  for (const address of (a?.Value ?? '').split(',').map((s) => s.trim()).filter((s) => s && s !== 'AUTO')) {
    const m = /^(.*):(\d+)$/.exec(address);
    if (!m) continue;
    try {
      const c = await openMysql({ ...target, host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) }, null);
      const [u] = await rows<{ Value: string }>(c, "SHOW STATUS LIKE 'wsrep_gcomm_uuid'");
      if (u?.Value === mine?.Value) await closeQuietly(c);
      else nodes.push({ address, conn: c, own: false });
    } catch (err) {
      onWarning?.(`could not reach the cluster node at ${address} to look for open transactions (${driverText(err)}): transactions open there would be aborted by the swap`);
    }
  }
  return nodes;
}

/** Write sets a node may have received and not yet applied before a load sends the next one. */
export const PACE_QUEUE = 2;

/**
 * Holds a load back while another node lags: a node's own commits wait until it has applied every
 * write set ordered before them, so its backlog is their latency. Galera's flow control bounds it
 * too, but in write sets (gcs.fc_limit, often raised), not in time.
 */
async function nodePacer(conn: RawConnection, target: MysqlTarget): Promise<LoadPacer> {
  const others = (await connectNodes(conn, target)).filter((n) => !n.own);
  let checked = 0;
  let checking: Promise<void> | null = null;
  const backlog = async () => {
    for (;;) {
      let worst = 0;
      for (const n of others) {
        const [q] = await rows<{ Value: string }>(n.conn, "SHOW STATUS LIKE 'wsrep_local_recv_queue'").catch(() => [{ Value: '0' }]);
        worst = Math.max(worst, Number(q?.Value ?? 0));
      }
      if (worst <= PACE_QUEUE) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return {
    async wait() {
      // Loaders running side by side share one check at a time.
      if (others.length === 0 || Date.now() - checked < 5) return;
      checking ??= backlog().finally(() => {
        checked = Date.now();
        checking = null;
      });
      await checking;
    },
    async close() {
      for (const n of others) await closeQuietly(n.conn);
    },
  };
}

export function swapWaitSeconds(env?: NodeJS.ProcessEnv): number {
  return envNumber('BILLETTIGUE_SWAP_WAIT', 30, 0, 86_400, env);
}

async function waitForQuiet(conn: RawConnection, target: MysqlTarget, live: string, onStep?: (m: string) => void, onWarning?: (m: string) => void): Promise<void> {
  const wait = swapWaitSeconds();
  const nodes = await connectNodes(conn, target, onWarning);
  try {
    const deadline = Date.now() + wait * 1000;
    let told = false;
    for (;;) {
      const open: string[] = [];
      for (const n of nodes) {
        for (const t of await openTransactions(n.conn, live)) open.push(`connection ${t.id} of ${t.user}@${t.host} on ${n.address}, open ${t.age} s`);
      }
      if (open.length === 0) return;
      if (Date.now() >= deadline) {
        throw new Conflict(
          `${open.length} transaction${open.length > 1 ? 's are' : ' is'} still open in ${live} after ${wait} s (${open.slice(0, 5).join('; ')}): on a Galera cluster the swap's RENAME TABLE would abort ${open.length > 1 ? 'them' : 'it'} on every node; nothing was swapped: retry when ${open.length > 1 ? 'they end' : 'it ends'} (BILLETTIGUE_SWAP_WAIT sets the wait)`,
          { code: 'transactions_open' },
        );
      }
      if (!told) {
        told = true;
        onStep?.(`waiting up to ${wait} s for ${open.length} open transaction${open.length > 1 ? 's' : ''} in ${live} to end before the swap: ${open.slice(0, 3).join('; ')}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    for (const n of nodes) if (!n.own) await closeQuietly(n.conn);
  }
}

export const galeraRules: MysqlRules = {
  name: 'galera',

  async writeSetBytes(conn) {
    const [v] = await rows<{ max: number | string }>(conn, 'SELECT @@wsrep_max_ws_size AS max');
    const wanted = envNumber('BILLETTIGUE_MAX_WRITE_SET', DEFAULT_WRITE_SET_BYTES, 64 << 10, 2 ** 31 - 1);
    return Math.max(64 << 10, Math.min(wanted, Math.floor(Number(v?.max ?? 2 ** 31 - 1) / 2)));
  },

  // TOI: the ALTER would abort our own reader of the table (on every node) instead of waiting.
  alterAlongsideReads: false,

  // An index build is DDL: every commit on every node waits for it (seconds for a table of 100k
  // rows). Rows go into tables with their indexes, unless told otherwise.
  deferIndexesFrom: () => deferIndexesFromEnv(),

  loadPacer: (conn, target) => nodePacer(conn, target),

  async acquireLock(conn, target, options) {
    let lock: Awaited<ReturnType<typeof acquireClusterLock>>;
    try {
      lock = await acquireClusterLock(conn, target, options);
    } catch (err) {
      await closeQuietly(conn);
      const errno = (err as { errno?: number }).errno;
      if (errno === 1044 || errno === 1142) {
        throw new Unavailable(
          `on a Galera cluster the restore lock is a row of bt_locks.locks, and ${target.user} may not use it (${driverText(err)}): GRANT CREATE, SELECT, INSERT, UPDATE, DELETE ON bt_locks.* TO that user`,
          { code: 'lock_denied', cause: err },
        );
      }
      throw err;
    }
    const { token, name } = lock;
    const purpose = options.purpose ?? 'restore';
    const ttl = lockTtlSeconds();
    let lost: string | null = null;
    let beating: Promise<void> | null = null;
    const beat = async () => {
      try {
        const r = await run<OkPacket>(conn, `UPDATE ${LOCKS} SET heartbeat_at = UTC_TIMESTAMP(6) WHERE name = ? AND token = ?`, [name, token]);
        if (r.affectedRows === 0) lost ??= 'another process took it over after its heartbeat had stopped';
      } catch (err) {
        if (!isConflictAbort(err)) lost ??= `its connection failed (${driverText(err)})`;
      }
    };
    const timer = setInterval(() => {
      beating ??= beat().finally(() => (beating = null));
    }, (ttl * 1000) / 6);
    timer.unref();
    let released = false;
    return {
      notice: lock.notice,
      async assertHeld() {
        await beating;
        if (!lost) {
          const r = await readLock(conn, name).catch((err: unknown) => {
            lost = `its connection failed (${driverText(err)})`;
            return null;
          });
          if (!lost && r?.token !== token) lost = r ? `taken over by ${describeOwner(r)}` : 'its row is gone';
        }
        if (lost) throw new Conflict(`the ${purpose} lock of ${target.display} was lost (${lost}): nothing was swapped`, { code: 'lock_lost' });
      },
      async release() {
        if (released) return;
        released = true;
        clearInterval(timer);
        await beating;
        await run(conn, `DELETE FROM ${LOCKS} WHERE name = ? AND token = ?`, [name, token]).catch(() => undefined);
        await rows(conn, 'SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined);
        await closeQuietly(conn);
      },
    };
  },

  async lockHeld(conn, name) {
    const [used] = await rows<{ used: number | null }>(conn, 'SELECT IS_USED_LOCK(?) AS used', [name]);
    if (used?.used !== null && used?.used !== undefined) return true;
    const [t] = await rows<{ n: number }>(conn, "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'bt_locks' AND table_name = 'locks'");
    if (!Number(t?.n)) return false;
    const r = await readLock(conn, name);
    if (!r) return false;
    // Taken through this node but its GET_LOCK is free: the owner is gone.
    if (r.node_id === (await thisNode(conn)).id) return false;
    return r.beat <= lockTtlSeconds();
  },

  beforeSwap: (conn, target, live, onStep, onWarning) => waitForQuiet(conn, target, live, onStep, onWarning),
};
