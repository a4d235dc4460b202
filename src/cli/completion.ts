/**
 * `billettigue completion bash|zsh|fish|powershell`: a completion script built from the command
 * tree itself (groups, verbs, aliases, options), so it never lags behind the commands.
 */
import type { Command } from 'commander';
import { action, type Ctx } from './context.js';
import { InvalidInput } from '../domain/errors.js';

const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;

export function register(cmd: Command): void {
  cmd
    .argument('<shell>', `one of ${SHELLS.join(', ')}`)
    .addHelpText('after', `
Load it in the current shell, or install it for every new one:
  bash:        source <(billettigue completion bash)      # or > /etc/bash_completion.d/billettigue
  zsh:         source <(billettigue completion zsh)       # in ~/.zshrc
  fish:        billettigue completion fish > ~/.config/fish/completions/billettigue.fish
  powershell:  billettigue completion powershell | Out-String | Invoke-Expression   # in $PROFILE
Examples:
  $ billettigue completion bash > ~/.local/share/bash-completion/completions/billettigue
  $ billettigue completion fish > ~/.config/fish/completions/billettigue.fish`)
    .action(action(run));
}

interface Tree {
  globals: string[];
  /** Global options that take a value (their value is not a group or verb). */
  valued: string[];
  groups: Record<string, { words: string[]; verbs: Record<string, string[]> }>;
}

function optionNames(c: Command): string[] {
  return c.options.flatMap((o) => [o.long, o.short].filter((x): x is string => Boolean(x)));
}

export async function commandTree(): Promise<Tree> {
  const { buildProgram } = await import('./main.js');
  const program = await buildProgram([], () => {
    throw new Error('unused');
  }, { all: true });
  const tree: Tree = {
    globals: [...optionNames(program), '--help'],
    valued: program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter((x): x is string => Boolean(x))),
    groups: {},
  };
  for (const g of program.commands) {
    const verbs: Record<string, string[]> = {};
    for (const v of g.commands) {
      const opts = [...optionNames(v), '--help'];
      for (const name of [v.name(), ...v.aliases()]) verbs[name] = opts;
    }
    tree.groups[g.name()] = { words: [...Object.keys(verbs), ...optionNames(g)], verbs };
  }
  return tree;
}

function bash(t: Tree): string {
  const cases = Object.entries(t.groups)
    .flatMap(([g, d]) => [`    "${g} ")  words="${d.words.join(' ')}" ;;`, ...Object.entries(d.verbs).map(([v, o]) => `    "${g} ${v}") words="${o.join(' ')}" ;;`)])
    .join('\n');
  return `# billettigue completion for bash (billettigue completion bash)
_billettigue() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" group="" verb="" w i words
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case " ${t.valued.join(' ')} " in *" $w "*) ((i++)); continue ;; esac
    case "$w" in -*) continue ;; esac
    if [[ -z $group ]]; then group=$w; elif [[ -z $verb ]]; then verb=$w; fi
  done
  case "$group $verb" in
    " ") words="${Object.keys(t.groups).join(' ')} ${t.globals.join(' ')}" ;;
${cases}
    *) words="${t.globals.join(' ')}" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _billettigue billettigue
`;
}

function zsh(t: Tree): string {
  return `#compdef billettigue
# billettigue completion for zsh (billettigue completion zsh), through bash's completion
autoload -U +X bashcompinit && bashcompinit
${bash(t)}`;
}

function fish(t: Tree): string {
  const lines = ['# billettigue completion for fish (billettigue completion fish)', 'complete -c billettigue -f'];
  const flag = (o: string) => (o.startsWith('--') ? `-l ${o.slice(2)}` : `-s ${o.slice(1)}`);
  for (const o of t.globals) lines.push(`complete -c billettigue ${flag(o)}`);
  lines.push(`complete -c billettigue -n '__fish_use_subcommand' -a '${Object.keys(t.groups).join(' ')}'`);
  for (const [g, d] of Object.entries(t.groups)) {
    const verbs = Object.keys(d.verbs);
    if (verbs.length) lines.push(`complete -c billettigue -n '__fish_seen_subcommand_from ${g}; and not __fish_seen_subcommand_from ${verbs.join(' ')}' -a '${verbs.join(' ')}'`);
    for (const [v, opts] of Object.entries(d.verbs)) {
      for (const o of opts) lines.push(`complete -c billettigue -n '__fish_seen_subcommand_from ${g}; and __fish_seen_subcommand_from ${v}' ${flag(o)}`);
    }
  }
  return lines.join('\n') + '\n';
}

function powershell(t: Tree): string {
  const entries = [
    `    '' = @(${[...Object.keys(t.groups), ...t.globals].map((w) => `'${w}'`).join(', ')})`,
    ...Object.entries(t.groups).flatMap(([g, d]) => [
      `    '${g}' = @(${d.words.map((w) => `'${w}'`).join(', ')})`,
      ...Object.entries(d.verbs).map(([v, o]) => `    '${g} ${v}' = @(${o.map((w) => `'${w}'`).join(', ')})`),
    ]),
  ];
  return `# billettigue completion for PowerShell (billettigue completion powershell)
Register-ArgumentCompleter -Native -CommandName billettigue -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $words = @{
${entries.join('\n')}
  }
  $valued = @(${t.valued.map((w) => `'${w}'`).join(', ')})
  $parts = @()
  $skip = $false
  foreach ($e in $commandAst.CommandElements | Select-Object -Skip 1) {
    $w = $e.ToString()
    if ($w -eq $wordToComplete) { continue }
    if ($skip) { $skip = $false; continue }
    if ($valued -contains $w) { $skip = $true; continue }
    if ($w.StartsWith('-')) { continue }
    if ($parts.Count -lt 2) { $parts += $w }
  }
  $key = $parts -join ' '
  $candidates = if ($words.ContainsKey($key)) { $words[$key] } else { $words[''] | Where-Object { $_.StartsWith('-') } }
  $candidates | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object { [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_) }
}
`;
}

async function run(ctx: Ctx, _opts: unknown, [shell]: string[]): Promise<void> {
  const s = (shell ?? '').trim().toLowerCase();
  if (!(SHELLS as readonly string[]).includes(s)) throw new InvalidInput(`completion: "${shell}" is not a shell: use one of ${SHELLS.join(', ')}`);
  const tree = await commandTree();
  const script = s === 'bash' ? bash(tree) : s === 'zsh' ? zsh(tree) : s === 'fish' ? fish(tree) : powershell(tree);
  ctx.ui.stdout.write(script);
}
