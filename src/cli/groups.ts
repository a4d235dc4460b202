/**
 * The command groups of PRODUCT.md. Each group's module is imported only when that group runs,
 * so `billettigue --help` loads none of them (nor knex, mysql2, bcrypt…).
 * A group module exports `register(cmd)`, which adds its verbs, options, help and actions.
 */
import type { Command } from 'commander';

export interface GroupModule {
  register(cmd: Command): void;
}

export interface GroupDef {
  description: string;
  load: () => Promise<GroupModule>;
}

export const GROUPS: Record<string, GroupDef> = {
  accounts: { description: 'find, inspect and fix user accounts', load: () => import('./accounts.js') },
  roles: { description: 'list and manage roles', load: () => import('./roles.js') },
  tokens: { description: 'revoke, check and purge JWTs', load: () => import('./tokens.js') },
  trajets: { description: 'passenger trips: list, create, update, cancel', load: () => import('./trajets.js') },
  reservations: { description: 'bookings on trajets, with their paiements', load: () => import('./reservations.js') },
  payments: { description: 'paiements and revenue summaries', load: () => import('./payments.js') },
  envois: { description: 'parcel shipments, from drop-off to delivery', load: () => import('./envois.js') },
  colis: { description: 'the parcels of an envoi', load: () => import('./colis.js') },
  zones: { description: 'cities served by carriers', load: () => import('./zones.js') },
  db: { description: 'create, migrate, roll back, seed and reset the database', load: () => import('./db.js') },
  seed: { description: 'generate realistic demo data at any volume', load: () => import('./seed.js') },
  backup: { description: 'take, list, verify and prune backups', load: () => import('./backup.js') },
  restore: { description: 'restore a backup safely (verified, atomic, undoable)', load: () => import('./restore.js') },
  stats: { description: 'the morning dashboard of the platform', load: () => import('./stats.js') },
  maintenance: { description: 'purge tokens, archive old data, check invariants', load: () => import('./maintenance.js') },
  audit: { description: 'who changed what, when', load: () => import('./audit.js') },
  doctor: { description: 'check the connection, schema and settings', load: () => import('./doctor.js') },
  version: { description: 'the version, build, Node and (with a target) the server version', load: () => import('./version.js') },
  completion: { description: 'shell completion script: bash, zsh, fish or powershell', load: () => import('./completion.js') },
};
