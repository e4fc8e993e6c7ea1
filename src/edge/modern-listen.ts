import { ErrorCode, isObject, McpError } from '../mcp/jsonrpc.js';
import { META } from '../mcp/modern.js';
import type { ClientSink } from '../upstream/lease.js';
import { toErrorResponse } from './error-catalogue.js';
import { sendJsonRpc, type ModernRequest } from './modern-reply.js';
import { SseStream } from './sse.js';

type Result = Record<string, unknown>;

/** subscriptions/listen: acknowledge the honoured filter, then fan in upstream changes on the stream. */
export async function listen({ inb, deps, msg, profile, ctx }: ModernRequest): Promise<void> {
  const filter = isObject(msg.params?.notifications) ? msg.params.notifications : {};
  const wanted = new Set(
    Array.isArray(filter.resourceSubscriptions) ? filter.resourceSubscriptions.filter((u): u is string => typeof u === 'string') : [],
  );
  const subscriptionId = msg.id;
  let stream: SseStream | undefined;
  const send = (method: string, params: Result = {}) =>
    stream?.send({
      jsonrpc: '2.0',
      method,
      params: { ...params, _meta: { ...(isObject(params._meta) ? params._meta : {}), [META.subscriptionId]: subscriptionId } },
    });
  const sink: ClientSink = {
    notify(n) {
      if (n.method === 'notifications/tools/list_changed' && filter.toolsListChanged === true) send(n.method);
      else if (n.method === 'notifications/prompts/list_changed' && filter.promptsListChanged === true) send(n.method);
      else if (n.method === 'notifications/resources/list_changed' && filter.resourcesListChanged === true) send(n.method);
      else if (
        n.method === 'notifications/resources/updated' &&
        isObject(n.params) &&
        typeof n.params.uri === 'string' &&
        wanted.has(n.params.uri)
      ) {
        send(n.method, n.params);
      }
    },
    request: () => Promise.reject(new McpError(ErrorCode.MethodNotFound, 'no input requests on a listen stream')),
  };
  // Listening needs no server-to-client requests: a shared session of the plain profile serves it.
  // Pooled, as every 2026 request is: a dual-era server is then heard on its 2026 session's own
  // listen, where it may announce changes that its 2025 sessions never hear of.
  const { sampling: _s, elicitation: _e, roots: _r, ...plain } = profile.capabilities;
  const route = deps.router.open(inb.scope, { ...profile, capabilities: plain, pooled: true }, sink);
  let init: Result;
  try {
    init = await route.initialize(ctx);
  } catch (err) {
    await route.close();
    return sendJsonRpc(inb.res, toErrorResponse(msg.id, err, 'modern'));
  }
  const caps = isObject(init.capabilities) ? init.capabilities : {};
  const honoured: Result = {};
  if (filter.toolsListChanged === true && 'tools' in caps) honoured.toolsListChanged = true;
  if (filter.promptsListChanged === true && 'prompts' in caps) honoured.promptsListChanged = true;
  if (filter.resourcesListChanged === true && 'resources' in caps) honoured.resourcesListChanged = true;
  const subscribed: string[] = [];
  // The listen's own stream starts with its acknowledgement: an upstream answering a subscribe on a
  // stream of its own must not open this response first.
  const quiet = { caller: ctx.caller, signal: ctx.signal, headersFor: ctx.headersFor };
  for (const uri of wanted) {
    try {
      await route.request('resources/subscribe', { uri }, quiet);
      subscribed.push(uri);
    } catch {
      wanted.delete(uri);
    }
  }
  if (subscribed.length) honoured.resourceSubscriptions = subscribed;
  // taskIds are never acknowledged: task status is polled with tasks/get (the extension's default),
  // which the gateway routes by handle to whichever server holds the task.
  stream = new SseStream(inb.res, {}, { keepalive: true, maxBufferBytes: deps.limits.streamBufferBytes });
  stream.onClose = () => void route.close();
  send('notifications/subscriptions/acknowledged', { notifications: honoured });
}
