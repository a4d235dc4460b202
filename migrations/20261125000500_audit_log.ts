/**
 * audit_log: who did what to which record, with a before/after summary, written in the same
 * transaction as the change (PRODUCT.md). Not in the seed; the product's own table.
 */
import type { Knex } from 'knex';
import { createTable } from '../src/db/migration-helpers.js';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'audit_log', (t) => {
    t.increments('id');
    t.string('actor', 255).notNullable();
    t.string('action', 100).notNullable();
    t.string('target_type', 50).nullable();
    t.string('target_id', 255).nullable();
    t.text('reason').nullable();
    t.text('before_json').nullable();
    t.text('after_json').nullable();
    t.datetime('created_at').notNullable().defaultTo(knex.fn.now());
    t.index(['created_at'], 'audit_log_created_at_index');
    t.index(['actor', 'created_at'], 'audit_log_actor_index');
    t.index(['action', 'created_at'], 'audit_log_action_index');
    t.index(['target_type', 'target_id'], 'audit_log_target_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_log');
}
