/**
 * How a device sends its readings (README, "Device protocol"): over MQTT, over
 * HTTPS (POST /api/v1/devices/{id}/readings), or as a Nightscout-style uploader
 * (POST /api/v1/entries). Kept with the device's last contact (device_activity).
 */
export const DEVICE_TRANSPORTS = ['mqtt', 'https', 'nightscout'] as const;

export type DeviceTransport = (typeof DEVICE_TRANSPORTS)[number];
