import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/**
 * Connects an MQTT 3.1.1 client without automatic reconnection: resolves on
 * CONNACK, rejects on an error or a close before it. (mqtt.js' connectAsync never
 * settles when the attempt ends with 'close' and no 'error'.)
 */
export function connectClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    clean: true,
    ...options,
  });
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      client.removeListener('connect', ok);
      client.removeListener('error', fail);
      client.removeListener('close', closed);
      client.end(true);
      reject(error);
    };
    const ok = () => {
      client.removeListener('error', fail);
      client.removeListener('close', closed);
      resolve(client);
    };
    const who = options.clientId ? `${options.clientId} ` : '';
    const closed = () => fail(new Error(`connection ${who}to ${url} closed before CONNACK`));
    client.once('connect', ok);
    client.once('error', fail);
    client.once('close', closed);
  });
}
