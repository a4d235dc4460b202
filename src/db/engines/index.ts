/**
 * The engines billettigue speaks, and how to find the one behind a connection or a target.
 * Engine modules are light (no driver imported at load), so --help stays instant.
 */
import type { Knex } from 'knex';
import type { DbKind } from '../config.js';
import { mysqlEngine } from './mysql/index.js';
import { postgresEngine } from './postgres/index.js';
import { sqliteEngine } from './sqlite/index.js';
import type { Engine } from './types.js';

export type { ConflictRetry, ConnectOptions, DoctorCheck, DriverErrorClass, Engine } from './types.js';

export const ENGINES: readonly Engine[] = [mysqlEngine, postgresEngine, sqliteEngine];

export function engineFor(kind: DbKind): Engine {
  const e = ENGINES.find((x) => x.kind === kind);
  if (!e) throw new Error(`no engine for ${kind}`);
  return e;
}

/** The engine of a knex instance, transaction or query builder (from its client name). */
export function engineOf(knex: Knex | Knex.Transaction | Knex.QueryBuilder): Engine {
  const client = (knex.client as { config: { client: string } }).config.client;
  const e = ENGINES.find((x) => x.clients.includes(client));
  if (!e) throw new Error(`no engine for knex client ${client}`);
  return e;
}
