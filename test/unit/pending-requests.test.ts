// The request/response helper behind the model viewer's requests and probes and the layout worker: each
// request settles exactly once, by its answer, its timeout, its caller's abort, or the end of the link.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PendingRequests } from '../../src/protocol/pendingRequests';

describe('PendingRequests', () => {
  it('an answer settles its request once; a late or unknown answer is ignored', async () => {
    const p = new PendingRequests<Error>();
    const id = p.newId();
    const answer = p.add<number>(id);
    assert.equal(p.settle(id, undefined, 42), true);
    assert.equal(p.settle(id, undefined, 43), false, 'already settled');
    assert.equal(p.settle(999, undefined, 1), false);
    assert.equal(await answer, 42);
    assert.equal(p.size, 0);
  });

  it('an error answer rejects with it', async () => {
    const p = new PendingRequests<{ code: string }>();
    const id = p.newId();
    const answer = p.add(id);
    p.settle(id, { code: 'bad' });
    await assert.rejects(answer, (e: unknown) => (e as { code: string }).code === 'bad');
  });

  it('a timeout rejects with its error and forgets the request', async () => {
    const p = new PendingRequests<Error>();
    const id = p.newId();
    const answer = p.add(id, { timeoutMs: 10, onTimeout: () => new Error('too slow') });
    await assert.rejects(answer, /too slow/);
    assert.equal(p.has(id), false);
    assert.equal(p.settle(id, undefined, 1), false, 'an answer after the timeout is ignored');
  });

  it('an abort rejects; rejectAll rejects every waiting request; ids are distinct', async () => {
    const p = new PendingRequests<Error>();
    const ctl = new AbortController();
    const a = p.add(p.newId(), { signal: ctl.signal, onAbort: () => new Error('cancelled') });
    ctl.abort();
    await assert.rejects(a, /cancelled/);
    const ids = [p.newId(), p.newId()];
    assert.notEqual(ids[0], ids[1]);
    const waiting = ids.map((id) => p.add(id, { timeoutMs: 60_000, onTimeout: () => new Error('timeout') }));
    p.rejectAll(new Error('closed'));
    for (const w of waiting) await assert.rejects(w, /closed/);
    assert.equal(p.size, 0, 'and their timers are cleared (the test would hang otherwise)');
  });

  it('an already aborted signal rejects at once; an id that is waiting cannot be added again', async () => {
    const p = new PendingRequests<Error>();
    const ctl = new AbortController();
    ctl.abort();
    await assert.rejects(p.add(p.newId(), { signal: ctl.signal, onAbort: () => new Error('cancelled') }), /cancelled/);
    const id = p.newId();
    const first = p.add<number>(id);
    assert.throws(() => p.add(id), /already waiting/);
    p.settle(id, undefined, 1);
    assert.equal(await first, 1);
  });
});
