import { type Assignment, type Command, forEachChild, type ParsedScript, parse, type SyntaxNode, type Word } from 'unbash';

/** One simple command found in a shell script. `name` has the directory stripped; `path` is the word as written. */
export interface ShellCommand {
  name: string;
  path: string;
  args: string[];
}

/** The script cannot be read with certainty; callers must treat the action as needing review, never as allowed. */
export class ShellParseError extends Error {
  override readonly name = 'ShellParseError';
}

/** The name given to a command whose name is only known at run time (`$CMD x`, `$(echo rm) -rf /`, `bash -c "$X"`). */
export const DYNAMIC_COMMAND = '<dynamic>';

const MAX_SOURCE_BYTES = 64 * 1024;
/** How many times a string may be parsed again as a script (bash -c, eval, su -c, heredoc into a shell). */
const MAX_REPARSE_DEPTH = 8;
/** Wrapper chains (`sudo sudo … rm`) repeat their arguments in every command; this bounds the output. */
const MAX_OUTPUT_WORDS = 100_000;

/** A word after quote removal. `static` words are known before run time; the others keep their source text. */
interface Token {
  value: string;
  text: string;
  static: boolean;
}

const NO_TOKENS: readonly Token[] = [];

class State {
  readonly out: ShellCommand[] = [];
  words = 0;
  /** How many strings deep the script being walked was parsed again. */
  depth = 0;
  /** Bound once per call, so the walk creates no function per node. */
  readonly visit: (node: SyntaxNode) => void = visitNode.bind(undefined, this);
}

/**
 * Every simple command anywhere in `source`, in source order: through lists and pipes, compound
 * commands, functions, command and process substitution, strings run again as scripts
 * (`bash -c`, `eval`, `su -c`, a heredoc fed to a shell), and the command run by a wrapper
 * (`sudo`, `env`, `xargs`, `timeout`, `find -exec`, …), which is yielded after the wrapper itself.
 */
export function shellCommands(source: string): ShellCommand[] {
  const st = new State();
  collectScript(source, st);
  return st.out;
}

function collectScript(source: string, st: State): void {
  if (st.depth > MAX_REPARSE_DEPTH) throw new ShellParseError(`shell commands nested more than ${MAX_REPARSE_DEPTH} levels deep`);
  if (source.length > MAX_SOURCE_BYTES || (source.length > MAX_SOURCE_BYTES / 3 && Buffer.byteLength(source) > MAX_SOURCE_BYTES)) {
    throw new ShellParseError('shell command longer than 64 KiB');
  }
  let script: ParsedScript;
  try {
    script = parse(source);
  } catch (e) {
    throw new ShellParseError(`unparseable shell command: ${(e as Error).message}`);
  }
  st.visit(script);
}

function visitNode(st: State, node: SyntaxNode): void {
  if (node.type === 'Script') {
    // unbash recovers from errors with a partial tree; a partial tree could hide a command, so any error refuses.
    const first = (node as ParsedScript).errors?.[0];
    if (first !== undefined) throw new ShellParseError(`unparseable shell command: ${first.message} (at offset ${first.pos})`);
  } else if (node.type === 'Command') {
    onCommand(node, st);
  } else if (node.type === 'Word' && !mayRunCommands(node.text)) {
    return; // resolving a word's parts is most of the walk's cost, and only $…, `…`, <(…) and >(…) can hold commands
  }
  forEachChild(node, st.visit);
}

const MAY_RUN_COMMANDS = /[$`]|[<>]\(/;

function mayRunCommands(text: string): boolean {
  return MAY_RUN_COMMANDS.test(text);
}

function onCommand(cmd: Command, st: State): void {
  if (cmd.name === undefined) return;
  const argv = [wordToken(cmd.name)];
  for (const a of cmd.args) argv.push(a.type === 'Word' ? wordToken(a) : assignmentToken(a));
  emit(argv, stdinScripts(cmd), st);
}

function emit(argv: Token[], stdin: readonly Token[], st: State): void {
  const head = argv[0];
  if (head === undefined) return;
  st.words += argv.length;
  if (st.words > MAX_OUTPUT_WORDS) throw new ShellParseError('shell command too complex');
  const name = head.static ? baseName(head.value) : DYNAMIC_COMMAND;
  const args: string[] = [];
  for (let i = 1; i < argv.length; i++) args.push(tokenText(argv[i] as Token));
  st.out.push({ name, path: head.static ? head.value : head.text, args });
  if (!head.static) return;

  if (SHELLS.has(name)) shellInvocation(argv, stdin, st);
  else if (name === 'eval') reparse(joined(argv.slice(1)), st);
  else if (name === 'su') suCommand(argv, st);
  else if (name === 'trap') trapCommand(argv, st);
  else if (name === 'find') findExec(argv, st);
  else if (name !== 'env' || !envSplitString(argv, st)) wrapped(name, argv, stdin, st);
}

/** The command a wrapper such as sudo, env or xargs runs, yielded as a command of its own. */
function wrapped(name: string, argv: Token[], stdin: readonly Token[], st: State): void {
  const spec = WRAPPERS.get(name);
  if (spec === undefined) return;
  const start = wrappedStart(argv, spec);
  if (start < argv.length) emit(argv.slice(start), stdin, st);
}

// ------------------------------------------------------------------ words

function wordToken(w: Word): Token {
  return { value: w.value, text: w.text, static: isStaticWord(w) };
}

function assignmentToken(a: Assignment): Token {
  const v = a.value;
  const isStatic = v.type === 'Word' && a.index === undefined && isStaticWord(v);
  return { value: isStatic ? `${a.name}${a.append ? '+' : ''}=${v.value}` : a.text, text: a.text, static: isStatic };
}

/** Static means: only literal text and quotes, so quote removal gives exactly what runs. */
function isStaticWord(w: Word): boolean {
  if (w.parts === undefined) return true;
  for (const p of w.parts) {
    if (p.type === 'Literal' || p.type === 'SingleQuoted' || p.type === 'AnsiCQuoted') continue;
    if ((p.type === 'DoubleQuoted' || p.type === 'LocaleString') && allLiteral(p.parts)) continue;
    return false;
  }
  return true;
}

function allLiteral(parts: readonly { type: string }[] | undefined): boolean {
  if (parts === undefined) return true;
  for (const p of parts) if (p.type !== 'Literal') return false;
  return true;
}

function tokenText(t: Token): string {
  return t.static ? t.value : t.text;
}

function baseName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? path : path.slice(slash + 1);
}

function joined(tokens: readonly Token[]): Token {
  return {
    value: tokens.map((t) => t.value).join(' '),
    text: tokens.map((t) => t.text).join(' '),
    static: tokens.every((t) => t.static),
  };
}

/**
 * Runs a string again as a script. A string that is not static may become any code at run time,
 * so it also yields a dynamic command; its visible part is still parsed so rules see what is there.
 */
function reparse(t: Token, st: State): void {
  if (!t.static) st.out.push({ name: DYNAMIC_COMMAND, path: t.text, args: [] });
  st.depth++;
  collectScript(t.value, st);
  st.depth--;
}

/** Here-strings and heredocs: what a shell with no script operand reads as its script. */
function stdinScripts(cmd: Command): readonly Token[] {
  if (cmd.redirects.length === 0) return NO_TOKENS;
  const out: Token[] = [];
  for (const r of cmd.redirects) {
    if (r.type === 'HereString' && r.target !== undefined) out.push(wordToken(r.target));
    if (r.type === 'HereDoc') {
      const quoted = r.delimiter?.quoted === true;
      out.push({ value: r.body.text, text: r.body.text, static: quoted || allLiteral(r.body.parts) });
    }
  }
  return out;
}

// ------------------------------------------------------------------ commands that run other commands

const SHELLS: ReadonlySet<string> = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'rbash']);

/** `bash [opts] -c STRING`, `bash [opts]` reading stdin, or `bash [opts] FILE` (whose content is not visible here). */
function shellInvocation(argv: Token[], stdin: readonly Token[], st: State): void {
  let hasC = false;
  let i = 1;
  for (; i < argv.length; i++) {
    const t = argv[i] as Token;
    if (!t.static) break;
    const v = t.value;
    if (v === '--' || v === '-') {
      i++;
      break;
    }
    if (v.length < 2 || (v[0] !== '-' && v[0] !== '+')) break;
    if (v.startsWith('--')) {
      if (v === '--rcfile' || v === '--init-file') i++;
      continue;
    }
    for (const ch of v.slice(1)) {
      if (ch === 'c') hasC = true;
      else if (ch === 'o' || ch === 'O') i++; // -o pipefail: the next word is the option's name
    }
  }
  const operand = argv[i];
  if (operand === undefined) {
    if (!hasC) for (const s of stdin) reparse(s, st);
    return;
  }
  if (hasC) {
    reparse(operand, st);
  } else if (!operand.static) {
    // A dynamic first word may expand to options such as -c; what runs cannot be known.
    st.out.push({ name: DYNAMIC_COMMAND, path: operand.text, args: [] });
  }
}

/** `su [opts] -c STRING [user]` and `--command=STRING`. */
function suCommand(argv: Token[], st: State): void {
  for (let i = 1; i < argv.length; i++) {
    const v = (argv[i] as Token).value;
    const next = argv[i + 1];
    if ((v === '-c' || v === '--command') && next !== undefined) reparse(next, st);
    else if (v.startsWith('--command=')) reparse({ ...(argv[i] as Token), value: v.slice('--command='.length) }, st);
  }
}

/** `trap 'STRING' SIGNAL…` runs STRING later, in this shell. */
function trapCommand(argv: Token[], st: State): void {
  let i = 1;
  while (i < argv.length && (argv[i] as Token).value.startsWith('-') && (argv[i] as Token).value !== '-') i++;
  const action = argv[i];
  if (action !== undefined && argv.length - i >= 2 && action.value !== '-') reparse(action, st);
}

/** `find … -exec CMD … ;` (also -execdir, -ok, -okdir, and the `+` form). */
function findExec(argv: Token[], st: State): void {
  for (let i = 1; i < argv.length; i++) {
    const v = (argv[i] as Token).value;
    if (v !== '-exec' && v !== '-execdir' && v !== '-ok' && v !== '-okdir') continue;
    let j = i + 1;
    while (j < argv.length && (argv[j] as Token).value !== ';' && (argv[j] as Token).value !== '+') j++;
    emit(argv.slice(i + 1, j), NO_TOKENS, st);
    i = j;
  }
}

/** `env -S 'CMD ARGS'` splits one string into the command line; read it as a script. True when handled. */
function envSplitString(argv: Token[], st: State): boolean {
  for (let i = 1; i < argv.length; i++) {
    const t = argv[i] as Token;
    const v = t.value;
    let first: Token | undefined;
    if (v === '-S' || v === '--split-string') first = argv[++i];
    else if (v.startsWith('--split-string=')) first = { ...t, value: v.slice('--split-string='.length) };
    else if (v.startsWith('-S')) first = { ...t, value: v.slice(2) };
    else if (v === '-u' || v === '-C' || v === '--unset' || v === '--chdir') i++;
    else if (!v.startsWith('-') && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(v)) return false;
    if (first === undefined) continue;
    reparse(joined([first, ...argv.slice(i + 1)]), st);
    return true;
  }
  return false;
}

interface Wrapper {
  /** Options whose value is the next word. */
  withArg: ReadonlySet<string>;
  /** Operands before the command (timeout's duration, chroot's directory). */
  operands: number;
  /** Skips NAME=value words before the command (env, sudo). */
  assignments: boolean;
}

/** `withArg` is a space-separated list of the options that take the next word as their value. */
function wrapper(withArg: string, operands = 0, assignments = false): Wrapper {
  return { withArg: new Set(withArg.split(' ').filter((o) => o !== '')), operands, assignments };
}

const WRAPPERS: ReadonlyMap<string, Wrapper> = new Map([
  ['sudo', wrapper('-u -g -h -p -C -D -r -t -T -U --user --group --host --prompt --chdir', 0, true)],
  ['doas', wrapper('-u -C')],
  ['env', wrapper('-u -C --unset --chdir', 0, true)],
  ['nohup', wrapper('')],
  ['time', wrapper('-f -o --format --output')],
  ['nice', wrapper('-n --adjustment')],
  ['timeout', wrapper('-s -k --signal --kill-after', 1)],
  ['exec', wrapper('-a')],
  ['command', wrapper('')],
  ['builtin', wrapper('')],
  ['xargs', wrapper('-a -d -E -I -L -n -P -s --arg-file --delimiter --eof --replace --max-lines --max-args --max-procs --max-chars')],
  ['setsid', wrapper('')],
  ['stdbuf', wrapper('-i -o -e --input --output --error')],
  ['ionice', wrapper('-c -n --class --classdata')],
  ['chroot', wrapper('--userspec --groups', 1)],
  ['busybox', wrapper('')],
]);

/** Index of the wrapped command's name in argv (argv.length when there is none). */
function wrappedStart(argv: Token[], spec: Wrapper): number {
  let operands = spec.operands;
  for (let i = 1; i < argv.length; i++) {
    const v = (argv[i] as Token).value;
    if (v === '--') return i + 1 + operands;
    if (v.length > 1 && v[0] === '-') {
      if (spec.withArg.has(v)) i++;
      continue;
    }
    if (v === '-') continue; // env -: same as env -i
    if (spec.assignments && /^[A-Za-z_][A-Za-z0-9_]*=/.test(v)) continue;
    if (operands > 0) {
      operands--;
      continue;
    }
    return i;
  }
  return argv.length;
}
