/**
 * The outcome of one attempt to send: delivered; worth trying again later; or
 * refused in a way retrying will not change (to the dead letters at once). `error`
 * says what happened in words fit for a log and for the dead-letter list: no
 * secret, no message content.
 */
export type SendResult = { outcome: 'delivered' } | { outcome: 'retry' | 'refused'; error: string };
