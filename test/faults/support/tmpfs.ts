/**
 * A small tmpfs to fill up or make read-only under a command: the "disk full" and "read-only
 * file system" faults of test/faults/ (docs/reliability.md). Mounting needs root (CI and the
 * developers' machines run as root); elsewhere `tmpfsUnavailable()` says why and the tests that
 * need it are skipped with that message.
 *
 *   const fs = mountTmpfs(1 << 20);     // 1 MiB, mode 0700
 *   fs.leaveFree(8192);                 // a filler file leaves exactly 8 KiB (two pages) free
 *   fs.readOnly();                      // remount read-only
 *   fs.unmount();
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Why a tmpfs cannot be mounted here (null: it can). */
export function tmpfsUnavailable(): string | null {
  if (process.platform !== 'linux') return `a tmpfs needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root: run the fault tests as root to include the disk-full and read-only cases';
  return null;
}

export interface Tmpfs {
  /** The mount point. */
  readonly dir: string;
  /** Bytes free for files now. */
  free(): number;
  /** Writes a filler file so that exactly `bytes` (rounded down to whole pages) stay free. */
  leaveFree(bytes: number): void;
  /** Remounts it read-only (EROFS for every write). */
  readOnly(): void;
  /** Unmounts and removes the mount point (idempotent). */
  unmount(): void;
}

export function mountTmpfs(sizeBytes: number): Tmpfs {
  const why = tmpfsUnavailable();
  if (why) throw new Error(why);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bt-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir]);
  let mounted = true;
  const free = () => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return {
    dir,
    free,
    leaveFree(bytes: number) {
      const fill = free() - bytes;
      if (fill > 0) writeFileSync(path.join(dir, 'filler'), Buffer.alloc(fill));
    },
    readOnly() {
      execFileSync('mount', ['-o', 'remount,ro', dir]);
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
