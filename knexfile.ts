/**
 * For people who drive migrations with the knex CLI (`npx knex --knexfile knexfile.ts migrate:status`).
 * The billettigue CLI does not need it: it resolves the target itself (--db, DATABASE_URL, DB_*,
 * ./.env, embedded default) and uses the same migration source.
 */
import type { Knex } from 'knex';
import { resolveTarget } from './src/db/config.js';
import { knexConfig } from './src/db/connection.js';
import { migratorConfig } from './src/db/migrator.js';

const config: Knex.Config = { ...knexConfig(resolveTarget()), migrations: migratorConfig };
export default config;
