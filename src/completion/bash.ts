import { allCommands, COMPLETE_COMMAND, optionWords, type CompletionSpec, type OptionSpec, type Values } from './spec.js';

/** A word as bash reads it back: single-quoted unless it is plainly safe. */
export function bashQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

const q = bashQuote;

/**
 * The bash completion script: one function, `_whyport`, registered with `complete -F`. It reads
 * the words before the cursor the way commander will (which options take the next word, where
 * the positionals are) and offers what the spec says fits there. Service names for PORT and the
 * units for --service are asked of whyport itself at each Tab (`whyport __complete …`).
 */
export function bashScript(spec: CompletionSpec): string {
  const commands = allCommands(spec.root);
  const lines: string[] = [];
  const out = (s = '') => lines.push(s);

  out(`# bash completion for whyport ${spec.version}, printed by \`whyport completion bash\`.`);
  out('#   whyport completion bash > /etc/bash_completion.d/whyport   (or, for this shell only:');
  out('#   source <(whyport completion bash))');
  out();
  out('# The subcommands of a command (the first word of whyport, of whyport baseline, …).');
  out('_whyport_commands() {');
  out('  case $1 in');
  for (const c of commands.filter((c) => c.commands.length)) out(`    ${q(c.path)}) _whyport_cmds=(${c.commands.map((s) => q(s.name)).join(' ')}) ;;`);
  out('    *) _whyport_cmds=() ;;');
  out('  esac');
  out('}');
  out();
  out("# A command's option words, and which take the next word: always (valued), unless it is an");
  out('# option itself (optional), or every word up to the next option (variadic).');
  out('_whyport_options() {');
  out('  _whyport_opts=() _whyport_valued= _whyport_optional= _whyport_variadic=');
  out('  case $1 in');
  for (const c of commands) {
    const sets = (
      [
        ['_whyport_valued', (o) => o.arity === 'value' && !o.variadic],
        ['_whyport_optional', (o) => o.arity === 'optional'],
        ['_whyport_variadic', (o) => o.variadic],
      ] as const satisfies readonly (readonly [string, (o: OptionSpec) => boolean])[]
    )
      .map(([name, pred]) => [name, c.options.filter(pred).flatMap((o) => [o.short, o.long].filter((n) => n !== undefined))] as const)
      .filter(([, words]) => words.length)
      .map(([name, words]) => `${name}='|${words.join('|')}|'`);
    out(`    ${q(c.path)})`);
    out(`      _whyport_opts=(${optionWords(c).map(q).join(' ')})`);
    if (sets.length) out(`      ${sets.join(' ')}`);
    out('      ;;');
  }
  out('  esac');
  out('}');
  out();
  out('# What the value of an option may be: path, option, what comes before the value in the word,');
  out('# the value typed so far.');
  out('_whyport_option_values() {');
  out('  case "$1 $2" in');
  for (const c of commands) {
    for (const o of c.options) {
      const body = valuesCode(o.values);
      if (!body) continue;
      const names = [o.short, o.long].filter((n): n is string => n !== undefined).map((n) => q(`${c.path} ${n}`));
      out(`    ${names.join(' | ')}) ${body} ;;`);
    }
  }
  out('  esac');
  out('}');
  out();
  out('# What positional N of a command may be: path, N, the word typed so far.');
  out('_whyport_positional_values() {');
  out('  local n=$2');
  for (const c of commands.filter((c) => c.repeatLast && c.positionals.length)) {
    out(`  [[ $1 == ${q(c.path)} ]] && ((n > ${c.positionals.length - 1})) && n=${c.positionals.length - 1}`);
  }
  out('  case "$1 $n" in');
  for (const c of commands) {
    c.positionals.forEach((v, i) => {
      const body = valuesCode(v, true);
      if (body) out(`    ${q(`${c.path} ${i}`)}) ${body} ;;`);
    });
  }
  out('  esac');
  out('}');
  out();
  out(SHELL_CODE);
  out('complete -F _whyport whyport');
  return lines.join('\n') + '\n';
}

/** The calls that offer `v` for the value `$4` (options: `$3` is what precedes it in the word) or `$3` (positionals). */
function valuesCode(v: Values, positional = false): string {
  const keep = positional ? '""' : '"$3"';
  const val = positional ? '"$3"' : '"$4"';
  const calls: string[] = [];
  if (v.words?.length) calls.push(`_whyport_add_words ${keep} ${val} ${v.words.map(q).join(' ')}`);
  if (v.files) calls.push(`_whyport_add_files ${keep} ${val}`);
  if (v.ask) calls.push(`_whyport_add_asked ${v.ask} ${keep} ${val}`);
  if (v.hostPort) calls.push('_whyport_add_host_port "$3"');
  return calls.join('; ');
}

// The fixed part of the script (a template literal: each shell `$`+`{` is escaped).
const SHELL_CODE = `# Each helper adds to COMPREPLY the candidates that start with the value typed, as the text that
# replaces readline's word: bash splits words at COMP_WORDBREAKS (= : @ …) and replaces only the
# part after the last break, so what precedes it ($_whyport_lead) is cut off.
_whyport_add_words() {
  local keep=$1 val=$2 w r
  shift 2
  for w; do
    [[ $w == "$val"* ]] || continue
    r=$keep$w
    COMPREPLY+=("\${r#"$_whyport_lead"}")
  done
}

_whyport_add_files() {
  local keep=$1 val=$2 f r
  while IFS= read -r f; do
    r=$keep$f
    COMPREPLY+=("\${r#"$_whyport_lead"}")
  done < <(compgen -f -- "$val")
  # Quote what needs it and mark directories, as for any file name.
  compopt -o filenames 2>/dev/null
}

# Names only this machine knows when Tab is pressed: service names of /etc/services, systemd units.
_whyport_add_asked() {
  local kind=$1 keep=$2 val=$3 name r
  while IFS= read -r name; do
    [[ -n $name && $name == "$val"* ]] || continue
    r=$keep$name
    COMPREPLY+=("\${r#"$_whyport_lead"}")
  done < <("\${COMP_WORDS[0]}" ${COMPLETE_COMMAND} "$kind" "$val" 2>/dev/null)
}

# HOST is not completed, but in HOST:PORT the port's service name is.
_whyport_add_host_port() {
  local cur=$1
  if [[ $cur == \\[*\\]:* ]]; then
    _whyport_add_asked ports "\${cur%%]:*}]:" "\${cur#*]:}"
  elif [[ $cur == *:* && $cur != *:*:* ]]; then
    _whyport_add_asked ports "\${cur%%:*}:" "\${cur#*:}"
  fi
}

# COMP_WORDS as whyport will see the words: bash splits "--playbook=x", "HOST:PORT" and
# "unit@instance" into several words; those with no blank between them in COMP_LINE are joined.
_whyport_join_words() {
  local line=\${COMP_LINE:0:COMP_POINT} i word glued
  _whyport_words=() _whyport_cword=0
  for ((i = 0; i < \${#COMP_WORDS[@]}; i++)); do
    word=\${COMP_WORDS[i]}
    glued=1
    while [[ $line == [[:space:]]* ]]; do
      line=\${line:1}
      glued=
    done
    if ((i > 0)) && [[ -n $glued ]]; then
      _whyport_words[\${#_whyport_words[@]} - 1]+=$word
    else
      _whyport_words+=("$word")
    fi
    line=\${line:\${#word}}
    if ((i == COMP_CWORD)); then break; fi
  done
  _whyport_cword=$((\${#_whyport_words[@]} - 1))
}

_whyport_is() { [[ $2 == *"|$1|"* ]]; }

_whyport() {
  COMPREPLY=()
  local -a _whyport_words _whyport_cmds _whyport_opts
  local _whyport_cword _whyport_valued _whyport_optional _whyport_variadic
  _whyport_join_words
  local -a words=("\${_whyport_words[@]}")
  local cword=$_whyport_cword
  local cur=\${words[cword]} _whyport_lead=
  [[ -n \${COMP_WORDBREAKS-} ]] && _whyport_lead=\${cur%"\${cur##*[$COMP_WORDBREAKS]}"}

  # The command: whyport, or the subcommand its first words name (whyport playbook graph).
  local path= i=1
  while ((i < cword)); do
    _whyport_commands "$path"
    [[ -n \${words[i]} && " \${_whyport_cmds[*]} " == *" \${words[i]} "* ]] || break
    path=\${path:+$path }\${words[i]}
    ((i++))
  done
  _whyport_options "$path"

  # The words before the cursor, as commander reads them: n positionals so far, and the option
  # whose value the next word is (pending), may be (optional) or continues (variadic).
  local n=0 pending= optional= variadic= ddash= word name
  for ((; i < cword; i++)); do
    word=\${words[i]}
    if [[ -n $ddash ]]; then ((n++)); continue; fi
    if [[ -n $pending ]]; then pending=; continue; fi
    if [[ $word == -- ]]; then ddash=1 optional= variadic=; continue; fi
    if [[ $word == -?* ]]; then
      optional= variadic=
      [[ $word == --*=* ]] && continue
      name=$word
      if [[ $word != --* && \${#word} -gt 2 ]]; then
        # -pNAME carries its value; -yv is a cluster of flags, its last one may take the next word.
        _whyport_is "\${word:0:2}" "$_whyport_valued$_whyport_variadic" && continue
        name=-\${word: -1}
      fi
      if _whyport_is "$name" "$_whyport_variadic"; then variadic=$name
      elif _whyport_is "$name" "$_whyport_valued"; then pending=$name
      elif _whyport_is "$name" "$_whyport_optional"; then optional=$name
      fi
      continue
    fi
    if [[ -n $optional ]]; then optional=; continue; fi
    [[ -n $variadic ]] && continue
    ((n++))
  done

  if [[ -n $pending ]]; then _whyport_option_values "$path" "$pending" "" "$cur"; return 0; fi
  if [[ -z $ddash && $cur == --*=* ]]; then _whyport_option_values "$path" "\${cur%%=*}" "\${cur%%=*}=" "\${cur#*=}"; return 0; fi
  if [[ -z $ddash && $cur == -* ]]; then _whyport_add_words "" "$cur" "\${_whyport_opts[@]}"; return 0; fi
  if [[ -n $optional ]]; then _whyport_option_values "$path" "$optional" "" "$cur"; return 0; fi
  if [[ -n $variadic ]]; then _whyport_option_values "$path" "$variadic" "" "$cur"; return 0; fi
  if ((n == 0)); then
    _whyport_commands "$path"
    _whyport_add_words "" "$cur" "\${_whyport_cmds[@]}"
  fi
  _whyport_positional_values "$path" "$n" "$cur"
  return 0
}`;
