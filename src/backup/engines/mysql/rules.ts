/**
 * What the MySQL backup side does differently on one server and on a Galera cluster, chosen once
 * per connection (whether it is a Galera node is asked when it opens: src/db/engines/mysql/galera.ts).
 * The code of dump, load, restore and leftovers calls these rules and never asks which it runs on.
 * One server: the rules below. A cluster: src/backup/engines/mysql/galera.ts.
 */
import { isGaleraConnection } from '../../../db/engines/mysql/galera.js';
import type { MysqlTarget } from '../../../db/config.js';
import { restoreLockName } from '../../../db/leftovers.js';
import { Conflict } from '../../../domain/errors.js';
import type { LockOptions, RestoreLock } from '../types.js';
import { closeQuietly, rows, type RawConnection } from './conn.js';
import { galeraRules } from './galera.js';
import { DEFER_INDEXES_FROM_ROWS, deferIndexesFromEnv } from './defer.js';

export interface LoadPacer {
  wait(): Promise<void>;
  close(): Promise<void>;
}

const NO_PACING: LoadPacer = { wait: async () => undefined, close: async () => undefined };

export interface MysqlRules {
  readonly name: 'server' | 'galera';
  /** Most bytes of INSERT text one load transaction carries (null: a table in one LOAD DATA). */
  writeSetBytes(conn: RawConnection): Promise<number | null>;
  /** Rows of at least this many rows get their secondary indexes after their load (null: never). */
  deferIndexesFrom(): number | null;
  /** Paces a load so that other nodes keep up (wait() before each write set); close() when done. */
  loadPacer(conn: RawConnection, target: MysqlTarget): Promise<LoadPacer>;
  /** May an ALTER TABLE run while another of our connections reads the same table? */
  readonly alterAlongsideReads: boolean;
  /** Takes the one restore/adoption lock of the target's database on `conn` (which it then owns). */
  acquireLock(conn: RawConnection, target: MysqlTarget, options: LockOptions): Promise<RestoreLock>;
  /** Does someone (another process, anywhere) hold the lock of this name now? */
  lockHeld(conn: RawConnection, name: string): Promise<boolean>;
  /** Just before the swap: waits for, or refuses over, what the swap would break. */
  beforeSwap(conn: RawConnection, target: MysqlTarget, live: string, onStep?: (message: string) => void, onWarning?: (message: string) => void): Promise<void>;
}

/** A lock on one server: its database name, for messages. */
function heldMessage(target: MysqlTarget, name: string, purpose: string): string {
  return `another ${purpose} of ${target.display} is running (lock ${name} is held): wait for it to finish`;
}

/**
 * One server: GET_LOCK on a dedicated connection (the server releases it when the connection dies,
 * so a killed restore never leaves it held); the RENAME TABLE of the swap waits for open
 * transactions itself (lock_wait_timeout); a table loads in one LOAD DATA.
 */
export const serverRules: MysqlRules = {
  name: 'server',
  writeSetBytes: async () => null,
  deferIndexesFrom: () => deferIndexesFromEnv() ?? DEFER_INDEXES_FROM_ROWS,
  loadPacer: async () => NO_PACING,
  // InnoDB builds an index in place while reads go on (the hash overlaps the ALTER).
  alterAlongsideReads: true,

  async acquireLock(conn, target, options) {
    const name = options.name ?? restoreLockName(target.database);
    const [r] = await rows<{ got: number | null }>(conn, 'SELECT GET_LOCK(?, 0) AS got', [name]);
    if (r?.got !== 1) {
      await closeQuietly(conn);
      throw new Conflict(heldMessage(target, name, options.purpose ?? 'restore'), { code: 'restore_running' });
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        await rows(conn, 'SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined);
        await closeQuietly(conn);
      },
    };
  },

  async lockHeld(conn, name) {
    const [lock] = await rows<{ used: number | null }>(conn, 'SELECT IS_USED_LOCK(?) AS used', [name]);
    return lock?.used !== null && lock?.used !== undefined;
  },

  beforeSwap: async () => undefined,
};

export function rulesOf(conn: RawConnection): MysqlRules {
  return isGaleraConnection(conn) ? galeraRules : serverRules;
}
