/**
 * Why the service closed a device's connection: the `reason` label of
 * `vitalink_connections_closed_total` and of the broker's log lines. A reason
 * outside this catalogue does not compile.
 */
export const CLOSE_REASONS = [
  /** A publish on a topic other than the device's own readings topic (device-protocol.md, "Topics"). */
  'publish_not_authorized',
  /** A publish payload over the protocol's 256 KiB (device-protocol.md, "Payload"). */
  'payload_too_large',
  /** An MQTT packet declaring a length over the bound, refused before it is buffered. */
  'packet_too_large',
  /** A publish held unacknowledged longer than its bound (architecture.md, decision 3). */
  'ack_hold_timeout',
  /** The device was disabled (`vitalink devices disable`): its session is closed, its publishes not acknowledged. */
  'device_disabled',
  /** The device's secret was rotated without a grace period, or its grace period ended. */
  'secret_rotated',
  /** The device connected to another instance since (README, "Operations", "Several instances"). */
  'taken_over',
  /** Nothing received for 1.5 times the keepalive the device asked for (MQTT-3.1.2-24). */
  'keepalive_timeout',
  /**
   * Nothing received for 1.5 times VITALINK_MQTT_MAX_KEEPALIVE_S from a device that
   * asked for keepalive 0 or more than that maximum (served as the maximum).
   */
  'idle_timeout',
] as const;

export type CloseReason = (typeof CLOSE_REASONS)[number];
