import { isObject } from '../mcp/jsonrpc.js';
import { LEGACY_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS } from '../mcp/versions.js';
import { modernCapabilities } from '../router/tasks.js';
import { finishError, stamp, type ModernRequest } from './modern-reply.js';
import { Exchange } from './mrtr.js';

/** server/discover: what the servers in scope offer, as one 2026-07-28 server would describe itself. */
export async function discover({ inb, deps, msg, profile, ctx, reply }: ModernRequest): Promise<void> {
  const route = deps.router.open(inb.scope, profile, new Exchange(profile.capabilities));
  try {
    const init = await route.initialize(ctx);
    const result: Record<string, unknown> = {
      supportedVersions: [...MODERN_PROTOCOL_VERSIONS, ...LEGACY_PROTOCOL_VERSIONS],
      capabilities: modernCapabilities(isObject(init.capabilities) ? init.capabilities : {}),
    };
    if (typeof init.instructions === 'string') result.instructions = init.instructions;
    return reply.finish(stamp(msg, result));
  } catch (err) {
    return finishError(reply, msg, err, inb.log);
  } finally {
    await route.close();
  }
}
