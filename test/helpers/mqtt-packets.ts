import mqttPacket from 'mqtt-packet';

/** The bytes of an MQTT 3.1.1 CONNECT (clean session, keepalive 30 s unless `options` say otherwise), for raw sockets. */
export function connectPacket(options: Partial<mqttPacket.IConnectPacket>): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 30,
    clientId: '',
    ...options,
  } as mqttPacket.IConnectPacket);
}

/** The bytes of a QoS 1 PUBLISH (message id 1). */
export function publishPacket(topic: string, payload: string | Buffer, protocolVersion: 4 | 5 = 4): Buffer {
  return mqttPacket.generate(
    { cmd: 'publish', topic, payload, qos: 1, messageId: 1, retain: false, dup: false },
    { protocolVersion },
  );
}
