/**
 * pg-copy-streams, loaded on demand: `from` (COPY … FROM STDIN as a Writable) and `to` (COPY …
 * TO STDOUT as a Readable). A CommonJS module: bundled, its functions sit on `default`.
 */
import type { from as copyFrom, to as copyTo } from 'pg-copy-streams';

export async function copyStreams(): Promise<{ from: typeof copyFrom; to: typeof copyTo }> {
  const m = (await import('pg-copy-streams')) as unknown as { from?: typeof copyFrom; to?: typeof copyTo; default?: { from: typeof copyFrom; to: typeof copyTo } };
  return m.from && m.to ? { from: m.from, to: m.to } : m.default!;
}
