import type { Logger } from 'pino';
import type { ServerConfig } from '../../config/types.js';
import type { ServerSource } from '../../registry/registry.js';
import type { Store } from '../../store/types.js';
import type { Alerts } from '../guardrails/alerts.js';
import { PinBook } from './book.js';
import { PinningHook } from './hook.js';
import { UpstreamTools } from './upstream-tools.js';

export interface Pinning {
  book: PinBook;
  tools: UpstreamTools;
  hook: PinningHook;
  /** Follows the registry: servers defined later, and every upstream's list_changed. */
  attach(source: ServerSource): void;
  stop(): void;
}

/** Loads the stored pins before anything listens, so the first call on a pinned server is already checked. */
export async function startPinning(store: Store, servers: readonly ServerConfig[], alerts: Alerts, log: Logger): Promise<Pinning> {
  const book = new PinBook(store, log);
  await book.start(servers);
  let hook: PinningHook | undefined;
  const tools = new UpstreamTools((server) => hook?.changed(server));
  hook = new PinningHook(book, tools, alerts);
  return {
    book,
    tools,
    hook,
    attach(source) {
      book.follow(source);
      tools.attach(source);
    },
    stop: () => book.stop(),
  };
}
