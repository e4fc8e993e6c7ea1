import type { ServerConfig } from '../../config/types.js';
import type { Logger } from '../../observe/log.js';
import { staticHeadersCredentials } from './headers.js';
import { oauth2ClientCredentials } from './oauth2.js';
import { awsSigV4 } from './sigv4.js';
import { staticCredentials } from './static.js';
import { NO_CREDENTIALS, type Credentials } from './types.js';

export type { Credentials, OutboundRequest } from './types.js';

export interface CredentialsOptions {
  log?: Logger;
  /** Where AWS_* variables and HOME are read; the process environment by default. */
  env?: NodeJS.ProcessEnv;
  fetchImpl?: typeof fetch;
  stsEndpoint?: string;
}

/** The credentials an upstream's transport applies to every HTTP request: auth_type, then static_headers. */
export function credentialsFor(server: ServerConfig, opts: CredentialsOptions = {}): Credentials {
  // A stdio child gets its secrets through `env`; there is no HTTP request to put headers on.
  if (server.transport === 'stdio') return NO_CREDENTIALS;
  const { auth } = server;
  let inner: Credentials;
  switch (auth.type) {
    case 'oauth2':
      inner = oauth2ClientCredentials(auth, {
        serverName: server.name,
        serverUrl: server.url ?? '',
        log: opts.log,
        fetchImpl: opts.fetchImpl,
        timeoutMs: server.timeoutMs,
      });
      break;
    case 'aws_sigv4':
      inner = awsSigV4(auth, { serverName: server.name, env: opts.env, stsEndpoint: opts.stsEndpoint, log: opts.log });
      break;
    default:
      inner = staticCredentials(auth);
  }
  return staticHeadersCredentials(server, inner);
}
