import type { Logger } from 'pino';
import type { ServerConfig } from '../../config/types.js';
import type { ServerSource } from '../../registry/registry.js';
import type { Store } from '../../store/types.js';
import type { Alerts } from '../guardrails/alerts.js';
import { PinBook } from './book.js';
import { PinningHook } from './hook.js';
import { ToolObserver } from './observer.js';
import { UpstreamTools } from './upstream-tools.js';

export interface Pinning {
  book: PinBook;
  tools: UpstreamTools;
  hook: PinningHook;
  /** What each upstream lists now, shared with the guardrails' description checks at call time. */
  observer: ToolObserver;
  /** Follows the registry: servers defined later, and every upstream's list_changed. */
  attach(source: ServerSource): void;
  stop(): void;
}

/** Loads the stored pins before anything listens, so the first call on a pinned server is already checked. */
export async function startPinning(store: Store, servers: readonly ServerConfig[], alerts: Alerts, log: Logger): Promise<Pinning> {
  const book = new PinBook(store, log);
  await book.start(servers);
  let observer: ToolObserver | undefined;
  const tools = new UpstreamTools((server) => observer?.changed(server));
  observer = new ToolObserver(tools);
  return {
    book,
    tools,
    observer,
    hook: new PinningHook(book, tools, observer, alerts),
    attach(source) {
      book.follow(source);
      tools.attach(source);
    },
    stop: () => book.stop(),
  };
}
