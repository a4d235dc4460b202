/**
 * Habits of gh/kubectl users (issue 16): every verb's help has at least one example and lists the
 * global flags; `help <group> <verb>`; aliases (ls, get, rm; create/delete everywhere); version;
 * completion scripts that load in bash.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { run, runJson } from './helpers/cli.js';

function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

describe('help, aliases, version, completion', () => {
  it('every verb (and every group without verbs) shows an example and the global flags', async () => {
    const program = await buildProgram([], () => {
      throw new Error('unused');
    }, { all: true });
    const missing: string[] = [];
    for (const group of program.commands) {
      const verbs = group.commands.length ? group.commands : [group];
      for (const verb of verbs) {
        const help = helpOf(verb);
        const name = verb === group ? group.name() : `${group.name()} ${verb.name()}`;
        if (!/\$ .*billettigue /.test(help)) missing.push(name);
        expect(help, name).toMatch(/Global Options:[\s\S]*--db <url>[\s\S]*--output <format>/);
      }
    }
    expect(missing).toEqual([]);
  });

  it('help <group> <verb> is the verb\'s help; aliases work; --version says more than a number', async () => {
    const h = await run(['help', 'accounts', 'list']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^Usage: billettigue accounts list\|ls \[options\]/);
    for (const [args, usage] of [
      [['zones', 'rm', '--help'], /zones delete\|remove/],
      [['zones', 'create', '--help'], /zones create\|add/],
      [['roles', 'rm', '--help'], /roles delete\|rm/],
      [['trajets', 'get', '--help'], /trajets show\|get/],
      [['backup', 'create', '--help'], /backup create/],
    ] as const) {
      const r = await run([...args]);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(usage);
    }
    const v = await run(['--version'], { cwd: os.tmpdir(), env: { DATABASE_URL: undefined } });
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^billettigue \d+\.\d+\.\d+/);
    expect(v.stdout).toMatch(/^node +v20/m);
    const j = await runJson<{ version: string; node: string }>(['version']);
    expect(j.data.node).toBe(process.version);
  });

  it.each(['bash', 'zsh', 'fish', 'powershell'])('completion %s prints a script; bash loads it (complete -p billettigue)', async (shell) => {
    const r = await run(['completion', shell]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('billettigue');
    expect(r.stdout).toContain('accounts');
    if (shell !== 'bash') return;
    const file = path.join(os.tmpdir(), `bt-completion-${process.pid}.bash`);
    writeFileSync(file, r.stdout);
    const out = execFileSync('bash', ['-c', `source ${file}; complete -p billettigue; COMP_WORDS=(billettigue accounts l); COMP_CWORD=2; _billettigue; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' });
    expect(out).toMatch(/complete -o default -F _billettigue billettigue/);
    expect(out).toMatch(/\blist\b.*\block\b|\block\b.*\blist\b/);
  });

  it('a read command never creates the embedded file: exit 5 naming the target and how to set one', async () => {
    const { mkdtempSync, readdirSync } = await import('node:fs');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bt-empty-'));
    for (const args of [['accounts', 'list'], ['db', 'status'], ['stats'], ['doctor']]) {
      const r = await run(args, { cwd: dir, env: { DATABASE_URL: undefined } });
      expect(r.code, args.join(' ')).toBe(5);
      expect(r.stderr + r.stdout, args.join(' ')).toMatch(/no database at sqlite:billettigue\.sqlite3 .*--db URL or DATABASE_URL.*billettigue db migrate/);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('db seed --generate-password without an email creates the default admin, says so, prints the password once', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bt-seed-admin-'));
    try {
      const url = `sqlite:${path.join(dir, 'a.sqlite3')}`;
      expect((await run(['db', 'migrate'], { url })).code).toBe(0);
      const r = await run(['db', 'seed', '--generate-password'], { url });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('no --admin-email (or ADMIN_EMAIL): the admin account is admin@billettigue.local');
      expect(r.stdout).toMatch(/^generated password for admin@billettigue\.local: \S{12,}\n$/);
      const show = await run(['accounts', 'show', 'admin@billettigue.local', '--json'], { url });
      expect(show.code, show.stderr).toBe(0);
      expect(JSON.parse(show.stdout)).toMatchObject({ account: { email: 'admin@billettigue.local' }, role: { name: 'admin' } });
      // Again: the admin exists, left unchanged, no new password.
      const again = await run(['db', 'seed', '--generate-password'], { url });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toBe('');
      expect(again.stderr).toContain('admin admin@billettigue.local already exists: left unchanged');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
