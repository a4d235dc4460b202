/** Pure pieces of restore: statement splitting, statement kinds, CREATE TABLE splitting, names. */
import { describe, expect, it } from 'vitest';
import { classifyStatement, splitStatements } from '../src/backup/sql-split.js';
import { splitCreateTable } from '../src/backup/ddl.js';
import { dbTag, helperDatabase, helperOf, STAGING_PREFIX, UNDO_PREFIX } from '../src/db/leftovers.js';

async function split(text: string, chunk: number, dialect: 'mysql' | 'sqlite' = 'mysql'): Promise<string[]> {
  const buf = Buffer.from(text);
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  const out: string[] = [];
  for await (const s of splitStatements(parts, dialect)) out.push(s.toString('utf8').trim());
  return out;
}

describe('splitStatements', () => {
  const dump = [
    '/*M!999999\\- enable the sandbox mode */ ',
    '-- MariaDB dump; with a semicolon in a comment',
    '/*!40101 SET NAMES utf8mb4 */;',
    "INSERT INTO `t` VALUES (1,'a;b','it\\'s; \\\\',\"x;\"),(2,'é😀',NULL);",
    '# a hash comment;',
    'CREATE TABLE `we;ird` (`id` int /* c; */);',
    "INSERT INTO `t` VALUES (3,'--not a comment;');",
  ].join('\n');

  it('cuts on ; outside strings, identifiers and comments, whatever the chunk size', async () => {
    for (const size of [1, 2, 3, 7, 64, 10_000]) {
      const s = await split(dump, size);
      expect(s, `chunk ${size}`).toHaveLength(4);
      expect(s[1]).toBe("INSERT INTO `t` VALUES (1,'a;b','it\\'s; \\\\',\"x;\"),(2,'é😀',NULL)");
      expect(s[2]).toMatch(/CREATE TABLE `we;ird` \(`id` int \/\* c; \*\/\)$/);
      expect(s[3]).toBe("INSERT INTO `t` VALUES (3,'--not a comment;')");
    }
  });

  it('SQLite: quotes are doubled, backslashes are plain', async () => {
    const s = await split("INSERT INTO t VALUES('a\\');INSERT INTO [x;y] VALUES('it''s;');", 5, 'sqlite');
    expect(s).toEqual(["INSERT INTO t VALUES('a\\')", "INSERT INTO [x;y] VALUES('it''s;')"]);
  });
});

describe('classifyStatement', () => {
  it('recognises what a mysqldump / mariadb-dump file holds', () => {
    expect(classifyStatement('/*M!999999\\- enable the sandbox mode */ \n-- x\n/*!40101 SET NAMES utf8mb4 */')).toEqual({ kind: 'set' });
    expect(classifyStatement('/*!40000 ALTER TABLE `t` DISABLE KEYS */')).toEqual({ kind: 'skip' });
    expect(classifyStatement('LOCK TABLES `t` WRITE')).toEqual({ kind: 'skip' });
    expect(classifyStatement("SET @@GLOBAL.GTID_PURGED='x'")).toEqual({ kind: 'skip' });
    expect(classifyStatement('commit')).toEqual({ kind: 'set' });
    expect(classifyStatement('--\n-- Table structure\n--\n\nDROP TABLE IF EXISTS `a``b`')).toEqual({ kind: 'drop-table', table: 'a`b' });
    expect(classifyStatement('CREATE TABLE `t` (\n  `id` int)')).toEqual({ kind: 'create-table', table: 't' });
    expect(classifyStatement('INSERT INTO `t` VALUES (1)')).toEqual({ kind: 'insert', table: 't', plain: true });
    expect(classifyStatement('INSERT INTO `t` (`a`) VALUES (1)')).toEqual({ kind: 'insert', table: 't', plain: false });
    expect(classifyStatement('USE `prod`')).toEqual({ kind: 'use' });
    expect(classifyStatement('/*!40000 CREATE DATABASE `x` */')).toEqual({ kind: 'create-database' });
    expect(classifyStatement('/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50001 VIEW `v` AS select 1 */').kind).toBe('unsupported');
  });
});

describe('splitCreateTable', () => {
  const create = [
    'CREATE TABLE `paiements` (',
    '  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,',
    '  `reservation_id` int(10) unsigned NOT NULL,',
    "  `status` varchar(255) NOT NULL DEFAULT 'pending',",
    '  PRIMARY KEY (`id`),',
    '  UNIQUE KEY `paiements_reservation_id_unique` (`reservation_id`),',
    '  KEY `paiements_status_index` (`status`),',
    '  CONSTRAINT `paiements_reservation_id_foreign` FOREIGN KEY (`reservation_id`) REFERENCES `reservations` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,',
    "  CONSTRAINT `paiements_status_check` CHECK (`status` in ('pending','completed'))",
    ') ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
  ].join('\n');

  it('keeps columns, primary key, CHECKs and options; defers keys and foreign keys', () => {
    const s = splitCreateTable(create)!;
    expect(s.name).toBe('paiements');
    expect(s.base).not.toMatch(/UNIQUE KEY|FOREIGN KEY|KEY `paiements_status_index`/);
    expect(s.base).toMatch(/PRIMARY KEY \(`id`\),\n {2}CONSTRAINT `paiements_status_check` CHECK/);
    expect(s.base).toMatch(/AUTO_INCREMENT=42/);
    expect(s.keys).toEqual(['ADD UNIQUE KEY `paiements_reservation_id_unique` (`reservation_id`)', 'ADD KEY `paiements_status_index` (`status`)']);
    expect(s.foreignKeys).toHaveLength(1);
    expect(s.columns.map((c) => c.name)).toEqual(['id', 'reservation_id', 'status']);
  });

  it('leaves alone what it does not recognise', () => {
    expect(splitCreateTable('CREATE TABLE t (id int)')).toBeNull();
    expect(splitCreateTable(create.replace('  PRIMARY KEY (`id`),\n', '').replace('UNIQUE KEY `paiements_reservation_id_unique` (`reservation_id`)', 'UNIQUE KEY `u` (`id`)'))).toBeNull();
  });
});

describe('helper names', () => {
  it('tie staging and undo databases to their live database', () => {
    const s = helperDatabase(STAGING_PREFIX, 'billettigue');
    expect(s).toMatch(/^bt_restore_billettigue_\d{14}[0-9a-f]{4}$/);
    expect(helperOf(s, STAGING_PREFIX, 'billettigue')).toBe(true);
    expect(helperOf(s, STAGING_PREFIX, 'billettigue2')).toBe(false);
    expect(helperOf(s, UNDO_PREFIX, 'billettigue')).toBe(false);
    const long = 'a-very-long-database-name-with-dashes-that-would-not-fit';
    const h = helperDatabase(UNDO_PREFIX, long);
    expect(h.length).toBeLessThanOrEqual(64);
    expect(h).toContain(dbTag(long));
    expect(helperOf(h, UNDO_PREFIX, long)).toBe(true);
  });
});
