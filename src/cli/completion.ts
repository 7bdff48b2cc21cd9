// `porthouse completion bash|zsh`: a completion script for the shell, made from the command
// table below and the client flags, so a new command or flag completes without editing shell.
import { UsageError, clientFlags } from './args.js';

/** Every command, with the words that may follow it (subcommands). */
export const COMMANDS: Record<string, readonly string[]> = {
  register: [],
  login: [],
  logout: [],
  whoami: [],
  rooms: [],
  room: ['create', 'show', 'set', 'delete'],
  join: [],
  leave: [],
  invite: [],
  members: [],
  history: [],
  edit: [],
  delete: [],
  chat: [],
  send: [],
  listen: [],
  ping: [],
  sockets: [],
  trace: [],
  serve: [],
  admin: ['add-user', 'grant', 'token'],
  user: ['add', 'admin'],
  token: [],
  completion: ['bash', 'zsh'],
  'config-doc': [],
  'frames-doc': [],
  help: [],
};

export function completionScript(shell: string | undefined): string {
  const commands = Object.keys(COMMANDS).join(' ');
  const flags = [...Object.keys(clientFlags ?? {}), 'help'].map((f) => `--${f}`).join(' ');
  const subs = Object.entries(COMMANDS)
    .filter(([, words]) => words.length > 0)
    .map(([c, words]) => `    ${c}) words="${words.join(' ')}" ;;`)
    .join('\n');
  const bash = `# porthouse completion for bash: source <(porthouse completion bash)
_porthouse() {
  local cur=\${COMP_WORDS[COMP_CWORD]} words=""
  if [[ $cur == -* ]]; then
    words="${flags}"
  elif [[ $COMP_CWORD -eq 1 ]]; then
    words="${commands}"
  elif [[ $COMP_CWORD -eq 2 ]]; then
    case \${COMP_WORDS[1]} in
${subs}
    esac
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _porthouse porthouse
`;
  if (shell === 'bash') return bash;
  // zsh runs the bash function through its bashcompinit layer.
  if (shell === 'zsh')
    return `# porthouse completion for zsh: source <(porthouse completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash}`;
  throw new UsageError('expected: completion bash|zsh');
}
