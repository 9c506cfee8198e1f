// C0 and C1 control characters, NUL included: PostgreSQL text refuses NUL, and none belongs in a sentence.
// eslint-disable-next-line no-control-regex -- a control-character class is the point here
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
const MAX_DETAIL_LENGTH = 500;

/** A rejection's detail quotes what the device sent: keep it printable and short. */
export function cleanDetail(detail: string): string {
  const printable = detail.replace(CONTROL_CHARACTERS, '\uFFFD');
  return printable.length > MAX_DETAIL_LENGTH ? `${printable.slice(0, MAX_DETAIL_LENGTH - 1)}…` : printable;
}
