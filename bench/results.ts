/** The shape of bench/results.json: everything RESULTS.md and the chart are drawn from. */
import type { LatencySummary } from './stats.js';

export type Kind = 'floor' | 'toolgate' | 'peer';
export type Status = 'ok' | 'not available' | 'failed';

export interface PathRow {
  id: string;
  label: string;
  kind: Kind;
  concurrency: number;
  status: Status;
  note?: string;
  calls?: number;
  errors?: number;
  callsPerSec?: number;
  latency?: LatencySummary;
}

export interface ListingResult {
  status: Status;
  note?: string;
  servers: number;
  toolsPerServer: number;
  toolsListed?: number;
  pages?: number;
  coldMs?: number;
  warm?: LatencySummary;
  proof?: { calls: number; upstreamListsBefore: number; upstreamListsAfter: number; upstreamCallsDelta: number };
}

export interface MemoryResult {
  status: Status;
  note?: string;
  route: string;
  ttlSeconds: number;
  baselineRss?: number;
  points: Array<{ sessions: number; rssBytes: number; openMs: number }>;
  bytesPerSession?: number;
  afterTtl?: { waitedMs: number; rssBytes: number; oldSessionExpired: boolean };
}

export interface StartupResult {
  id: string;
  label: string;
  kind: Kind;
  status: Status;
  note?: string;
  runsMs: number[];
  medianMs?: number;
}

export interface Target {
  measure: string;
  goal: string;
  value: string;
  verdict: 'MET' | 'MISSED' | 'n/a';
}

export interface Results {
  date: string;
  quick: boolean;
  durationSec: number;
  machine: { nproc: number; cpu: string; memoryGiB: number; loadBefore: number[]; loadAfter: number[]; os: string };
  versions: Record<string, string>;
  http: PathRow[];
  stdio: PathRow[];
  listing: ListingResult;
  memory: MemoryResult;
  startup: StartupResult[];
  targets: Target[];
  echoHeadroom?: { directCallsPerSec: number; bestProxiedCallsPerSec: number; ratio: number };
  /** Issue 14: tools/call without limits, with limits on counters in memory, and on Redis. */
  limits?: PathRow[];
}
