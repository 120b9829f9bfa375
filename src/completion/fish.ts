import { allCommands, COMPLETE_COMMAND, type CommandSpec, type CompletionSpec, type Values } from './spec.js';

/** A word in single quotes for fish (where only \\ and ' are special). */
function fq(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/**
 * The fish completion script, for ~/.config/fish/completions/whyport.fish. fish reads the options
 * itself; where the positionals are (after which subcommand, which options took a value) is worked
 * out by __whyport_where, in the same way commander reads the words.
 */
export function fishScript(spec: CompletionSpec): string {
  const commands = allCommands(spec.root);
  const lines: string[] = [];
  const out = (...l: string[]) => void lines.push(...l);
  const names = (o: CommandSpec['options'][number]) => [o.short, o.long].filter((n): n is string => n !== undefined);
  const list = (c: CommandSpec, pred: (o: CommandSpec['options'][number]) => boolean) => c.options.filter(pred).flatMap(names).map(fq).join(' ');

  out(`# fish completion for whyport ${spec.version}, printed by \`whyport completion fish\`.`);
  out('#   whyport completion fish > ~/.config/fish/completions/whyport.fish');
  out('');
  out('# Where the cursor is: the command (whyport, or the subcommand the first words name), then');
  out('# "option" when the word before takes a value, else "positional N" (N from 0).');
  out('function __whyport_where');
  out('    set -l words (commandline -opc)');
  out('    set -e words[1]');
  out('    set -l path whyport');
  out('    while set -q words[1]');
  out('        set -l next');
  out('        switch $path');
  for (const c of commands.filter((c) => c.commands.length)) {
    out(`            case ${fq(fishPath(c))}`);
    out(`                set next ${c.commands.map((s) => fq(s.name)).join(' ')}`);
  }
  out('        end');
  out('        contains -- $words[1] $next; or break');
  out('        set path "$path $words[1]"');
  out('        set -e words[1]');
  out('    end');
  out('    set -l valued; set -l optional; set -l variadic');
  out('    switch $path');
  for (const c of commands) {
    const valued = list(c, (o) => o.arity === 'value' && !o.variadic);
    const optional = list(c, (o) => o.arity === 'optional');
    const variadic = list(c, (o) => o.variadic);
    if (!valued && !optional && !variadic) continue;
    out(`        case ${fq(fishPath(c))}`);
    if (valued) out(`            set valued ${valued}`);
    if (optional) out(`            set optional ${optional}`);
    if (variadic) out(`            set variadic ${variadic}`);
  }
  out('    end');
  out('    set -l n 0; set -l pending; set -l open; set -l rest');
  out('    for word in $words');
  out('        if set -q rest[1]');
  out('            set n (math $n + 1)');
  out('        else if set -q pending[1]');
  out('            set -e pending');
  out('        else if test "$word" = --');
  out('            set rest 1; set -e open');
  out("        else if string match -qr -- '^-.' $word");
  out('            set -e open');
  out("            string match -qr -- '^--.*=' $word; and continue");
  out('            set -l name $word');
  out("            if string match -qr -- '^-[^-].' $word");
  out('                # -pNAME carries its value; -yv is a cluster of flags, its last one may take the next word.');
  out('                contains -- (string sub -l 2 -- $word) $valued $variadic; and continue');
  out('                set name -(string sub -s -1 -- $word)');
  out('            end');
  out('            if contains -- $name $variadic');
  out('                set open variadic');
  out('            else if contains -- $name $valued');
  out('                set pending $name');
  out('            else if contains -- $name $optional');
  out('                set open optional');
  out('            end');
  out('        else if test "$open" = optional');
  out('            set -e open');
  out('        else if test "$open" != variadic');
  out('            set n (math $n + 1)');
  out('        end');
  out('    end');
  for (const c of commands.filter((c) => c.repeatLast && c.positionals.length)) {
    out(`    test "$path" = ${fq(fishPath(c))}; and test $n -gt ${c.positionals.length - 1}; and set n ${c.positionals.length - 1}`);
  }
  out('    echo $path');
  out('    if set -q pending[1]; or set -q open[1]');
  out('        echo option');
  out('    else');
  out('        echo positional $n');
  out('    end');
  out('end');
  out('');
  out('function __whyport_in --description "the words so far name this command"');
  out('    set -l where (__whyport_where)');
  out('    test "$where[1]" = "$argv[1]"');
  out('end');
  out('');
  out('function __whyport_at --description "the word under the cursor is positional N of this command"');
  out('    set -l where (__whyport_where)');
  out('    test "$where[1]" = "$argv[1]"; and test "$where[2]" = "positional $argv[2]"');
  out('end');
  out('');
  out('# Names only this machine knows when Tab is pressed (service names, systemd units), from whyport.');
  out('function __whyport_ask');
  out("    set -l value (string replace -r -- '^--[^=]*=' '' (commandline -ct))");
  out('    set -l whyport (commandline -opc)[1]');
  out(`    $whyport ${COMPLETE_COMMAND} $argv[1] "$value" 2>/dev/null`);
  out('end');
  out('');
  out('# HOST is not completed, but in HOST:PORT the port\'s service name is.');
  out('function __whyport_host_port');
  out("    set -l m (string match -r -- '^(\\[[^]]*\\]|[^:]*):([^:]*)$' (commandline -ct)); or return");
  out('    set -l whyport (commandline -opc)[1]');
  out(`    for name in ($whyport ${COMPLETE_COMMAND} ports "$m[3]" 2>/dev/null)`);
  out('        echo "$m[2]:$name"');
  out('    end');
  out('end');
  out('');
  out('complete -c whyport -f');
  for (const c of commands) {
    const cond = `__whyport_in ${fq(fishPath(c))}`;
    for (const o of c.options) {
      const flags = [o.short ? `-s ${o.short.slice(1)}` : '', o.long ? `-l ${o.long.slice(2)}` : ''].filter(Boolean).join(' ');
      const takes = o.arity === 'value' ? (o.values.files ? ' -r -F' : ' -x') : '';
      out(`complete -c whyport -n ${fq(cond)} ${flags}${takes}${valueArgs(o.values)} -d ${fq(o.description)}`);
    }
    c.commands.forEach((s) => out(`complete -c whyport -n ${fq(`__whyport_at ${fq(fishPath(c))} 0`)} -a ${fq(s.name)} -d ${fq(s.description)}`));
    c.positionals.forEach((v, i) => {
      const at = `__whyport_at ${fq(fishPath(c))} ${i}`;
      if (v.hostPort) out(`complete -c whyport -n ${fq(at)} -a ${fq('(__whyport_host_port)')}`);
      const args = valueArgs(v);
      if (args || v.files) out(`complete -c whyport -n ${fq(at)}${v.files ? ' -F' : ''}${args}${v.label ? ` -d ${fq(v.label)}` : ''}`);
    });
  }
  return lines.join('\n') + '\n';
}

/** How the script names a command: `whyport`, `whyport playbook graph` (never empty, as fish drops empty lines). */
function fishPath(c: CommandSpec): string {
  return `whyport ${c.path}`.trim();
}

/** `-a …` for the words and asked names of `v` (files are -F, given by the caller). */
function valueArgs(v: Values): string {
  const parts: string[] = [];
  if (v.words?.length) parts.push(v.words.map((w) => w.replace(/([\s'"\\$()*?;&|<>{}[\]])/g, '\\$1')).join(' '));
  if (v.ask) parts.push(`(__whyport_ask ${v.ask})`);
  return parts.length ? ` -a ${fq(parts.join(' '))}` : '';
}
