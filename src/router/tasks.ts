import { ErrorCode, McpError, isObject, type JsonRpcNotification, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { Sealer, type KeySource } from '../mcp/sealed.js';
import type { ClientSink } from '../upstream/lease.js';

type Result = Record<string, unknown>;

/** The 2026-07-28 tasks extension (SEP-2663) as it is named in capabilities.extensions. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
/** 2025-11-25 experimental tasks: messages about a task carry its id here. */
const RELATED_TASK = 'io.modelcontextprotocol/related-task';
/** Methods whose params.taskId names a task of the server (both eras). */
export const TASK_ID_METHODS = new Set(['tasks/get', 'tasks/result', 'tasks/cancel', 'tasks/update']);
/** Ownership records kept for tasks/list filtering (2025 era); the oldest go first beyond this. */
const MAX_OWNERS = 100_000;
const DEFAULT_OWNER_TTL_MS = 24 * 60 * 60_000;

export interface TaskTarget {
  server: string;
  /** The upstream's own task id. */
  taskId: string;
}

/**
 * Task ids as clients see them: `{server}:{mac}:{upstream id}`. The server name routes tasks/* in
 * the aggregate (server names never contain ':'); the MAC binds the id to the key that created the
 * task, so no other key can poll, answer or cancel it, even though every key reaches the upstream
 * with the same credential. Any replica with the same state secret accepts the handle.
 */
export class TaskHandles {
  private readonly sealer: Sealer;
  /** server \n upstream id -> { key id, expiry }: which key created which task, for tasks/list. */
  private readonly owners = new Map<string, { keyId: string; exp: number }>();

  constructor(keys: KeySource) {
    // The id stays readable after the tag (servers route and log by it): a detached tag of the sealed-token codec.
    this.sealer = new Sealer(keys, 'task-id', { framing: 'compact' });
  }

  wrap(keyId: string, server: string, taskId: string): string {
    return `${server}:${this.sealer.tag([keyId, server, taskId])}:${taskId}`;
  }

  /** The task behind a handle this key was given, or undefined for anything else. */
  unwrap(keyId: string, handle: string): TaskTarget | undefined {
    const a = handle.indexOf(':');
    const b = a < 0 ? -1 : handle.indexOf(':', a + 1);
    if (a <= 0 || b < 0) return undefined;
    const server = handle.slice(0, a);
    const taskId = handle.slice(b + 1);
    return this.sealer.checkTag(handle.slice(a + 1, b), [keyId, server, taskId]) ? { server, taskId } : undefined;
  }

  /** Remember who created a task, so tasks/list shows each key its own tasks only. */
  own(keyId: string, server: string, taskId: string, ttlMs?: number): void {
    const k = `${server}\n${taskId}`;
    this.owners.delete(k);
    this.owners.set(k, { keyId, exp: Date.now() + (ttlMs && ttlMs > 0 ? ttlMs : DEFAULT_OWNER_TTL_MS) });
    if (this.owners.size > MAX_OWNERS) this.owners.delete(this.owners.keys().next().value!);
  }

  owns(keyId: string, server: string, taskId: string): boolean {
    const o = this.owners.get(`${server}\n${taskId}`);
    if (!o) return false;
    if (o.exp < Date.now()) {
      this.owners.delete(`${server}\n${taskId}`);
      return false;
    }
    return o.keyId === keyId;
  }
}

export function unknownTask(): McpError {
  return new McpError(ErrorCode.InvalidParams, 'Unknown task: this taskId was not issued to this key');
}

/**
 * One client's view of task ids: upstream ids become handles on the way out (results,
 * notifications, related-task `_meta`), handles become upstream ids on the way in. The key is the
 * one the client's requests carry (a session is bound to one key).
 */
export class TaskMapper {
  private keyId = '';

  constructor(readonly handles: TaskHandles) {}

  /** Called with every request's caller: notifications later are mapped for the same key. */
  bind(keyId: string): void {
    this.keyId = keyId;
  }

  /** The task a tasks/* request names, checked against the caller's key. */
  target(params: Result | undefined): TaskTarget {
    const id = isObject(params) ? params.taskId : undefined;
    if (typeof id !== 'string') throw new McpError(ErrorCode.InvalidParams, 'params.taskId is required');
    const t = this.handles.unwrap(this.keyId, id);
    if (!t) throw unknownTask();
    return t;
  }

  /** A result of `method` from `server`, with task ids turned into handles (and new tasks recorded). */
  result(server: string, method: string, result: Result): Result {
    if (method === 'tools/call') {
      // 2026: a flat CreateTaskResult; 2025: { task: Task }.
      if (result.resultType === 'task' && typeof result.taskId === 'string') {
        this.handles.own(this.keyId, server, result.taskId, numberOr(result.ttlMs));
        return { ...result, taskId: this.wrap(server, result.taskId) };
      }
      if (isObject(result.task) && typeof result.task.taskId === 'string') {
        this.handles.own(this.keyId, server, result.task.taskId, numberOr(result.task.ttl));
        return { ...result, task: { ...result.task, taskId: this.wrap(server, result.task.taskId) } };
      }
      return this.related(server, result);
    }
    if (method === 'tasks/list') {
      const tasks = Array.isArray(result.tasks) ? result.tasks : [];
      const mine = tasks.filter(
        (t): t is Result => isObject(t) && typeof t.taskId === 'string' && this.handles.owns(this.keyId, server, t.taskId),
      );
      return { ...result, tasks: mine.map((t) => ({ ...t, taskId: this.wrap(server, t.taskId as string) })) };
    }
    if (!TASK_ID_METHODS.has(method)) return result;
    const out = typeof result.taskId === 'string' ? { ...result, taskId: this.wrap(server, result.taskId) } : result;
    return this.related(server, out);
  }

  /** An upstream notification or request for this client, with its task references mapped. */
  message<M extends JsonRpcNotification | JsonRpcRequest>(server: string, msg: M): M {
    const params = msg.params;
    if (!isObject(params)) return msg;
    if ((msg.method === 'notifications/tasks/status' || msg.method === 'notifications/tasks') && typeof params.taskId === 'string') {
      return { ...msg, params: this.related(server, { ...params, taskId: this.wrap(server, params.taskId) }) };
    }
    const mapped = this.related(server, params);
    return mapped === params ? msg : { ...msg, params: mapped };
  }

  /** A sink that maps what `server` sends before the client sees it. */
  sink(server: string, inner: ClientSink): ClientSink {
    return {
      notify: (msg) => inner.notify(this.message(server, msg)),
      request: (msg) => inner.request(this.message(server, msg)),
    };
  }

  private related(server: string, obj: Result): Result {
    const meta = obj._meta;
    if (!isObject(meta)) return obj;
    const rel = meta[RELATED_TASK];
    if (!isObject(rel) || typeof rel.taskId !== 'string') return obj;
    return { ...obj, _meta: { ...meta, [RELATED_TASK]: { ...rel, taskId: this.wrap(server, rel.taskId) } } };
  }

  private wrap(server: string, taskId: string): string {
    return this.handles.wrap(this.keyId, server, taskId);
  }
}

function numberOr(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Capabilities a 2026 client may be shown: the v1 `tasks` slot is not, and only extensions we relay end to end. */
export function modernCapabilities(caps: Result): Result {
  const { tasks: _v1, extensions, ...rest } = caps;
  if (isObject(extensions) && isObject(extensions[TASKS_EXTENSION])) rest.extensions = { [TASKS_EXTENSION]: extensions[TASKS_EXTENSION] };
  return rest;
}

/** Whether a 2026 request's clientCapabilities opt into the tasks extension. */
export function declaresTasks(clientCapabilities: Result): boolean {
  return isObject(clientCapabilities.extensions) && isObject(clientCapabilities.extensions[TASKS_EXTENSION]);
}
