/**
 * The limits and identifier shapes of device-protocol.md (version 1.1), shared by
 * the broker, ingestion, provisioning and the HTTP API.
 */

/** device-protocol.md, "Identity": 1 to 64 characters of A-Z a-z 0-9 . _ - */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** device-protocol.md, "A reading object": 1 to 64 characters of A-Z a-z 0-9 . _ : - */
export const READING_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** device-protocol.md, "Payload": `{"readings": [...]}` holds 1 to 1000 readings. */
export const MAX_READINGS_PER_MESSAGE = 1000;
/** device-protocol.md, "Payload": at most 256 KiB per message. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
export const MAX_CONTEXT_LENGTH = 64;

/** device-protocol.md, "Time": `at` more than 5 minutes after the service's clock is rejected `future`. */
export const MAX_FUTURE_MS = 5 * 60_000;
