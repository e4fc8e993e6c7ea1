import type { UpstreamTools } from './upstream-tools.js';

type Item = Record<string, unknown>;

/** What the upstream last listed for one server: tool name → the tool; stale after a list_changed. */
interface Observed {
  tools: Map<string, Item>;
  stale: boolean;
  refreshing?: Promise<void>;
}

/**
 * The tools each upstream lists now, as the checks at call time need them (pinning compares a tool
 * with its pin, guardrails check its description): listings that pass through the policy update it;
 * a call on a server never fully listed, or after its list_changed, waits for one fresh listing.
 */
export class ToolObserver {
  private readonly observed = new Map<string, Observed>();

  constructor(private readonly tools: UpstreamTools) {}

  /** A server's tools may have changed upstream: the next call on it looks again. */
  changed(server: string): void {
    const o = this.observed.get(server);
    if (o) o.stale = true;
  }

  /**
   * Records what a listing showed. Only a complete listing (ours) vouches for every tool and clears
   * `stale`: a client's page, or a listing filtered by its grants, updates what it shows and leaves the
   * rest to be looked up at the next call.
   */
  observe(server: string, items: readonly Item[], complete: boolean): void {
    let o = this.observed.get(server);
    if (!o) this.observed.set(server, (o = { tools: new Map(), stale: !complete }));
    if (complete) o.tools.clear();
    for (const t of items) if (typeof t.name === 'string') o.tools.set(t.name, t);
    if (complete) o.stale = false;
  }

  /**
   * `current` without waiting, when what was seen is fresh: `{tool}` (tool undefined: not listed);
   * undefined when the server must be listed again first (then use `current`).
   */
  fresh(server: string, tool: string): { tool: Item | undefined } | undefined {
    const o = this.observed.get(server);
    return o && !o.stale ? { tool: o.tools.get(tool) } : undefined;
  }

  /**
   * The tool as the upstream lists it now (undefined: not listed), listing the server again when
   * stale or never fully seen. When that listing fails (a server needing the client's own credentials),
   * what a client's listing showed stands in; with nothing seen, the failure is the answer.
   */
  async current(server: string, tool: string): Promise<Item | undefined> {
    let o = this.observed.get(server);
    if (!o) this.observed.set(server, (o = { tools: new Map(), stale: true }));
    if (o.stale) {
      const entry = o;
      // One listing for all the calls that arrive while it runs.
      entry.refreshing ??= this.tools
        .list(server)
        .then((items) => this.observe(server, items, true))
        .finally(() => (entry.refreshing = undefined));
      try {
        await entry.refreshing;
      } catch (err) {
        if (!entry.tools.has(tool)) throw err;
      }
    }
    return o.tools.get(tool);
  }
}
