import type { Caller } from '../../caller/caller.js';
import type { TargetKind } from '../../mcp/target.js';
import { PolicyDenied } from '../../mcp/errors.js';
import type { Forward, PolicyHook, ToolCall } from '../hooks.js';
import type { Alerts } from '../guardrails/alerts.js';
import type { PinBook } from './book.js';
import { pinOf, printOfTool } from './fingerprint.js';
import type { ToolObserver } from './observer.js';
import type { UpstreamTools } from './upstream-tools.js';

type Result = Record<string, unknown>;
type Item = Record<string, unknown>;

/** Drift alerts already raised (server, tool, what it became): one alert per change, not per listing. */
const MAX_ALERTED = 10_000;

/**
 * Tool pinning (rug-pull protection), the first hook: on a pinned server a tool whose description or
 * input schema differs from its pin, or a tool with no pin, is hidden from listings and refused at
 * call until an admin re-pins (POST /v1/mcp/server/{id}/pin). The alert `mcp_pinned_tools_changed`
 * is raised once per change. Calls compare against what the upstream last listed; after a
 * list_changed (or before any listing) the call waits for one fresh listing of that server.
 */
export class PinningHook implements PolicyHook {
  readonly name = 'pinning';
  private readonly alerted = new Set<string>();
  private readonly learning = new Map<string, Promise<void>>();

  constructor(
    private readonly book: PinBook,
    private readonly tools: UpstreamTools,
    private readonly observer: ToolObserver,
    private readonly alerts: Alerts,
  ) {}

  applies(_caller: Caller, server: string): boolean {
    return this.book.pinned(server);
  }

  listingKey(): string {
    return `pins:${this.book.version}`;
  }

  list(_caller: Caller, server: string, kind: TargetKind, items: readonly Item[]): Item[] {
    if (kind !== 'tool') return items as Item[];
    this.observer.observe(server, items, false);
    // A client's listing may be one page, or filtered by its grants: pins are learned from a whole one of ours.
    if (this.book.learns(server)) void this.learnNow(server).catch(() => {});
    const pins = this.book.pins(server);
    if (!pins) return items as Item[];
    return items.filter((t) => typeof t.name !== 'string' || this.drift(server, t.name, printOfTool(t)) === undefined);
  }

  async call(call: ToolCall, next: Forward): Promise<Result> {
    const { server, tool } = call;
    if (this.book.learns(server)) await this.learnNow(server);
    const listed = await this.observer.current(server, tool);
    const current = listed && printOfTool(listed);
    const pins = this.book.pins(server);
    if (!pins) return next(call);
    const refuse = (why: string) =>
      new PolicyDenied(`Tool ${call.called} on server ${server} ${why}; an admin must re-pin it (POST /v1/mcp/server/${server}/pin)`);
    if (!pins.has(tool)) {
      if (current !== undefined) this.drift(server, tool, current);
      throw refuse('is not pinned, and the server only runs pinned tools');
    }
    // Pinned but no longer listed: the upstream answers for its own unknown tool.
    if (current !== undefined && this.drift(server, tool, current)) throw refuse('changed since it was pinned');
    return next(call);
  }

  /** undefined when the tool matches its pin; otherwise why not (and the alert is raised once). */
  private drift(server: string, tool: string, print: string): 'changed' | 'unpinned' | undefined {
    const pin = this.book.pins(server)?.get(tool);
    if (pin?.print === print) return undefined;
    const why = pin ? 'changed' : 'unpinned';
    const key = `${server}\0${tool}\0${print}\0${this.book.version}`;
    if (!this.alerted.has(key)) {
      if (this.alerted.size >= MAX_ALERTED) this.alerted.clear();
      this.alerted.add(key);
      this.alerts.raise(
        { actor: 'toolgate', action: 'mcp_pinned_tools_changed', objectType: 'mcp_server', objectId: server, after: { tool, change: why } },
        why === 'changed'
          ? `pinned tool ${tool} on server ${server} changed upstream: hidden and refused until an admin re-pins it`
          : `server ${server} lists tool ${tool}, which is not pinned: hidden and refused until an admin re-pins`,
        { server, tool, change: why },
      );
    }
    return why;
  }

  /** A `pin_tools` server's first complete listing becomes its pins (one listing for everyone waiting). */
  private learnNow(server: string): Promise<void> {
    let p = this.learning.get(server);
    if (!p) {
      p = this.tools
        .list(server)
        .then((items) => {
          this.observer.observe(server, items, true);
          if (this.book.learns(server)) this.learn(server, items);
        })
        .finally(() => this.learning.delete(server));
      this.learning.set(server, p);
    }
    return p;
  }

  private learn(server: string, items: readonly Item[]): void {
    const tools = Object.fromEntries(items.filter((t) => typeof t.name === 'string').map((t) => [t.name as string, pinOf(t)]));
    void this.book.save(server, tools, 'toolgate:pin_tools', { learned: true }).catch((err: Error) =>
      this.alerts.raise(
        { actor: 'toolgate', action: 'mcp_pins_not_saved', objectType: 'mcp_server', objectId: server },
        'learned pins not saved',
        {
          err: err.message,
        },
      ),
    );
  }
}
