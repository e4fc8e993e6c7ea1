import { z } from 'zod';
import { isMapping, parseFields, type Env } from './fields.js';
import type { IssueList } from './issues.js';
import { saltKeyFrom } from '../store/sealed-values.js';
import { DEFAULT_STDIO_COMMANDS, stdioAllowList } from '../upstream/stdio-policy.js';

/** Servers registered through the management API: whether they are on, and what their write path needs. */
export interface StoredServerSettings {
  /** LiteLLM's `general_settings.store_model_in_db` (or `STORE_MODEL_IN_DB=True`). */
  enabled: boolean;
  /** `TOOLGATE_SALT_KEY`, else LiteLLM's `LITELLM_SALT_KEY`: seals stored credentials. */
  saltKey?: string;
  /** stdio commands admitted beside the default set (`TOOLGATE_STDIO_EXTRA_COMMANDS`, `LITELLM_MCP_STDIO_EXTRA_COMMANDS`). */
  stdioExtraCommands: string[];
}

const TRUE = /^(true|1|yes)$/i;

export function parseStoredServerSettings(generalSettings: unknown, env: Env, issues: IssueList): StoredServerSettings {
  const general = isMapping(generalSettings)
    ? parseFields({ store_model_in_db: z.boolean({ error: 'expected true or false' }) }, generalSettings, ['general_settings'], issues)
    : {};
  const saltKey = saltKeyFrom(env);
  const defaults: readonly string[] = DEFAULT_STDIO_COMMANDS;
  return {
    enabled: general.store_model_in_db ?? TRUE.test(env.STORE_MODEL_IN_DB ?? ''),
    ...(saltKey && { saltKey }),
    stdioExtraCommands: stdioAllowList(env).filter((c) => !defaults.includes(c)),
  };
}
