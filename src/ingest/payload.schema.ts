import { z } from 'zod';
import { MAX_CONTEXT_LENGTH, READING_ID_PATTERN } from '../domain/protocol.ts';

// zod 4's z.number() refuses NaN and ±Infinity: "Numbers must be finite".
const measurement = z.number();

/**
 * The fields every reading has, whatever its type. Type-dependent rules (which
 * value fields, units, ranges) are checked against the catalogue afterwards, so
 * that an unknown type is reported as `unknown_type` and not as missing fields.
 * Unknown extra fields are ignored.
 */
export const readingFieldsSchema = z.object({
  id: z.string().regex(READING_ID_PATTERN, 'must be 1 to 64 characters of A-Z a-z 0-9 . _ : -'),
  type: z.string(),
  at: z.union([z.string(), z.int()], 'must be an RFC 3339 time with an offset or integer epoch milliseconds'),
  value: measurement.optional(),
  systolic: measurement.optional(),
  diastolic: measurement.optional(),
  pulse: measurement.optional(),
  unit: z.string(),
  context: z
    .string()
    .max(MAX_CONTEXT_LENGTH)
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'must not contain control characters')
    .optional(),
});

export type ReadingFields = z.infer<typeof readingFieldsSchema>;

/** Turns zod issues into one sentence naming each offending field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join('.') : 'reading';
      if (issue.code === 'invalid_type' && issue.input === undefined) return `${field} is missing`;
      return `${field}: ${issue.message}`;
    })
    .join('; ');
}
