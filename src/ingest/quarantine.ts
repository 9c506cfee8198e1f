import { rawReading } from '../domain/raw-reading.ts';
import type { Rejection } from '../domain/reading.ts';
import { cleanDetail } from '../domain/rejection-detail.ts';
import type { MessageToStore } from '../store/reading-sink.ts';

/**
 * The quarantine policy: a message whose readings PostgreSQL refuses as data
 * (SQLSTATE class 22, which validation should have caught) is replaced by one
 * where its readings become `invalid_reading` rejections, kept with their raw
 * content for an operator, so that the device gets its PUBACK instead of
 * resending the message forever. Any other error: no replacement (undefined).
 * Pure: the replacement is a copy of the message (with its other fields).
 */
export function quarantineMessage<M extends MessageToStore>(message: M, error: unknown): M | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code !== 'string' || !code.startsWith('22')) return undefined;
  const rejections: Rejection[] = message.readings.map((r) => ({
    readingId: r.readingId,
    reason: 'invalid_reading',
    detail: `the reading could not be stored (database error ${code}); it is kept for an operator to look at`,
    raw: rawReading(r.source),
  }));
  return {
    ...message,
    readings: [],
    rejections: [...message.rejections.map((r) => ({ ...r, detail: cleanDetail(r.detail) })), ...rejections],
  };
}
