/** An echo fleet with a Toolgate in front, torn down however the measure using it ends. */
import { Agent } from 'undici';

import { startEchoFleet, startToolgate, type EchoFleet, type ServerEntry, type Toolgate } from './launch.js';
import { stopProcess } from './processes.js';

export interface Rig {
  fleet: EchoFleet;
  tg: Toolgate;
  agent: Agent;
}

export async function withRig<R>(
  fleetShape: { instances: number; tools: number },
  gateway: { label: string; servers: (fleet: EchoFleet) => Record<string, ServerEntry>; settings?: Record<string, unknown> },
  body: (rig: Rig) => Promise<R>,
  failed: (note: string) => R,
): Promise<R> {
  let fleet: EchoFleet | undefined;
  let tg: Toolgate | undefined;
  const agent = new Agent();
  try {
    fleet = await startEchoFleet(fleetShape.instances, fleetShape.tools);
    tg = await startToolgate(gateway.label, gateway.servers(fleet), gateway.settings);
    return await body({ fleet, tg, agent });
  } catch (err) {
    return failed(err instanceof Error ? err.message : String(err));
  } finally {
    await agent.close();
    // A graceful stop can take seconds (open sessions); --cpu-prof only writes its profile on a clean exit.
    if (tg) await stopProcess(tg.proc, 10_000);
    if (fleet) await stopProcess(fleet.proc);
  }
}
