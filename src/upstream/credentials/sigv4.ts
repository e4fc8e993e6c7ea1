import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import type { STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AuthConfig } from '../../config/types.js';
import type { Logger } from '../../observe/log.js';
import { UpstreamError } from '../transport.js';
import type { Credentials, OutboundRequest } from './types.js';

export type AwsSigV4Auth = Extract<AuthConfig, { type: 'aws_sigv4' }>;

export interface SigV4Options {
  serverName: string;
  /** Where AWS_* variables and HOME are read; the process environment by default. */
  env?: NodeJS.ProcessEnv;
  /** STS endpoint override (tests point it at a local fake). */
  stsEndpoint?: string;
  log?: Logger;
  /** Clock in milliseconds, for signing dates and temporary-credential expiry. */
  now?: () => number;
}

interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Temporary credentials are replaced this long before they expire (or at half their life when shorter). */
const ROLE_RENEW_MARGIN_MS = 5 * 60_000;

/**
 * The shared credentials file's `[profile]` sections. Only the three credential keys matter here;
 * everything else in the file (regions, SSO settings) belongs to other tools.
 */
export function parseCredentialsFile(text: string): Map<string, Record<string, string>> {
  const profiles = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (section) {
      current = profiles.get(section[1]) ?? {};
      profiles.set(section[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    if (current && eq > 0) current[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return profiles;
}

/** AWS SigV4 signing of every upstream request, body hash included, optionally as an assumed role. */
export function awsSigV4(auth: AwsSigV4Auth, opts: SigV4Options): Credentials {
  return new SigV4Credentials(auth, opts);
}

class SigV4Credentials implements Credentials {
  private base?: AwsCredentials;
  private role?: { credentials: AwsCredentials; renewAt: number };
  private inflight?: Promise<AwsCredentials>;
  private readonly signer: SignatureV4;
  /** Loaded on first use: the AWS SDK is heavy, and most gateways never assume a role. */
  private sts?: Promise<{ client: STSClient; AssumeRoleCommand: typeof import('@aws-sdk/client-sts').AssumeRoleCommand }>;
  private readonly env: NodeJS.ProcessEnv;
  private readonly now: () => number;

  constructor(
    private readonly auth: AwsSigV4Auth,
    private readonly opts: SigV4Options,
  ) {
    this.env = opts.env ?? process.env;
    this.now = opts.now ?? Date.now;
    this.signer = new SignatureV4({
      service: auth.service,
      region: auth.region,
      sha256: Sha256,
      credentials: () => this.current(),
    });
    if (auth.roleName) {
      this.sts = import('@aws-sdk/client-sts').then(({ STSClient, AssumeRoleCommand }) => ({
        client: new STSClient({
          region: auth.region,
          credentials: async () => this.baseCredentials(),
          maxAttempts: 2,
          ...(opts.stsEndpoint ? { endpoint: opts.stsEndpoint } : {}),
        }),
        AssumeRoleCommand,
      }));
    }
  }

  async apply(req: OutboundRequest): Promise<void> {
    const { url } = req;
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of url.searchParams) {
      const prior = query[key];
      query[key] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
    }
    const signed = await this.signer.sign(
      {
        method: req.method.toUpperCase(),
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query,
        headers: { ...req.headers, host: url.host },
        body: req.body ?? '',
      },
      { signingDate: new Date(this.now()) },
    );
    for (const [name, value] of Object.entries(signed.headers)) req.headers[name.toLowerCase()] = value;
  }

  async refresh(): Promise<boolean> {
    // Rotated keys (environment, credentials file) and revoked role sessions are both picked up afresh.
    if (!this.inflight) {
      this.base = undefined;
      this.role = undefined;
    }
    await this.current();
    return true;
  }

  private current(): Promise<AwsCredentials> {
    if (!this.sts) return Promise.resolve(this.baseCredentials());
    if (this.role && this.now() < this.role.renewAt) return Promise.resolve(this.role.credentials);
    this.inflight ??= this.assumeRole().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async assumeRole(): Promise<AwsCredentials> {
    const roleArn = this.auth.roleName as string;
    let out;
    try {
      const sts = await this.sts!;
      out = await sts.client.send(new sts.AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: this.sessionName() }));
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode;
      throw this.fail(
        `STS AssumeRole of ${roleArn} failed: ${e.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? ''}`,
        status === undefined || status >= 500,
      );
    }
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw this.fail(`STS AssumeRole of ${roleArn} returned no credentials`);
    const credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
    const now = this.now();
    const expires = c.Expiration ? c.Expiration.getTime() : now + 3600_000;
    this.role = { credentials, renewAt: expires - Math.min(ROLE_RENEW_MARGIN_MS, Math.max(expires - now, 0) / 2) };
    this.opts.log?.debug({ server: this.opts.serverName, role: roleArn, expires: new Date(expires).toISOString() }, 'assumed AWS role');
    return credentials;
  }

  /** STS accepts [\w+=,.@-]{2,64}; server names may hold other characters. */
  private sessionName(): string {
    const name = this.auth.sessionName ?? `toolgate-${this.opts.serverName}`;
    return name
      .replace(/[^\w+=,.@-]/g, '_')
      .slice(0, 64)
      .padEnd(2, '_');
  }

  private baseCredentials(): AwsCredentials {
    this.base ??= this.resolveBase();
    return this.base;
  }

  /** Config values, then the standard environment variables, then the shared credentials file. */
  private resolveBase(): AwsCredentials {
    const { auth, env } = this;
    if (auth.accessKeyId || auth.secretAccessKey) {
      if (!auth.accessKeyId || !auth.secretAccessKey) {
        throw this.fail('aws_access_key_id and aws_secret_access_key must be set together');
      }
      return { accessKeyId: auth.accessKeyId, secretAccessKey: auth.secretAccessKey, sessionToken: auth.sessionToken };
    }
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      return {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        sessionToken: env.AWS_SESSION_TOKEN || undefined,
      };
    }
    const file = this.credentialsFile();
    const profileName = env.AWS_PROFILE || 'default';
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // No file is the common case on servers that use the other sources.
    }
    const profile = text === undefined ? undefined : parseCredentialsFile(text).get(profileName);
    if (profile?.aws_access_key_id && profile.aws_secret_access_key) {
      return {
        accessKeyId: profile.aws_access_key_id,
        secretAccessKey: profile.aws_secret_access_key,
        sessionToken: profile.aws_session_token || profile.aws_security_token || undefined,
      };
    }
    throw this.fail(
      'no AWS credentials: set aws_access_key_id and aws_secret_access_key in the config, ' +
        `the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY environment variables, or profile '${profileName}' in ${file}` +
        (text === undefined ? ' (file not found)' : ''),
    );
  }

  private credentialsFile(): string {
    const home = this.env.HOME || homedir();
    const configured = this.env.AWS_SHARED_CREDENTIALS_FILE;
    if (!configured) return join(home, '.aws', 'credentials');
    return configured.startsWith('~/') ? join(home, configured.slice(2)) : configured;
  }

  private fail(detail: string, unreachable = false): UpstreamError {
    const secrets = [this.auth.secretAccessKey, this.auth.sessionToken, this.base?.secretAccessKey, this.base?.sessionToken];
    const clean = secrets.reduce<string>((text, s) => (s ? text.split(s).join('[redacted]') : text), detail);
    return new UpstreamError(
      unreachable ? 'unreachable' : 'unauthorized',
      `AWS SigV4 credentials for server '${this.opts.serverName}': ${clean}`,
    );
  }
}
