import { describe, expect, it } from 'vitest';
import { SessionTakeover } from '../../../src/broker/session-takeover.ts';
import { createLogger } from '../../../src/logger.ts';

/**
 * The order of announcements decides which session is older (src/broker/session-takeover.ts):
 * here two instances are simulated, with the database's channel as one array that both read in order.
 */
function cluster() {
  const channel: Array<{ instance: string; devices: string[] }> = [];
  const instance = (id: string) => {
    const sessions = new Map<string, { key: object; closed: boolean }>();
    const takeover = new SessionTakeover({
      instanceId: id,
      announce: async (devices) => {
        channel.push({ instance: id, devices: [...devices] });
      },
      session: (deviceId) => {
        const s = sessions.get(deviceId);
        return s && !s.closed ? { key: s.key, close: () => (s.closed = true) } : undefined;
      },
      log: createLogger('silent'),
    });
    let read = 0;
    return {
      connect(deviceId: string) {
        const s = { key: {}, closed: false };
        sessions.set(deviceId, s);
        takeover.started(deviceId, s.key);
        return s;
      },
      flush: () => takeover.flush(),
      /** Delivers what the channel holds that this instance has not read yet. */
      deliver() {
        for (; read < channel.length; read++) takeover.announced(channel[read]!.instance, channel[read]!.devices);
      },
      takeover,
    };
  };
  return { channel, instance };
}

describe('SessionTakeover', () => {
  it('closes the session announced first, whichever instance receives first', async () => {
    const { instance } = cluster();
    const a = instance('a');
    const b = instance('b');
    const onA = a.connect('dev');
    await a.flush();
    a.deliver();
    const onB = b.connect('dev');
    await b.flush();
    b.deliver();
    a.deliver();
    expect(onA.closed).toBe(true);
    expect(onB.closed).toBe(false);
  });

  it('keeps the newer session when a device flaps back before its announcement went round', async () => {
    const { instance } = cluster();
    const a = instance('a');
    const b = instance('b');
    const first = b.connect('dev');
    await b.flush();
    const back = a.connect('dev');
    // b's announcement reaches a before a's own: a's session is newer, and stays.
    a.deliver();
    expect(back.closed).toBe(false);
    await a.flush();
    a.deliver();
    b.deliver();
    expect(first.closed).toBe(true);
    expect(back.closed).toBe(false);
  });

  it('matches each announcement to its own session when a device reconnects to one instance meanwhile', async () => {
    const { instance } = cluster();
    const a = instance('a');
    const b = instance('b');
    a.connect('dev');
    await a.flush();
    const second = a.connect('dev'); // Aedes replaced the first session here
    const onB = b.connect('dev');
    await b.flush();
    // a reads its first announcement (for the replaced session), then b's: its second session is the newer.
    a.deliver();
    expect(second.closed).toBe(false);
    await a.flush();
    a.deliver();
    b.deliver();
    expect(onB.closed).toBe(true);
  });

  it('takes nothing over for a session whose announcement was lost', async () => {
    let key: object = {};
    let closed = false;
    const takeover = new SessionTakeover({
      instanceId: 'a',
      announce: async () => {
        throw new Error('database unreachable');
      },
      session: () => ({ key, close: () => (closed = true) }),
      log: createLogger('silent'),
    });
    key = {};
    takeover.started('dev', key);
    await takeover.flush();
    // Had the announcement gone through after all, its echo would not make the session older than b's.
    takeover.announced('a', ['dev']);
    expect(takeover.announced('b', ['dev'])).toBe(0);
    expect(closed).toBe(false);
  });

  it('announces the sessions of 50 ms together', async () => {
    const { channel, instance } = cluster();
    const a = instance('a');
    for (let i = 0; i < 5; i++) a.connect(`d${i}`);
    expect(channel).toEqual([]);
    await new Promise((r) => setTimeout(r, 120));
    expect(channel).toEqual([{ instance: 'a', devices: ['d0', 'd1', 'd2', 'd3', 'd4'] }]);
    a.takeover.stop();
  });
});
