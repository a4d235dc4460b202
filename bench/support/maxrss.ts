/**
 * Preloaded (`node --import`) into a child process run by a benchmark: on exit, writes the
 * process's peak resident set size in bytes to the file named by BENCH_MAXRSS_FILE.
 * `process.resourceUsage().maxRSS` works on Linux, macOS and Windows (it is in KiB).
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_MAXRSS_FILE;
if (file) {
  process.on('exit', () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS * 1024));
  });
}
