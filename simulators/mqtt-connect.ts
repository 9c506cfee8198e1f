import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/**
 * Connects an MQTT 3.1.1 client without automatic reconnection: resolves on
 * CONNACK, rejects on an error or a close before it. (mqtt.js' connectAsync never
 * settles when the attempt ends with 'close' and no 'error'.)
 *
 * Nagle's algorithm is switched off on the client's TCP socket, as the service does
 * on its side: mqtt.js leaves it on, and then a publish sent while an earlier one is
 * unacknowledged waits for the server's TCP ACK, which under QoS 1 comes with the
 * PUBACK: every figure the bench measured included a second commit cycle.
 */
export function connectClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    clean: true,
    ...options,
  });
  noDelay(client);
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

/** Turns Nagle off on the client's socket (TCP or TLS), on the first connection and on every reconnection. */
export function noDelay(client: MqttClient): void {
  const apply = () => {
    const stream = client.stream as { setNoDelay?: (on: boolean) => void } | undefined;
    stream?.setNoDelay?.(true);
  };
  apply();
  client.on('connect', apply);
}
