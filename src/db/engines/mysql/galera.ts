/**
 * MariaDB Galera Cluster: every rule billettigue follows only when its MySQL connection is a node
 * of a Galera cluster lives here. Whether it is one is asked once per connection, when it opens
 * (`wsrep_on`); the MySQL engine (src/db/engines/mysql/, src/backup/engines/mysql/) then asks this
 * module, and the domain and the CLI never know which server they talk to.
 *
 * What changes on a cluster, and why (docs/cluster.md has the operator's view):
 * - Causal reads. A node may lag behind transactions committed on another node; every session
 *   sets `wsrep_sync_wait` (reads, UPDATE and DELETE wait until the node has applied everything
 *   committed anywhere before they started): a backup's snapshot, a restore's checks and every
 *   read-then-act see the whole cluster.
 * - Conflicts. A transaction can be aborted by a replicated one at any statement (brute-force
 *   abort) or fail certification at COMMIT, both as error 1213: it is retried from the start, more
 *   patiently than a deadlock on one server (GALERA_RETRY).
 * - Readiness. A node outside the primary component, or still joining, refuses work with error
 *   1047: that is "unavailable" (exit 5), never a crash; `doctor` shows the cluster's size, this
 *   node's state and its causal reads, and fails (exit 5) unless the node is Synced in the primary
 *   component.
 * The backup side (cluster-wide restore lock, bounded write sets, DDL that would abort readers,
 * open transactions before the swap) is in src/backup/engines/mysql/galera.ts.
 */
import type { Connection } from 'mysql2';
import type { ConflictRetry, DoctorCheck } from '../types.js';

/** wsrep_sync_wait bits every session adds to the server's: 1 reads (SELECT, SHOW, BEGIN), 2 UPDATE/DELETE. */
export const SYNC_WAIT_BITS = 3;

/** MariaDB's "WSREP has not yet prepared node for application use" (ER_UNKNOWN_COM_ERROR). */
export const ERRNO_NODE_NOT_READY = 1047;

const galeraConnections = new WeakSet<object>();

function query<T>(conn: Connection, sql: string): Promise<T> {
  return new Promise((resolve, reject) => conn.query(sql, (err, result) => (err ? reject(err) : resolve(result as T))));
}

/**
 * Asks a fresh connection whether its server is a Galera node and, when it is, makes its reads
 * causal. MySQL 8 has no wsrep variables: SHOW … LIKE answers no row there. A node that is not
 * ready (cut off from the primary component) keeps plain reads: a causal one could only time out
 * there, while a plain query gets the node's own answer (error 1047, "unavailable", exit 5) and
 * `doctor` can still say what is wrong.
 */
export async function prepareSession(conn: Connection): Promise<boolean> {
  const rows = await query<Array<{ Value?: string }>>(conn, "SHOW GLOBAL VARIABLES LIKE 'wsrep_on'");
  const on = /^(ON|1)$/i.test(String(rows[0]?.Value ?? ''));
  if (on) {
    galeraConnections.add(conn);
    const [ready] = await query<Array<{ Value?: string }>>(conn, "SHOW GLOBAL STATUS LIKE 'wsrep_ready'");
    if (/^(ON|1)$/i.test(String(ready?.Value ?? ''))) await query(conn, `SET SESSION wsrep_sync_wait = @@global.wsrep_sync_wait | ${SYNC_WAIT_BITS}`);
  }
  return on;
}

/** Was this raw connection found to be a Galera node when it opened? */
export function isGaleraConnection(conn: object): boolean {
  return galeraConnections.has(conn);
}

/** What a knex pool learnt from its connections, keyed by its pool settings object. */
interface PoolCluster {
  galera: boolean;
}

const pools = new WeakMap<object, PoolCluster>();

/**
 * The record a pool's afterCreate fills in. `pool` is the knex config's pool object: knex copies
 * the config it is given, but keeps that object as client.config.pool.
 */
export function trackPool(pool: object): PoolCluster {
  const state: PoolCluster = { galera: false };
  pools.set(pool, state);
  return state;
}

/** Is this knex (or transaction) connected to a Galera node? Known once a connection has opened. */
export function poolIsGalera(knex: { client: unknown }): boolean {
  const pool = (knex.client as { config?: { pool?: object } } | undefined)?.config?.pool;
  return Boolean(pool && pools.get(pool)?.galera);
}

/**
 * Retry from the start, with an exponential backoff (15 ms growing ×1.5 up to 1 s, jittered) for
 * up to 30 retries (≈ 20 s in all): on a hot row written from several nodes, each round lets one
 * node's transaction win and aborts the others, so a writer may lose many rounds in a row.
 */
export const GALERA_RETRY: ConflictRetry = {
  retries: 30,
  delayMs: (n) => Math.min(1000, 15 * 1.5 ** (n - 1)) * (0.5 + Math.random() / 2),
  busyMessage: (attempts) =>
    `the cluster is busy: writes on other nodes kept conflicting with this transaction (${attempts} attempts, each rolled back, nothing was changed); retry`,
};

/** The driver error of a node that refuses work (outside the primary component, joining, desynced). */
export function isNodeNotReady(errno: number | undefined, message: string | undefined): boolean {
  return errno === ERRNO_NODE_NOT_READY && /WSREP/i.test(message ?? '');
}

type Rows = <T>(sql: string) => Promise<T[]>;

/**
 * `doctor` on a Galera node: the cluster's size and component, this node's state and its causal
 * reads. Unhealthy (exit 5) when the node is outside the primary component or not Synced: it then
 * refuses queries, or serves reads that lag behind the cluster. Nothing on a server without wsrep.
 */
export async function galeraDoctorChecks(query: Rows): Promise<DoctorCheck[]> {
  const vars = new Map(
    (await query<{ Variable_name: string; Value: string }>(
      "SHOW VARIABLES WHERE Variable_name IN ('wsrep_on', 'wsrep_sync_wait', 'wsrep_node_name', 'wsrep_cluster_name', 'wsrep_max_ws_size')",
    )).map((r) => [r.Variable_name.toLowerCase(), r.Value]),
  );
  if (!/^(ON|1)$/i.test(vars.get('wsrep_on') ?? '')) return [];
  const status = new Map(
    (await query<{ Variable_name: string; Value: string }>(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size', 'wsrep_cluster_status', 'wsrep_local_state_comment', 'wsrep_ready', 'wsrep_connected', 'wsrep_incoming_addresses')",
    )).map((r) => [r.Variable_name.toLowerCase(), r.Value]),
  );
  const size = status.get('wsrep_cluster_size') ?? '?';
  const component = status.get('wsrep_cluster_status') ?? '?';
  const state = status.get('wsrep_local_state_comment') ?? '?';
  const ready = /^(ON|1)$/i.test(status.get('wsrep_ready') ?? '');
  const primary = component === 'Primary';
  const [session] = await query<{ s: number | string; g: number | string }>('SELECT @@session.wsrep_sync_wait AS s, @@global.wsrep_sync_wait AS g');
  const syncWait = Number(session?.s ?? 0);
  const node = vars.get('wsrep_node_name') ?? '?';
  return [
    {
      name: 'cluster',
      ok: primary,
      detail: primary
        ? `Galera cluster ${vars.get('wsrep_cluster_name') ?? ''} of ${size} node${size === '1' ? '' : 's'} (primary component: ${status.get('wsrep_incoming_addresses') || '?'})`
        : `this node (${node}) is in a ${component} component of ${size} node${size === '1' ? '' : 's'}, cut off from the rest of the cluster: it refuses queries; use a node of the primary component`,
    },
    {
      name: 'node state',
      ok: primary && ready && state === 'Synced',
      detail:
        state === 'Synced' && ready
          ? `${node}: Synced`
          : `${node}: ${state}${ready ? '' : ', not ready for queries'} (a node that is not Synced lags behind or refuses queries: wait for it to sync, or use another node)`,
    },
    {
      name: 'wsrep_sync_wait',
      ok: true,
      info: true,
      detail: `${syncWait} in billettigue's sessions (server default ${session?.g ?? '?'}): ${
        (syncWait & SYNC_WAIT_BITS) === SYNC_WAIT_BITS
          ? 'reads, UPDATE and DELETE wait for transactions committed on other nodes (causal)'
          : 'reads are not causal (set only on a node ready for queries)'
      }`,
    },
  ];
}
