const READING_FIELDS = ['id', 'type', 'at', 'value', 'systolic', 'diastolic', 'pulse', 'unit', 'context'];

/**
 * The bytes kept for a rejected reading: the reading object as JSON. An object
 * too deeply nested to serialise (extra fields are ignored, but a device may
 * still send them) is kept with the protocol's fields only: this never throws.
 */
export function rawReading(input: unknown): Buffer {
  try {
    return Buffer.from(JSON.stringify(input) ?? 'null', 'utf8');
  } catch {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return Buffer.from('null');
    const fields = input as Record<string, unknown>;
    const known: Record<string, unknown> = {};
    for (const k of READING_FIELDS) {
      const v = fields[k];
      if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') known[k] = v;
    }
    return Buffer.from(JSON.stringify(known), 'utf8');
  }
}
