import type { SECRET_DETECTORS } from '../../../config/guardrails.js';
import { findAll, type Detector } from './types.js';

/** A JWT's first part is base64url JSON naming its algorithm: what tells a token from any three dotted words. */
function isJwt(token: string): boolean {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && 'alg' in header;
  } catch {
    return false;
  }
}

/** A bearer token has letters and digits; "Bearer authentication" is prose. */
const tokenLike = (t: string) => /[A-Za-z]/.test(t) && /\d/.test(t);

/** Credentials by their published formats (the prefixes providers chose so scanners can find them). */
export const SECRETS: Record<(typeof SECRET_DETECTORS)[number], Detector> = {
  aws_access_key_id: findAll(/\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b/g, 'aws_access_key_id'),
  github_token: findAll(/\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g, 'github_token'),
  gitlab_token: findAll(/\bglpat-[A-Za-z0-9_-]{20,}/g, 'gitlab_token'),
  slack_token: findAll(/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, 'slack_token'),
  private_key: findAll(
    /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g,
    'private_key',
  ),
  jwt: findAll(/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, 'jwt', isJwt),
  bearer_token: findAll(/\bBearer\s+([A-Za-z0-9._~+/-]{20,}=*)/gi, 'bearer_token', tokenLike, 1),
};
