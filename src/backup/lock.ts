/**
 * One restore at a time per database. MySQL: GET_LOCK('billettigue_restore:<db>', 0) on a
 * dedicated connection (the server releases it when the connection dies, so a killed restore
 * never leaves it held). SQLite: an exclusive-create lock file beside the database holding the
 * owner's pid (a lock whose process is gone is stale and taken over).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { DbTarget } from '../db/config.js';
import { lockOwner, pidAlive, restoreLockName, sqliteLockFile } from '../db/leftovers.js';
import { Conflict } from '../domain/errors.js';
import { removeQuietly } from './files.js';
import { closeQuietly, openMysql, rows } from './mysql-conn.js';

export interface RestoreLock {
  release(): Promise<void>;
}

export async function acquireRestoreLock(target: DbTarget): Promise<RestoreLock> {
  if (target.kind === 'mysql') {
    const conn = await openMysql(target, null);
    const name = restoreLockName(target.database);
    const [r] = await rows<{ got: number | null }>(conn, 'SELECT GET_LOCK(?, 0) AS got', [name]);
    if (r?.got !== 1) {
      await closeQuietly(conn);
      throw new Conflict(`another restore of ${target.display} is running (lock ${name} is held): wait for it to finish`, { code: 'restore_running' });
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
  }
  const file = sqliteLockFile(target.filename);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid} ${new Date().toISOString()}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = lockOwner(file);
      if (attempt === 0 && !pidAlive(owner)) {
        removeQuietly(file); // stale: its restore was killed
        continue;
      }
      throw new Conflict(`another restore of ${target.display} is running (pid ${Number.isNaN(owner) ? '?' : owner}, lock ${file}): wait for it to finish`, { code: 'restore_running' });
    }
  }
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      if (lockOwner(file) === process.pid) removeQuietly(file);
    },
  };
}
