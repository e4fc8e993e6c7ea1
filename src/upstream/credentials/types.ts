/**
 * Credentials for one upstream server. The transport calls `apply` for every HTTP request it makes
 * (POSTs, the SSE GET, DELETE), with the exact body bytes so signers (SigV4) can hash them.
 */
export interface OutboundRequest {
  method: string;
  url: URL;
  /** Mutable: the provider adds its headers here (lower-case names). */
  headers: Record<string, string>;
  body?: string;
}

export interface Credentials {
  apply(req: OutboundRequest): void | Promise<void>;
  /** After an upstream 401: drop cached tokens and fetch new ones. True when a retry may now succeed. */
  refresh?(): Promise<boolean>;
}

export const NO_CREDENTIALS: Credentials = { apply() {} };
