import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  configExposureProblems,
  defaultInstanceId,
  isLoopbackHost,
  loadConfig,
} from '../../src/config.ts';

/** Runs loadConfig expecting a ConfigError, and returns it. */
function configError(env: NodeJS.ProcessEnv, options: { listening?: boolean } = {}): ConfigError {
  try {
    loadConfig(env, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted an invalid environment');
}

describe('loadConfig defaults (interfaces.md, "Environment")', () => {
  it('uses the documented defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBeUndefined();
    expect(config.mqttPort).toBe(1883);
    expect(config.httpPort).toBe(8080);
    expect(config.tls).toBeUndefined();
    expect(config.wsPort).toBeUndefined();
    expect(config.adminToken).toBeUndefined();
    expect(config.logLevel).toBe('info');
    expect(config.host).toBe('127.0.0.1');
  });

  it('resolves the default data directory ./.vitalink to an absolute path', () => {
    const config = loadConfig({});
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(config.dataDir).toBe(path.join(process.cwd(), '.vitalink'));
  });

  it('resolves a relative VITALINK_DATA_DIR and keeps an absolute one', () => {
    expect(loadConfig({ VITALINK_DATA_DIR: 'data/x' }).dataDir).toBe(path.join(process.cwd(), 'data', 'x'));
    expect(loadConfig({ VITALINK_DATA_DIR: '/var/lib/vitalink' }).dataDir).toBe('/var/lib/vitalink');
  });

  it('binds to 127.0.0.1 by default, DATABASE_URL set or not, and to HOST when given', () => {
    const url = 'postgres://vitalink@db.example:5432/vitalink';
    const config = loadConfig({ DATABASE_URL: url });
    expect(config.databaseUrl).toBe(url);
    expect(config.host).toBe('127.0.0.1');
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ DATABASE_URL: 'postgresql://h/db', HOST: '10.0.0.5' }).host).toBe('10.0.0.5');
    expect(loadConfig({ HOST: '::1' }).host).toBe('::1');
  });

  it('has the tuning defaults', () => {
    const config = loadConfig({});
    expect(config.batch).toEqual({
      maxRows: 2000,
      maxWaitMs: 5,
      maxInflight: 2,
      queueMaxReadings: 50_000,
      queueMaxBytes: 64 * 1024 * 1024,
    });
    expect(config.readingMaxAgeMs).toBe(90 * 86_400_000);
    expect(config.aggregationMaxBusyShare).toBe(0.25);
  });

  it('takes the aggregation busy share in percent, 1 to 100', () => {
    expect(loadConfig({ VITALINK_AGGREGATION_MAX_BUSY_PCT: '100' }).aggregationMaxBusyShare).toBe(1);
    expect(loadConfig({ VITALINK_AGGREGATION_MAX_BUSY_PCT: '10' }).aggregationMaxBusyShare).toBe(0.1);
    for (const bad of ['0', '101', '12.5', 'half']) {
      expect(configError({ VITALINK_AGGREGATION_MAX_BUSY_PCT: bad }).problems[0]).toMatch(
        /^VITALINK_AGGREGATION_MAX_BUSY_PCT/,
      );
    }
  });

  it('reads the variables it is given', () => {
    const config = loadConfig({
      MQTT_PORT: '11883',
      HTTP_PORT: '18080',
      MQTT_WS_PORT: '18083',
      LOG_LEVEL: 'debug',
      VITALINK_ADMIN_TOKEN: 'a-long-enough-admin-token',
      VITALINK_BATCH_MAX_ROWS: '500',
    });
    expect(config.mqttPort).toBe(11883);
    expect(config.httpPort).toBe(18080);
    expect(config.wsPort).toBe(18083);
    expect(config.logLevel).toBe('debug');
    expect(config.adminToken).toBe('a-long-enough-admin-token');
    expect(config.batch.maxRows).toBe(500);
  });
});

describe('loadConfig ports', () => {
  it('allows port 0 (a free port) for every listener', () => {
    const config = loadConfig({
      MQTT_PORT: '0',
      HTTP_PORT: '0',
      MQTT_WS_PORT: '0',
      MQTT_TLS_PORT: '0',
      TLS_CERT_FILE: '/etc/tls/cert.pem',
      TLS_KEY_FILE: '/etc/tls/key.pem',
    });
    expect(config.mqttPort).toBe(0);
    expect(config.httpPort).toBe(0);
    expect(config.wsPort).toBe(0);
    expect(config.tls).toEqual({ port: 0, certFile: '/etc/tls/cert.pem', keyFile: '/etc/tls/key.pem' });
  });

  it.each(['-1', '65536', '1.5', 'abc', '80x'])('refuses MQTT_PORT=%j', (value) => {
    const error = configError({ MQTT_PORT: value });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^MQTT_PORT: /);
  });

  it('accepts 65535', () => {
    expect(loadConfig({ HTTP_PORT: '65535' }).httpPort).toBe(65535);
  });
});

describe('loadConfig TLS', () => {
  const all = { MQTT_TLS_PORT: '8883', TLS_CERT_FILE: '/tls/cert.pem', TLS_KEY_FILE: '/tls/key.pem' };

  it('turns TLS on with all three variables', () => {
    expect(loadConfig(all).tls).toEqual({ port: 8883, certFile: '/tls/cert.pem', keyFile: '/tls/key.pem' });
  });

  it.each([
    ['MQTT_TLS_PORT'],
    ['TLS_CERT_FILE'],
    ['TLS_KEY_FILE'],
    ['MQTT_TLS_PORT', 'TLS_CERT_FILE'],
    ['MQTT_TLS_PORT', 'TLS_KEY_FILE'],
    ['TLS_CERT_FILE', 'TLS_KEY_FILE'],
  ] as const)('refuses TLS with only %s', (...names) => {
    const env: NodeJS.ProcessEnv = {};
    for (const n of names) env[n] = all[n];
    const error = configError(env);
    expect(error.problems).toHaveLength(1);
    expect(error.message).toContain('MQTT_TLS_PORT');
    expect(error.message).toContain('TLS_CERT_FILE');
    expect(error.message).toContain('TLS_KEY_FILE');
  });
});

describe('loadConfig HTTPS and device certificates', () => {
  const files = { TLS_CERT_FILE: '/tls/cert.pem', TLS_KEY_FILE: '/tls/key.pem' };

  it('serves HTTPS with the certificate of MQTT over TLS, HSTS for a year by default', () => {
    const config = loadConfig({ ...files, HTTPS_PORT: '8443' });
    expect(config.https).toEqual({
      port: 8443,
      certFile: '/tls/cert.pem',
      keyFile: '/tls/key.pem',
      hstsMaxAgeS: 31_536_000,
    });
    expect(config.tls).toBeUndefined();
    expect(config.httpPort).toBe(8080);
    expect(loadConfig({ ...files, HTTPS_PORT: '0', VITALINK_HSTS_MAX_AGE_S: '0' }).https?.hstsMaxAgeS).toBe(0);
    expect(loadConfig({}).https).toBeUndefined();
  });

  it('refuses HTTPS_PORT without the certificate, naming what to set', () => {
    const error = configError({ HTTPS_PORT: '8443' });
    expect(error.problems).toEqual([
      expect.stringMatching(/^HTTPS_PORT: HTTPS_PORT needs a certificate: set TLS_CERT_FILE and TLS_KEY_FILE/),
    ]);
  });

  it('turns the plaintext HTTP listener off only when HTTPS serves the routes', () => {
    expect(loadConfig({ ...files, HTTPS_PORT: '8443', HTTP_PORT: 'off' }).httpPort).toBeUndefined();
    const error = configError({ HTTP_PORT: 'off' });
    expect(error.problems).toEqual([expect.stringMatching(/^HTTP_PORT: off needs HTTPS_PORT/)]);
    expect(configError({ HTTP_PORT: 'of' }).problems[0]).toContain('or off');
  });

  it('starts TLS listeners only on a network address without the statement', () => {
    const config = loadConfig(
      { ...files, HOST: '0.0.0.0', MQTT_PORT: 'off', HTTP_PORT: 'off', MQTT_TLS_PORT: '8883', HTTPS_PORT: '8443' },
      { listening: true },
    );
    expect(config.mqttPort).toBeUndefined();
    expect(config.httpPort).toBeUndefined();
    expect(configError({ MQTT_PORT: 'off' }).problems).toEqual([
      expect.stringMatching(/^MQTT_PORT: off needs another MQTT listener/),
    ]);
  });

  it('leaves HTTP_PORT=off out of the plaintext listeners on a network', () => {
    const error = configError({ ...files, HOST: '0.0.0.0', HTTPS_PORT: '8443', HTTP_PORT: 'off' }, { listening: true });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain('the plaintext listeners MQTT_PORT (1883) would listen on 0.0.0.0');
    expect(error.problems[0]).not.toContain('HTTP_PORT (');
  });

  it('asks a device certificate mode for its CA bundle and the MQTT TLS listener', () => {
    const tlsOn = { ...files, MQTT_TLS_PORT: '8883' };
    expect(loadConfig(tlsOn).deviceCerts).toBeUndefined();
    expect(
      loadConfig({ ...tlsOn, VITALINK_DEVICE_CERTS: 'required', VITALINK_DEVICE_CA_FILE: '/tls/devices-ca.pem' })
        .deviceCerts,
    ).toEqual({ mode: 'required', caFile: '/tls/devices-ca.pem', crlFile: undefined });
    expect(configError({ ...tlsOn, VITALINK_DEVICE_CERTS: 'optional' }).problems).toEqual([
      expect.stringMatching(/^VITALINK_DEVICE_CA_FILE: VITALINK_DEVICE_CERTS=optional needs the CA bundle/),
    ]);
    // HTTPS_PORT alone is a listener where devices present certificates too (README, "Over HTTPS").
    expect(
      loadConfig({ ...files, HTTPS_PORT: '8443', VITALINK_DEVICE_CERTS: 'required', VITALINK_DEVICE_CA_FILE: '/ca' })
        .deviceCerts,
    ).toEqual({ mode: 'required', caFile: '/ca', crlFile: undefined });
    expect(
      configError({ ...files, VITALINK_DEVICE_CERTS: 'required', VITALINK_DEVICE_CA_FILE: '/ca' }).problems,
    ).toContainEqual(expect.stringMatching(/^VITALINK_DEVICE_CERTS: required needs a TLS listener/));
    expect(configError({ ...tlsOn, VITALINK_DEVICE_CRL_FILE: '/crl' }).problems).toEqual([
      expect.stringMatching(/^VITALINK_DEVICE_CRL_FILE: is set but VITALINK_DEVICE_CERTS is off/),
    ]);
    expect(configError({ ...tlsOn, VITALINK_DEVICE_CERTS: 'yes' }).problems[0]).toMatch(
      /^VITALINK_DEVICE_CERTS: must be off .*, optional .* or required/,
    );
  });
});

describe('loadConfig errors', () => {
  it('reports every problem at once, each by name', () => {
    const error = configError({
      MQTT_PORT: 'abc',
      HTTP_PORT: '70000',
      LOG_LEVEL: 'loud',
      VITALINK_ADMIN_TOKEN: 'tok-abc',
      VITALINK_BATCH_MAX_ROWS: '0',
      TLS_CERT_FILE: '/tls/cert.pem',
    });
    const names = error.problems.map((p) => p.split(':')[0]);
    expect(names.sort()).toEqual(
      ['HTTP_PORT', 'LOG_LEVEL', 'MQTT_PORT', 'TLS_KEY_FILE', 'VITALINK_ADMIN_TOKEN', 'VITALINK_BATCH_MAX_ROWS'].sort(),
    );
    for (const name of names) expect(error.message).toContain(name);
    expect(error.name).toBe('ConfigError');
  });

  it('shows the offending value of an ordinary variable', () => {
    const error = configError({ MQTT_PORT: 'abc' });
    expect(error.problems[0]).toContain('"abc"');
  });

  it('never echoes the DATABASE_URL value, nor the admin token', () => {
    const url = 'mysql://admin:hunter2-Pa55@db.internal:3306/vitalink';
    const error = configError({ DATABASE_URL: url, VITALINK_ADMIN_TOKEN: 'tok-abc', MQTT_PORT: 'abc' });
    expect(error.problems.some((p) => p.startsWith('DATABASE_URL:'))).toBe(true);
    expect(error.problems.some((p) => p.startsWith('VITALINK_ADMIN_TOKEN:'))).toBe(true);
    const everything = `${error.message}\n${error.problems.join('\n')}\n${String(error.stack)}`;
    expect(everything).not.toContain('hunter2');
    expect(everything).not.toContain('db.internal');
    expect(everything).not.toContain('mysql://');
    expect(everything).not.toContain('tok-abc');
  });

  it('does not echo a valid DATABASE_URL when another variable is wrong', () => {
    const error = configError({ DATABASE_URL: 'postgres://u:hunter2@db/x', HTTP_PORT: 'no' });
    expect(error.message).not.toContain('hunter2');
    expect(error.problems).toHaveLength(1);
  });
});

describe('loadConfig result', () => {
  it('is frozen, deeply', () => {
    const config = loadConfig({ MQTT_TLS_PORT: '8883', TLS_CERT_FILE: '/c', TLS_KEY_FILE: '/k' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.batch)).toBe(true);
    expect(Object.isFrozen(config.tls)).toBe(true);
    expect(() => {
      (config as { mqttPort: number }).mqttPort = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.batch as { maxRows: number }).maxRows = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.tls as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.batch.maxRows).toBe(2000);
  });
});

describe('loadConfig empty strings', () => {
  it('treats an empty optional variable as unset', () => {
    const config = loadConfig({
      DATABASE_URL: '',
      HOST: '',
      MQTT_TLS_PORT: '',
      TLS_CERT_FILE: '',
      TLS_KEY_FILE: '',
      MQTT_WS_PORT: '',
      VITALINK_ADMIN_TOKEN: '',
    });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.host).toBe('127.0.0.1');
    expect(config.tls).toBeUndefined();
    expect(config.wsPort).toBeUndefined();
    expect(config.adminToken).toBeUndefined();
  });

  it('uses the default for an empty variable that has one (MQTT_PORT= must not mean port 0)', () => {
    const config = loadConfig({
      MQTT_PORT: '',
      HTTP_PORT: '',
      LOG_LEVEL: '',
      VITALINK_DATA_DIR: '',
      VITALINK_BATCH_MAX_ROWS: '',
      VITALINK_BATCH_MAX_WAIT_MS: '',
    });
    expect(config.mqttPort).toBe(1883);
    expect(config.httpPort).toBe(8080);
    expect(config.logLevel).toBe('info');
    expect(config.dataDir).toBe(path.join(process.cwd(), '.vitalink'));
    expect(config.batch.maxRows).toBe(2000);
    expect(config.batch.maxWaitMs).toBe(5);
  });

  it('counts an empty TLS variable as missing', () => {
    const error = configError({ MQTT_TLS_PORT: '8883', TLS_CERT_FILE: '/c', TLS_KEY_FILE: '' });
    expect(error.problems).toHaveLength(1);
  });
});

describe('retention settings (README, "Retention")', () => {
  it('keeps 4 MiB of raw rejection bytes per device and day by default; 0 switches the quota off', () => {
    expect(loadConfig({}).rejectionRawBytesPerDeviceDay).toBe(4 * 1024 * 1024);
    expect(loadConfig({ VITALINK_REJECTIONS_RAW_BYTES_PER_DEVICE_DAY: '5000' }).rejectionRawBytesPerDeviceDay).toBe(
      5000,
    );
    expect(loadConfig({ VITALINK_REJECTIONS_RAW_BYTES_PER_DEVICE_DAY: '0' }).rejectionRawBytesPerDeviceDay).toBeNull();
    expect(configError({ VITALINK_REJECTIONS_RAW_BYTES_PER_DEVICE_DAY: '-1' }).problems[0]).toMatch(
      /^VITALINK_REJECTIONS_RAW_BYTES_PER_DEVICE_DAY: must be 0 \(no quota\) or a number of bytes/,
    );
  });

  it('keeps readings forever by default, rejections 180 days, the audit log 3650 days, runs daily', () => {
    const { retention } = loadConfig({});
    expect(retention).toEqual({
      readingsDays: null,
      rejectionsDays: 180,
      auditDays: 3650,
      readingMaxAgeMs: 90 * 86_400_000,
      intervalMs: 86_400_000,
    });
  });

  it('reads 0 as forever for every kind, and 0 as no scheduled run', () => {
    const { retention } = loadConfig({
      VITALINK_RETENTION_READINGS_DAYS: '0',
      VITALINK_RETENTION_REJECTIONS_DAYS: '0',
      VITALINK_RETENTION_AUDIT_DAYS: '0',
      VITALINK_RETENTION_INTERVAL_MS: '0',
    });
    expect(retention).toMatchObject({ readingsDays: null, rejectionsDays: null, auditDays: null, intervalMs: 0 });
  });

  it('accepts a readings retention from the acceptance window plus 7 days, and never under 97 days', () => {
    expect(loadConfig({ VITALINK_RETENTION_READINGS_DAYS: '97' }).retention.readingsDays).toBe(97);
    expect(
      loadConfig({ VITALINK_RETENTION_READINGS_DAYS: '127', VITALINK_READING_MAX_AGE_DAYS: '120' }).retention
        .readingsDays,
    ).toBe(127);
    expect(
      loadConfig({ VITALINK_RETENTION_READINGS_DAYS: '97', VITALINK_READING_MAX_AGE_DAYS: '30' }).retention
        .readingsDays,
    ).toBe(97);
    // The database's own floor (README, "Database roles"), whatever the window.
    const error = configError({ VITALINK_RETENTION_READINGS_DAYS: '37', VITALINK_READING_MAX_AGE_DAYS: '30' });
    expect(error.problems).toEqual([
      'VITALINK_RETENTION_READINGS_DAYS: must be 0 (keep forever) or at least 97 days: the database never drops a month of readings that ended less than 97 days ago (README, "Database roles") (got "37")',
    ]);
  });

  it('keeps the audit trail at least 365 days, or forever', () => {
    expect(loadConfig({ VITALINK_RETENTION_AUDIT_DAYS: '365' }).retention.auditDays).toBe(365);
    expect(loadConfig({ VITALINK_RETENTION_AUDIT_DAYS: '0' }).retention.auditDays).toBeNull();
    const error = configError({ VITALINK_RETENTION_AUDIT_DAYS: '364' });
    expect(error.problems).toEqual([
      'VITALINK_RETENTION_AUDIT_DAYS: must be 0 (keep forever) or at least 365 days: the database refuses to delete audit entries less than a year old (README, "Database roles") (got "364")',
    ]);
  });

  it('refuses a readings retention shorter than the acceptance window plus 7 days, naming both variables', () => {
    const error = configError({ VITALINK_RETENTION_READINGS_DAYS: '96' });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(
      /^VITALINK_RETENTION_READINGS_DAYS: must be 0 \(keep forever\) or at least 97 days/,
    );
    expect(error.problems[0]).toContain('VITALINK_READING_MAX_AGE_DAYS (90)');
    expect(error.problems[0]).toContain('(got "96")');
  });

  it('refuses negative or fractional days and a bad interval, each by name', () => {
    const error = configError({
      VITALINK_RETENTION_READINGS_DAYS: '-1',
      VITALINK_RETENTION_REJECTIONS_DAYS: '1.5',
      VITALINK_RETENTION_AUDIT_DAYS: 'ten years',
      VITALINK_RETENTION_INTERVAL_MS: '-5',
    });
    expect(error.problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'VITALINK_RETENTION_AUDIT_DAYS',
      'VITALINK_RETENTION_INTERVAL_MS',
      'VITALINK_RETENTION_READINGS_DAYS',
      'VITALINK_RETENTION_REJECTIONS_DAYS',
    ]);
  });
});

describe('DATABASE_MIGRATION_URL (README, "Database roles")', () => {
  it('is unset by default: the migrations run on DATABASE_URL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://vitalink@db/vitalink' }).databaseMigrationUrl).toBeUndefined();
  });

  it('takes the owner connection of the database of DATABASE_URL', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://vitalink@db/vitalink',
      DATABASE_MIGRATION_URL: 'postgresql://vitalink_owner:secret@db/vitalink',
    });
    expect(config.databaseMigrationUrl).toBe('postgresql://vitalink_owner:secret@db/vitalink');
  });

  it('refuses it without DATABASE_URL, and a value that is not a connection string, without echoing either', () => {
    const alone = configError({ DATABASE_MIGRATION_URL: 'postgres://vitalink_owner:secret@db/vitalink' });
    expect(alone.problems).toHaveLength(1);
    expect(alone.problems[0]).toMatch(/^DATABASE_MIGRATION_URL: .*set DATABASE_URL/);
    expect(alone.problems[0]).not.toContain('secret');
    const bad = configError({ DATABASE_URL: 'postgres://db/vitalink', DATABASE_MIGRATION_URL: 'mysql://secret@db' });
    expect(bad.problems).toEqual(['DATABASE_MIGRATION_URL: must be a postgres:// or postgresql:// connection string']);
  });
});

describe('VITALINK_PUBLIC_URL and the HTTP rate limits (README, "Security")', () => {
  it('is unset by default; the limits are 600 per token, 20 failed authentications and 60 unknown routes per address, a minute', () => {
    const config = loadConfig({});
    expect(config.publicUrl).toBeUndefined();
    expect(config.httpRateLimits).toEqual({ perPrincipalPerMin: 600, authFailuresPerMin: 20, notFoundPerMin: 60 });
  });

  it('takes an absolute http(s) URL, with a path, without its trailing slash', () => {
    expect(loadConfig({ VITALINK_PUBLIC_URL: 'https://vitalink.example.org/' }).publicUrl).toBe(
      'https://vitalink.example.org',
    );
    expect(loadConfig({ VITALINK_PUBLIC_URL: 'http://10.0.0.5:8080/vitalink' }).publicUrl).toBe(
      'http://10.0.0.5:8080/vitalink',
    );
  });

  it('refuses anything else, naming the variable and showing an example', () => {
    for (const value of [
      'vitalink.example.org',
      '/fhir',
      'ftp://vitalink.example.org',
      'https://user:pw@vitalink.example.org',
      'https://vitalink.example.org/?a=1',
      'https://vitalink.example.org/#x',
      'javascript:alert(1)',
    ]) {
      const error = configError({ VITALINK_PUBLIC_URL: value });
      expect(error.problems, value).toHaveLength(1);
      expect(error.problems[0], value).toMatch(/^VITALINK_PUBLIC_URL: must be an absolute http:\/\/ or https:\/\/ URL/);
      expect(error.problems[0], value).toContain('e.g. https://vitalink.example.org');
    }
  });

  it('reads each limit, 0 switching it off, and refuses negative or fractional ones by name', () => {
    const config = loadConfig({
      VITALINK_HTTP_RATE_LIMIT_PER_MIN: '5',
      VITALINK_HTTP_AUTH_FAILURES_PER_MIN: '0',
      VITALINK_HTTP_NOT_FOUND_PER_MIN: '7',
    });
    expect(config.httpRateLimits).toEqual({ perPrincipalPerMin: 5, authFailuresPerMin: 0, notFoundPerMin: 7 });
    const error = configError({
      VITALINK_HTTP_RATE_LIMIT_PER_MIN: '-1',
      VITALINK_HTTP_AUTH_FAILURES_PER_MIN: '1.5',
      VITALINK_HTTP_NOT_FOUND_PER_MIN: 'many',
    });
    expect(error.problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'VITALINK_HTTP_AUTH_FAILURES_PER_MIN',
      'VITALINK_HTTP_NOT_FOUND_PER_MIN',
      'VITALINK_HTTP_RATE_LIMIT_PER_MIN',
    ]);
  });
});

describe('limits on the MQTT listeners (README, "Security")', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({}).listenerLimits).toEqual({
      tlsHandshakeTimeoutMs: 10_000,
      wsHandshakeTimeoutMs: 10_000,
      connectMaxBytes: 8192,
      maxConnections: 10_000,
      maxConnectionsPerAddress: 100,
      maxKeepaliveS: 1200,
      throttle: {
        authFailuresPerAddress: 20,
        authFailuresPerClient: 5,
        authFailureWindowMs: 60_000,
        authBanMs: 60_000,
        flappingMaxConnects: 15,
        flappingWindowMs: 60_000,
        flappingBanMs: 300_000,
      },
    });
  });

  it('reads each variable, and refuses a CONNECT bound under 256 bytes and a keepalive maximum out of range', () => {
    const c = loadConfig({
      VITALINK_MQTT_CONNECT_MAX_BYTES: '4096',
      VITALINK_MQTT_MAX_CONNECTIONS_PER_ADDRESS: '500',
      VITALINK_MQTT_FLAPPING_BAN_S: '10',
    }).listenerLimits;
    expect([c.connectMaxBytes, c.maxConnectionsPerAddress, c.throttle.flappingBanMs]).toEqual([4096, 500, 10_000]);
    const e = configError({ VITALINK_MQTT_CONNECT_MAX_BYTES: '100', VITALINK_MQTT_MAX_KEEPALIVE_S: '0' });
    expect(e.problems).toHaveLength(2);
    expect(e.problems[0]).toMatch(/^VITALINK_MQTT_CONNECT_MAX_BYTES: must be at least 256 bytes/);
    expect(e.problems[1]).toMatch(/^VITALINK_MQTT_MAX_KEEPALIVE_S: must be 1 to 65535 seconds/);
  });
});

describe('plaintext listeners on a network (README, "Security", "Listening on a network")', () => {
  const url = 'postgres://vitalink@db.example:5432/vitalink';

  it('refuses `serve` on HOST=0.0.0.0 without VITALINK_ALLOW_PLAINTEXT_PUBLIC=1, saying what to do', () => {
    expect(loadConfig({ DATABASE_URL: url }, { listening: true }).host).toBe('127.0.0.1');
    const error = configError({ DATABASE_URL: url, HOST: '0.0.0.0' }, { listening: true });
    expect(error.problems).toHaveLength(1);
    const problem = error.problems[0]!;
    expect(problem).toMatch(
      /^HOST: the plaintext listeners MQTT_PORT \(1883\), HTTP_PORT \(8080\) would listen on 0\.0\.0\.0, which is not a loopback address/,
    );
    expect(problem).toContain('Set HOST=127.0.0.1');
    expect(problem).toContain('MQTT_TLS_PORT');
    expect(problem).toContain('VITALINK_ALLOW_PLAINTEXT_PUBLIC=1');
  });

  it('names the WebSocket listener too, and reports the refusal with every other problem at once', () => {
    const error = configError(
      { HOST: '10.0.0.5', MQTT_WS_PORT: '8081', HTTP_PORT: 'eighty', LOG_LEVEL: 'loud' },
      { listening: true },
    );
    expect(error.problems.map((p) => p.split(':')[0]).sort()).toEqual(['HOST', 'HTTP_PORT', 'LOG_LEVEL']);
    expect(error.problems.find((p) => p.startsWith('HOST:'))).toContain(
      'the plaintext listeners MQTT_PORT (1883), MQTT_WS_PORT (8081), HTTP_PORT (eighty) would listen on 10.0.0.5, which',
    );
  });

  it('starts on a non-loopback HOST with the statement, and on loopback without it', () => {
    const open = loadConfig(
      { DATABASE_URL: url, HOST: '0.0.0.0', VITALINK_ALLOW_PLAINTEXT_PUBLIC: '1' },
      { listening: true },
    );
    expect(open.host).toBe('0.0.0.0');
    expect(open.allowPlaintextPublic).toBe(true);
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
      expect(loadConfig({ DATABASE_URL: url, HOST: host }, { listening: true }).host).toBe(host);
    }
    expect(loadConfig({}, { listening: true }).allowPlaintextPublic).toBe(false);
  });

  it('does not refuse the commands that open no listener', () => {
    expect(loadConfig({ DATABASE_URL: url, HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('refuses a statement other than 0 or 1, by name', () => {
    expect(configError({ VITALINK_ALLOW_PLAINTEXT_PUBLIC: 'yes' }).problems).toEqual([
      'VITALINK_ALLOW_PLAINTEXT_PUBLIC: must be 1 (plaintext listeners may listen on a non-loopback HOST) or 0 (they may not) (got "yes")',
    ]);
    expect(
      configError({ DATABASE_URL: url, HOST: '0.0.0.0', VITALINK_ALLOW_PLAINTEXT_PUBLIC: '0' }, { listening: true })
        .problems[0],
    ).toMatch(/^HOST: /);
  });

  it('tells loopback addresses from the others', () => {
    for (const host of [
      '127.0.0.1',
      '127.255.0.1',
      '::1',
      '0:0:0:0:0:0:0:1',
      '[::1]',
      'localhost',
      'LOCALHOST',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.5',
      '192.168.1.2',
      '::ffff:10.0.0.1',
      'fe80::1',
      'vitalink.example.org',
      '128.0.0.1',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('holds for a configuration given to createApp directly (configExposureProblems)', () => {
    expect(
      configExposureProblems(loadConfig({ DATABASE_URL: url, HOST: '0.0.0.0', MQTT_PORT: '0', HTTP_PORT: '0' }))[0],
    ).toMatch(
      /^HOST: the plaintext listeners MQTT_PORT \(0\), HTTP_PORT \(0\) would listen on 0\.0\.0\.0, which is not a loopback address/,
    );
    expect(configExposureProblems(loadConfig({ DATABASE_URL: url, VITALINK_ALLOW_PLAINTEXT_PUBLIC: '1' }))).toEqual([]);
    expect(configExposureProblems(loadConfig({ DATABASE_URL: url, HOST: '127.0.0.1' }))).toEqual([]);
  });
});

describe('VITALINK_INSTANCE_ID (README, "Running several instances")', () => {
  it('is the host name and process id unless set', () => {
    expect(loadConfig({}).instanceId).toBe(defaultInstanceId());
    expect(defaultInstanceId('web-1.example.org', 4242)).toBe('web-1-4242');
    expect(defaultInstanceId('--', 7)).toBe('vitalink-7');
    expect(loadConfig({ VITALINK_INSTANCE_ID: 'vitalink-a' }).instanceId).toBe('vitalink-a');
    expect(loadConfig({ VITALINK_INSTANCE_ID: '' }).instanceId).toBe(defaultInstanceId());
  });

  it('refuses a name that would not fit a log field, a label or a connection name', () => {
    for (const value of ['-a', 'a b', 'a/b', 'é', 'x'.repeat(64)]) {
      const error = configError({ VITALINK_INSTANCE_ID: value });
      expect(error.problems, value).toHaveLength(1);
      expect(error.problems[0], value).toMatch(/^VITALINK_INSTANCE_ID: must be 1 to 63 letters, digits/);
    }
  });
});

describe('DATABASE_READ_URL (README, "Running several instances", "Read replica")', () => {
  it('is a replica of DATABASE_URL, used within VITALINK_READ_REPLICA_MAX_LAG_MS', () => {
    expect(loadConfig({}).readReplica).toBeUndefined();
    expect(
      loadConfig({ DATABASE_URL: 'postgres://primary/v', DATABASE_READ_URL: 'postgres://replica/v' }).readReplica,
    ).toEqual({ url: 'postgres://replica/v', maxLagMs: 5_000 });
  });

  it('needs DATABASE_URL, and hides its value in the message', () => {
    const error = configError({ DATABASE_READ_URL: 'postgres://user:pw@replica/v' });
    expect(error.problems).toEqual([
      'DATABASE_READ_URL: a read replica needs its primary: set DATABASE_URL to the primary PostgreSQL too, or unset DATABASE_READ_URL (the embedded database has no replica)',
    ]);
  });
});

describe('notification settings (README, "Notifications")', () => {
  it('defaults: no SMTP, 8 attempts from 30 s to 1 h, escalation 30m/2h/8h/24h', () => {
    const { notifications } = loadConfig({});
    expect(notifications.smtp).toBeUndefined();
    expect(notifications.retry).toEqual({ maxAttempts: 8, baseDelayMs: 30_000, maxDelayMs: 3_600_000 });
    expect(notifications.timeoutMs).toBe(10_000);
    expect(notifications.escalationDelays).toEqual({
      critical: 1_800_000,
      high: 7_200_000,
      moderate: 28_800_000,
      low: 86_400_000,
    });
  });

  it('reads the SMTP server and the escalation delays (a duration or off)', () => {
    const file = path.resolve('package.json');
    const { notifications } = loadConfig({
      VITALINK_SMTP_HOST: 'smtp.mssante.example',
      VITALINK_SMTP_FROM: 'vitalink@ch.mssante.fr',
      VITALINK_SMTP_CLIENT_CERT_FILE: file,
      VITALINK_SMTP_CLIENT_KEY_FILE: file,
      VITALINK_ESCALATION_LOW: 'off',
      VITALINK_ESCALATION_CRITICAL: '15m',
    });
    expect(notifications.smtp).toMatchObject({ host: 'smtp.mssante.example', port: 587, tls: 'required' });
    expect(notifications.escalationDelays).toMatchObject({ critical: 900_000, low: null });
  });

  it('reports every problem, naming the setting, never the password', () => {
    const error = configError({
      VITALINK_SMTP_HOST: 'smtp.example',
      VITALINK_SMTP_TLS: 'sometimes',
      VITALINK_SMTP_CLIENT_CERT_FILE: '/nonexistent/cert.pem',
      VITALINK_SMTP_PASSWORD: 'hunter2-password',
      VITALINK_ESCALATION_HIGH: 'soon',
    });
    expect(error.message).toContain('VITALINK_SMTP_FROM');
    expect(error.message).toContain('VITALINK_SMTP_TLS: must be required');
    expect(error.message).toContain('VITALINK_SMTP_CLIENT_CERT_FILE and VITALINK_SMTP_CLIENT_KEY_FILE: set both');
    expect(error.message).toContain('VITALINK_SMTP_CLIENT_CERT_FILE: /nonexistent/cert.pem does not exist');
    expect(error.message).toContain('VITALINK_SMTP_PASSWORD: set VITALINK_SMTP_USER too');
    expect(error.message).toContain('VITALINK_ESCALATION_HIGH: must be a duration');
    expect(error.message).not.toContain('hunter2');
  });
});
