import { describe, expect, it } from 'vitest';
import { type Closable, describeLeaks, LeakTracker } from '../../helpers/leak-tracker.ts';

function resource(what: string): Closable & { closed: number } {
  let open = true;
  return {
    what,
    closed: 0,
    isOpen: () => open,
    async close() {
      open = false;
      this.closed++;
    },
  };
}

describe('LeakTracker', () => {
  it('reports a client a test opened and left open, and closes it', async () => {
    const tracker = new LeakTracker();
    tracker.beginTest();
    const leaked = tracker.track(resource('mqtt dev-1'));
    expect(await tracker.endTest()).toEqual(['mqtt dev-1']);
    expect(leaked.isOpen()).toBe(false);
    expect(leaked.closed).toBe(1);
  });

  it('reports nothing for a client the test closed itself', async () => {
    const tracker = new LeakTracker();
    tracker.beginTest();
    const closed = tracker.track(resource('pg client'));
    await closed.close();
    expect(await tracker.endTest()).toEqual([]);
    expect(closed.closed).toBe(1);
  });

  it('closes a released client at the end of its test without reporting it', async () => {
    const tracker = new LeakTracker();
    tracker.beginTest();
    const released = tracker.track(resource('mqtt dev-2'), { released: true });
    const leaked = tracker.track(resource('pg pool'));
    expect(await tracker.endTest()).toEqual(['pg pool']);
    expect(released.isOpen()).toBe(false);
    expect(leaked.isOpen()).toBe(false);
  });

  it('exempts what was opened between tests (beforeAll) until closeAll, newest first', async () => {
    const tracker = new LeakTracker();
    const order: string[] = [];
    const first = resource('first');
    const second = resource('second');
    for (const r of [first, second]) {
      const close = r.close.bind(r);
      r.close = async () => {
        order.push(r.what);
        await close();
      };
      tracker.track(r);
    }
    tracker.beginTest();
    expect(await tracker.endTest()).toEqual([]);
    expect(first.isOpen() && second.isOpen()).toBe(true);
    await tracker.closeAll();
    expect(order).toEqual(['second', 'first']);
  });

  it('charges a leak to the test that opened it only', async () => {
    const tracker = new LeakTracker();
    tracker.beginTest();
    tracker.track(resource('leaked by the first test'));
    expect(await tracker.endTest()).toHaveLength(1);
    tracker.beginTest();
    expect(await tracker.endTest()).toEqual([]);
  });

  it('names the leaks in its message', () => {
    expect(describeLeaks(['mqtt a', 'pg client'])).toContain('2 client(s) open: mqtt a, pg client');
  });
});
