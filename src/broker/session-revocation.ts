import type { CloseReason } from '../domain/close-reasons.ts';
import type { Logger } from '../logger.ts';
import type { StoredCredentials } from './authenticate.ts';

/**
 * A device's live MQTT session on this instance, with the stored hashes that
 * stand for its secret: the one it matched at CONNECT, and its re-hash under the
 * current key when it matched under another (src/broker/authenticate.ts).
 */
export interface LiveSession {
  readonly deviceId: string;
  readonly secretHashes: readonly Buffer[];
  close(reason: CloseReason): void;
}

export interface SessionRevocationDeps {
  /** The live sessions of these devices, or of every device when `ids` is undefined. */
  readonly sessions: (ids?: readonly string[]) => LiveSession[];
  /** The credentials as stored now (a grace period judged by the database's clock). */
  readonly credentials: (
    ids: readonly string[],
  ) => Promise<Map<string, Pick<StoredCredentials, 'secretHash' | 'enabled' | 'previousSecretHash'>>>;
  readonly log: Logger;
}

/**
 * Closes the live sessions whose credentials no longer hold: the device is
 * disabled, or the secret the session authenticated with was rotated away (and
 * its grace period, if any, is over). Told by a notification (`check([id])`,
 * within a second of the change, on every instance) and run over every session
 * periodically and after the notification connection was re-established
 * (`check()`), in case a notification was missed. A session is judged by its
 * stored state only: the same answer whichever way the check came.
 */
export class SessionRevocation {
  readonly #d: SessionRevocationDeps;

  constructor(deps: SessionRevocationDeps) {
    this.#d = deps;
  }

  /** Re-checks the sessions of `ids` (all sessions when undefined); resolves with how many it closed. */
  async check(ids?: readonly string[]): Promise<number> {
    const sessions = this.#d.sessions(ids);
    this.#d.log.debug({ deviceIds: ids, sessions: sessions.length }, 'credential re-check');
    if (sessions.length === 0) return 0;
    let stored: Map<string, Pick<StoredCredentials, 'secretHash' | 'enabled' | 'previousSecretHash'>>;
    try {
      stored = await this.#d.credentials([...new Set(sessions.map((s) => s.deviceId))]);
    } catch (err) {
      this.#d.log.warn({ err }, 'credential re-check failed; will retry');
      return 0;
    }
    let closed = 0;
    for (const session of sessions) {
      const reason = revocationOf(session, stored.get(session.deviceId));
      if (reason) {
        session.close(reason);
        closed++;
      }
    }
    return closed;
  }
}

/** Why a session must end, or undefined while its credentials hold. */
export function revocationOf(
  session: LiveSession,
  stored: Pick<StoredCredentials, 'secretHash' | 'enabled' | 'previousSecretHash'> | undefined,
): CloseReason | undefined {
  if (!stored || !stored.enabled) return 'device_disabled';
  const holds = (hash: Buffer | null | undefined) => !!hash && session.secretHashes.some((h) => h.equals(hash));
  if (holds(stored.secretHash) || holds(stored.previousSecretHash)) return undefined;
  return 'secret_rotated';
}
