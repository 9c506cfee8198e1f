/**
 * Ids that are never accepted for a patient or a device, whatever their pattern
 * allows (README, "Security"): names with a meaning to JavaScript objects
 * (`__proto__`, `constructor`, `prototype`) and path segments (`.`, `..`, which
 * the device id pattern of device-protocol.md admits and a URL cannot carry).
 */
export const RESERVED_IDS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype', '.', '..']);

export function isReservedId(id: string): boolean {
  return RESERVED_IDS.has(id);
}

export const RESERVED_ID_MESSAGE = 'is reserved: __proto__, constructor, prototype, . and .. are not ids';
