import type { ServerConfig } from '../config/types.js';

const MASK = '[redacted]';
/** Shorter values would mask ordinary words; no credential worth the name is this short. */
const MIN_SECRET_CHARS = 6;
/** Tokens learnt from the wire (OAuth renewals, per-request credentials); the oldest are forgotten first. */
const MAX_LEARNT = 64;
const SCHEME = /^(?:bearer|basic|token)\s+(.+)$/i;

/**
 * Every secret one upstream's requests carry, and the one place where text that came from that
 * upstream (error bodies, JSON-RPC error messages, stderr, connection errors) loses them before it
 * becomes an error, a log line or health state. An upstream may echo whatever we sent it.
 */
export class Redactor {
  private readonly fixed = new Set<string>();
  /** The fixed values that are credentials for sure (auth values, header values, secret-named env). */
  private readonly credentials = new Set<string>();
  private readonly learnt = new Set<string>();
  private sorted?: string[];
  private sortedCredentials?: string[];

  constructor(values: Iterable<string> = [], credentials: Iterable<string> = values) {
    for (const v of values) this.addTo(this.fixed, v);
    for (const v of credentials) this.addTo(this.credentials, v);
  }

  /** A credential put on the wire at request time (an OAuth token, a client's x-mcp-* header). */
  learn(value: string): void {
    if (this.fixed.has(value) || this.learnt.has(value)) return;
    const before = this.learnt.size;
    this.addTo(this.learnt, value);
    if (this.learnt.size === before) return;
    while (this.learnt.size > MAX_LEARNT) this.learnt.delete(this.learnt.values().next().value as string);
  }

  redact(text: string): string {
    if (text.length === 0) return text;
    return mask(text, (this.sorted ??= longestFirst([...this.fixed, ...this.learnt])));
  }

  /**
   * For a server's successful answers, which go to the client as they are: only what is a credential
   * for sure. Every env value is masked in errors and logs, but a result may rightly hold an env
   * value that is not a secret (a directory, a region), and masking it there would corrupt the answer.
   */
  redactCredentials(text: string): string {
    if (text.length === 0) return text;
    return mask(text, (this.sortedCredentials ??= longestFirst([...this.credentials, ...this.learnt])));
  }

  /** A JSON value (an error's data) with every string redacted; the same object when nothing matched. */
  redactValue(v: unknown): unknown {
    if (v === undefined) return v;
    const text = JSON.stringify(v);
    if (text === undefined) return v;
    const clean = this.redact(text);
    if (clean === text) return v;
    try {
      return JSON.parse(clean) as unknown;
    } catch {
      return MASK;
    }
  }

  private addTo(set: Set<string>, value: string): void {
    const add = (s: string) => {
      if (s.length < MIN_SECRET_CHARS || set.has(s)) return;
      set.add(s);
      this.sorted = undefined;
      this.sortedCredentials = undefined;
    };
    add(value);
    const m = SCHEME.exec(value);
    if (m) {
      add(m[1]);
      // `Basic <base64>`: what it decodes to (`user:password`) and the password itself may be echoed too.
      if (/^basic/i.test(value)) addDecoded(m[1], add);
    }
  }
}

function longestFirst(values: string[]): string[] {
  return values.sort((a, b) => b.length - a.length);
}

/** Longest first: a token inside `Bearer <token>` is masked with its scheme, not around it. */
function mask(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

/** Env names that hold credentials (a stdio child's way of getting them). */
const SECRET_ENV_NAME = /key|token|secret|passw|pwd|credential|auth|cookie|session|private|cert/i;

function addDecoded(b64: string, add: (s: string) => void): void {
  const plain = Buffer.from(b64, 'base64').toString('utf8');
  add(plain);
  const colon = plain.indexOf(':');
  if (colon >= 0) add(plain.slice(colon + 1));
}

/** The secrets a server's configuration holds, in every form they travel in. */
export function redactorFor(server: ServerConfig): Redactor {
  const values: string[] = [];
  const auth = server.auth as Record<string, unknown>;
  for (const k of ['value', 'clientSecret', 'secretAccessKey', 'sessionToken']) {
    if (typeof auth[k] === 'string') values.push(auth[k] as string);
  }
  if (server.auth.type === 'basic') {
    const b64 = Buffer.from(server.auth.value, 'utf8').toString('base64');
    values.push(b64);
    const colon = server.auth.value.indexOf(':');
    if (colon >= 0) values.push(server.auth.value.slice(colon + 1));
  }
  values.push(...Object.values(server.staticHeaders));
  const credentials = [...values];
  // A stdio child gets its secrets through env; it may print them on stderr or in an error.
  for (const [name, value] of Object.entries(server.env)) {
    values.push(value);
    if (SECRET_ENV_NAME.test(name)) credentials.push(value);
  }
  return new Redactor(values, credentials);
}

/** For tests and callers holding no server: redacts nothing. */
export const NO_REDACTION = new Redactor();
