/** Shapes shared by the engines' dump producers and the orchestrator (dump.ts). */
import type { DbKind } from '../db/config.js';
import { InvalidInput } from '../domain/errors.js';
import type { ManifestTable } from './manifest.js';

export type DumpedTable = Omit<ManifestTable, 'data_offset' | 'data_length'>;

export interface DumpHooks {
  /** Only these tables (backup --tables). */
  tables?: string[];
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
  onWarning?: (message: string) => void;
  /** The connection the snapshot lives on (so Ctrl-C can close it). */
  onConnection?: (conn: { destroy(): void }) => void;
}

export interface DumpResultBase {
  kind: DbKind;
  serverVersion: string;
  database: { name: string; host: string | null; display: string };
  migrations: string[];
  tables: DumpedTable[];
  snapshot: string;
}

/** Last line before the end marker: every table's rows and SHA-256, so a truncated file is detectable. */
export function trailerLine(tables: Array<{ name: string; rows: number; sha256: string }>): string {
  return `-- billettigue-trailer ${JSON.stringify(tables.map((t) => [t.name, t.rows, t.sha256]))}`;
}

/** `backup --tables`: the chosen ones among the database's tables (in its order); an unknown name is refused. */
export function selectTables<T extends { name: string }>(tables: T[], only: string[] | undefined): T[] {
  if (!only) return tables;
  const known = new Set(tables.map((t) => t.name));
  const unknown = only.filter((t) => !known.has(t));
  if (unknown.length) {
    throw new InvalidInput(`--tables: unknown table${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; tables: ${[...known].join(', ')}`);
  }
  return tables.filter((t) => only.includes(t.name));
}
