/** Topics of device-protocol.md, "Topics". */

export function readingsTopic(deviceId: string): string {
  return `v1/devices/${deviceId}/readings`;
}

export function rejectionsTopic(deviceId: string): string {
  return `v1/devices/${deviceId}/rejections`;
}

/** A device may subscribe only inside `v1/devices/{its id}/#`. */
export function isInsideDeviceNamespace(deviceId: string, topicFilter: string): boolean {
  const root = `v1/devices/${deviceId}`;
  return topicFilter === root || topicFilter.startsWith(`${root}/`);
}
