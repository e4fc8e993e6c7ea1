import type { Caller } from '../../caller/caller.js';
import type { TargetKind } from '../../mcp/target.js';
import { PolicyDenied } from '../../mcp/errors.js';
import type { Forward, PolicyHook, ToolCall } from '../hooks.js';
import type { Alerts } from '../guardrails/alerts.js';
import type { PinBook } from './book.js';
import { fingerprint, pinOf } from './fingerprint.js';
import type { UpstreamTools } from './upstream-tools.js';

type Result = Record<string, unknown>;
type Item = Record<string, unknown>;

/** What the upstream last listed for one pinned server: tool name → fingerprint; stale after a list_changed. */
interface Observed {
  prints: Map<string, string>;
  stale: boolean;
  refreshing?: Promise<void>;
}

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
  private readonly observed = new Map<string, Observed>();
  private readonly alerted = new Set<string>();

  constructor(
    private readonly book: PinBook,
    private readonly tools: UpstreamTools,
    private readonly alerts: Alerts,
  ) {}

  /** A server's tools may have changed upstream: the next call on it looks again. */
  changed(server: string): void {
    const o = this.observed.get(server);
    if (o) o.stale = true;
  }

  applies(_caller: Caller, server: string): boolean {
    return this.book.pinned(server);
  }

  listingKey(): string {
    return `pins:${this.book.version}`;
  }

  list(_caller: Caller, server: string, kind: TargetKind, items: readonly Item[]): Item[] {
    if (kind !== 'tool') return items as Item[];
    this.observe(server, items, false);
    if (this.book.learns(server)) this.learn(server, items);
    const pins = this.book.pins(server);
    if (!pins) return items as Item[];
    return items.filter((t) => typeof t.name !== 'string' || this.drift(server, t.name, fingerprint(pinOf(t))) === undefined);
  }

  async call(call: ToolCall, next: Forward): Promise<Result> {
    const { server, tool } = call;
    if (this.book.learns(server)) {
      const items = await this.tools.list(server);
      this.observe(server, items, true);
      if (this.book.learns(server)) this.learn(server, items);
    }
    const current = await this.current(server, tool);
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

  /** The tool's fingerprint as the upstream lists it now (undefined: not listed), listing again when stale or never seen. */
  private async current(server: string, tool: string): Promise<string | undefined> {
    let o = this.observed.get(server);
    if (!o) this.observed.set(server, (o = { prints: new Map(), stale: true }));
    if (o.stale) {
      const entry = o;
      // One listing for all the calls that arrive while it runs.
      entry.refreshing ??= this.tools
        .list(server)
        .then((items) => this.observe(server, items, true))
        .finally(() => (entry.refreshing = undefined));
      await entry.refreshing;
    }
    return o.prints.get(tool);
  }

  /** Records what a listing showed; a full listing (`complete`) replaces the record and clears `stale`, a page adds to it. */
  private observe(server: string, items: readonly Item[], complete: boolean): void {
    let o = this.observed.get(server);
    // Only a complete listing (ours) vouches for every tool: a client's page, or a listing filtered by its
    // grants, updates what it shows but leaves the rest to be looked up at the next call.
    if (!o) this.observed.set(server, (o = { prints: new Map(), stale: !complete }));
    if (complete) o.prints.clear();
    for (const t of items) if (typeof t.name === 'string') o.prints.set(t.name, fingerprint(pinOf(t)));
    if (complete) o.stale = false;
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
