// The SSH authentication attempts for a host (agent, key, password), built from its auth column
// and the settings, with the parsed keys and attempt lists cached for one cycle.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { Host } from '../model.js';
import { failure, type RunOutcome } from './transport.js';

const { utils } = ssh2;
type ParsedKey = ssh2.ParsedKey;

// One attempt in ssh2's authHandler list.
export type AuthMethod =
  | { type: 'publickey'; username: string; key: ParsedKey }
  | { type: 'agent'; username: string; agent: string }
  | { type: 'password'; username: string; password: string }
  | {
      type: 'keyboard-interactive';
      username: string;
      prompt: (name: string, instructions: string, lang: string, prompts: unknown[], finish: (answers: string[]) => void) => void;
    };

// Where credentials come from.
export interface SshAuthOptions {
  /** Key file for rows without an auth column; null = first of ~/.ssh/id_{ed25519,ecdsa,rsa}. */
  readonly identityPath: string | null;
  readonly passphrase: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** Resolves an inventory key path (relative to the inventory file, ~ expanded). */
  readonly resolveKeyPath: (path: string) => string;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

// Builds and caches the auth attempts of one cycle; clear() at the end of the cycle.
export class SshAuth {
  // Parsing an encrypted key runs bcrypt; do it once per file per cycle, not per host.
  private readonly keyCache = new Map<string, Promise<ParsedKey | Error>>();
  // The auth attempts per user and auth setting: hosts that share them share one list (ssh2 copies
  // each attempt before using it), instead of a new list and a key lookup per host.
  private readonly authCache = new Map<string, Promise<AuthMethod[] | RunOutcome>>();

  constructor(private readonly options: SshAuthOptions) {}

  /** The auth attempts for a host, in order; a failure value if a key cannot be read. */
  methodsFor(host: Host): Promise<AuthMethod[] | RunOutcome> {
    const { auth } = host;
    const setting = auth.kind === 'key' ? `key ${auth.path}` : auth.kind === 'password-env' ? `password-env ${auth.envVar}` : auth.kind;
    const id = `${host.user}\u0000${setting}`;
    let methods = this.authCache.get(id);
    if (methods === undefined) {
      methods = this.build(host);
      this.authCache.set(id, methods);
    }
    return methods;
  }

  /** Forgets the keys and attempt lists (end of a cycle). */
  clear(): void {
    this.keyCache.clear();
    this.authCache.clear();
  }

  private async build(host: Host): Promise<AuthMethod[] | RunOutcome> {
    const username = host.user;
    const agentSocket = this.options.env.SSH_AUTH_SOCK;
    switch (host.auth.kind) {
      case 'agent':
        if (agentSocket === undefined || agentSocket === '') {
          return failure('auth_failed', 'auth', 'auth=agent but SSH_AUTH_SOCK is not set (no ssh-agent for the poller)');
        }
        return [{ type: 'agent', username, agent: agentSocket }];
      case 'key': {
        const key = await this.loadKey(this.options.resolveKeyPath(host.auth.path));
        if (key instanceof Error) return failure('auth_failed', 'auth', key.message, false, key);
        return [{ type: 'publickey', username, key }];
      }
      case 'password-env': {
        const password = this.options.env[host.auth.envVar];
        if (password === undefined) {
          return failure('auth_failed', 'auth', `environment variable ${host.auth.envVar} is not set`);
        }
        return [
          { type: 'password', username, password },
          {
            type: 'keyboard-interactive',
            username,
            prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
          },
        ];
      }
      case 'default': {
        const methods: AuthMethod[] = [];
        if (agentSocket !== undefined && agentSocket !== '') methods.push({ type: 'agent', username, agent: agentSocket });
        const candidates =
          this.options.identityPath !== null
            ? [this.options.identityPath]
            : DEFAULT_KEYS.map((name) => join(homedir(), '.ssh', name));
        for (const path of candidates) {
          const key = await this.loadKey(path);
          if (!(key instanceof Error)) {
            methods.push({ type: 'publickey', username, key });
            break;
          }
          if (this.options.identityPath !== null) return failure('auth_failed', 'auth', key.message, false, key);
        }
        if (methods.length === 0) {
          return failure('auth_failed', 'auth', 'no credentials: no ssh-agent (SSH_AUTH_SOCK), no ~/.ssh/id_* key, and no auth column');
        }
        return methods;
      }
    }
  }

  private loadKey(path: string): Promise<ParsedKey | Error> {
    let cached = this.keyCache.get(path);
    if (cached === undefined) {
      cached = readFile(path).then(
        (data) => {
          const parsed = utils.parseKey(data, this.options.passphrase);
          if (parsed instanceof Error) {
            const encrypted = /encrypted|passphrase/i.test(parsed.message);
            return new Error(
              encrypted
                ? `key ${path} is encrypted: set its passphrase in the environment variable the settings name (ssh.passphraseEnv)`
                : `cannot parse key ${path}: ${parsed.message}`,
            );
          }
          const key = Array.isArray(parsed) ? parsed[0] : parsed;
          if (key === undefined || !key.isPrivateKey()) return new Error(`${path} holds no private key`);
          return key;
        },
        (error: NodeJS.ErrnoException) => new Error(`cannot read key ${path}: ${error.code ?? error.message}`),
      );
      this.keyCache.set(path, cached);
    }
    return cached;
  }
}
