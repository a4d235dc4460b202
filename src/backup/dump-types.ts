/** Shapes shared by the MySQL and SQLite dump producers and the orchestrator (dump.ts). */
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
  kind: 'mysql' | 'sqlite';
  serverVersion: string;
  database: { name: string; host: string | null; display: string };
  migrations: string[];
  tables: DumpedTable[];
  snapshot: string;
}
