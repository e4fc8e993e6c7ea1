import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modernCapabilities, TaskHandles, TaskMapper, TASKS_EXTENSION } from '../../src/router/tasks.js';

describe('task handles', () => {
  const handles = new TaskHandles('secret-for-tests-0123456789abcdef');

  it('round-trips an upstream id (colons included) for the key that was given it', () => {
    const h = handles.wrap('key-a', 'github', 'job:42:x');
    assert.match(h, /^github:[A-Za-z0-9_-]{16}:job:42:x$/);
    assert.deepEqual(handles.unwrap('key-a', h), { server: 'github', taskId: 'job:42:x' });
  });

  it('refuses another key, another server, an altered id and garbage', () => {
    const h = handles.wrap('key-a', 'github', 't1');
    assert.equal(handles.unwrap('key-b', h), undefined);
    assert.equal(handles.unwrap('key-a', h.replace(/^github:/, 'gitlab:')), undefined);
    assert.equal(handles.unwrap('key-a', h + 'x'), undefined);
    assert.equal(handles.unwrap('key-a', 't1'), undefined);
    assert.equal(handles.unwrap('key-a', ':::'), undefined);
  });

  it('is accepted by another replica with the same secret only', () => {
    const h = handles.wrap('key-a', 'github', 't1');
    assert.ok(new TaskHandles('secret-for-tests-0123456789abcdef').unwrap('key-a', h));
    assert.equal(new TaskHandles('another-secret-0123456789abcdef00').unwrap('key-a', h), undefined);
  });

  it('lists for a key only the tasks that key created', () => {
    const a = new TaskMapper(handles);
    a.bind('key-a');
    a.result('s', 'tools/call', { resultType: 'task', taskId: 'mine', status: 'working' });
    const b = new TaskMapper(handles);
    b.bind('key-b');
    b.result('s', 'tools/call', { task: { taskId: 'theirs', status: 'working', ttl: 1000 } });
    const listed = a.result('s', 'tasks/list', { tasks: [{ taskId: 'mine' }, { taskId: 'theirs' }, { taskId: 'unknown' }] });
    assert.deepEqual(
      (listed.tasks as Array<{ taskId: string }>).map((t) => t.taskId),
      [handles.wrap('key-a', 's', 'mine')],
    );
  });

  it('maps task status notifications and related-task metadata, not server-side tasks/get requests', () => {
    const m = new TaskMapper(handles);
    m.bind('k');
    const n = m.message('s', { jsonrpc: '2.0', method: 'notifications/tasks/status', params: { taskId: 't', status: 'working' } });
    assert.equal(n.params!.taskId, handles.wrap('k', 's', 't'));
    const e = m.message('s', {
      jsonrpc: '2.0',
      id: 1,
      method: 'elicitation/create',
      params: { message: 'm', _meta: { 'io.modelcontextprotocol/related-task': { taskId: 't' } } },
    });
    assert.deepEqual((e.params!._meta as Record<string, unknown>)['io.modelcontextprotocol/related-task'], {
      taskId: handles.wrap('k', 's', 't'),
    });
    // A server polling a task the client runs uses the client's own id: untouched.
    const poll = m.message('s', { jsonrpc: '2.0', id: 2, method: 'tasks/get', params: { taskId: 'client-task' } });
    assert.equal(poll.params!.taskId, 'client-task');
  });
});

describe('capabilities shown to 2026 clients', () => {
  it('drop the 2025 tasks slot and extensions the gateway does not relay', () => {
    const caps = modernCapabilities({
      tools: {},
      tasks: { list: {} },
      extensions: { [TASKS_EXTENSION]: {}, 'io.example/other': {} },
    });
    assert.deepEqual(caps, { tools: {}, extensions: { [TASKS_EXTENSION]: {} } });
    assert.deepEqual(modernCapabilities({ tools: {}, extensions: { 'io.example/other': {} } }), { tools: {} });
  });
});
