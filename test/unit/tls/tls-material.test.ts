import { copyFileSync, renameSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { X509Certificate } from 'node:crypto';
import type tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import { TlsMaterial, TlsMaterialError } from '../../../src/tls/tls-material.ts';
import { fingerprint, ScratchPki } from '../../helpers/pki.ts';

/** src/tls/tls-material.ts: what a change of the files on disk does, checked by hand (`check()`), no timer. */

const pki = new ScratchPki();
afterAll(() => pki.remove());
const first = pki.serverPair('first');
const second = pki.serverPair('second');
const cert = pki.file('served.pem');
const key = pki.file('served.key');

function replace(target: string, source: string | Buffer): void {
  if (typeof source === 'string') copyFileSync(source, `${target}.new`);
  else writeFileSync(`${target}.new`, source);
  renameSync(`${target}.new`, target);
}

/** A material on the served files, one consumer recording what it is given, and the log lines. */
async function setup() {
  replace(key, first.key);
  replace(cert, first.cert);
  const lines: Array<{ msg: string; level: string }> = [];
  const log = createLogger(
    'info',
    new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  const outcomes: string[] = [];
  const material = new TlsMaterial({ TLS_CERT_FILE: cert, TLS_KEY_FILE: key }, log, (o) => outcomes.push(o));
  await material.load();
  const applied: tls.SecureContextOptions[] = [];
  material.use({
    build: (files) => ({ cert: files.TLS_CERT_FILE, key: files.TLS_KEY_FILE }),
    apply: (options) => applied.push(options),
  });
  const servedFingerprint = () => new X509Certificate(material.contents.TLS_CERT_FILE!).fingerprint256;
  return { material, applied, outcomes, lines, servedFingerprint };
}

describe('TlsMaterial', () => {
  it('hands a new pair to its consumers once the files change, and nothing when they do not', async () => {
    const m = await setup();
    await m.material.check();
    expect(m.applied).toHaveLength(0);
    replace(key, second.key);
    replace(cert, second.cert);
    await m.material.check();
    expect(m.applied).toHaveLength(1);
    expect(m.servedFingerprint()).toBe(fingerprint(second.cert));
    expect(m.outcomes).toEqual(['loaded']);
    expect(m.lines.map((l) => l.msg)).toEqual(['tls files reloaded']);
  });

  it('keeps the previous pair when the new one does not go together, and reports it once', async () => {
    const m = await setup();
    replace(key, second.key);
    await m.material.check();
    await m.material.check();
    expect(m.applied).toHaveLength(0);
    expect(m.servedFingerprint()).toBe(fingerprint(first.cert));
    expect(m.outcomes).toEqual(['failed']);
    const failure = m.lines.find(
      (l) => l.msg === 'tls files changed but are not usable, keeping the previous certificate',
    );
    expect(failure?.level).toBe('error');
    expect(m.lines).toHaveLength(1);
    // The certificate that goes with the key arrives: taken at the next check.
    replace(cert, second.cert);
    await m.material.check();
    expect(m.servedFingerprint()).toBe(fingerprint(second.cert));
    expect(m.outcomes).toEqual(['failed', 'loaded']);
  });

  it("refuses at start a file it cannot read, or a key that is not the certificate's, naming the variables", async () => {
    const missing = new TlsMaterial(
      { TLS_CERT_FILE: pki.file('absent.pem'), TLS_KEY_FILE: key },
      createLogger('silent'),
    );
    await expect(missing.load()).rejects.toThrow(TlsMaterialError);
    await expect(missing.load()).rejects.toThrow(/^TLS_CERT_FILE: cannot read .*absent\.pem \(ENOENT\)/);
    const mismatched = new TlsMaterial({ TLS_CERT_FILE: first.cert, TLS_KEY_FILE: second.key }, createLogger('silent'));
    await mismatched.load();
    expect(() => mismatched.assertUsable((files) => ({ cert: files.TLS_CERT_FILE, key: files.TLS_KEY_FILE }))).toThrow(
      /TLS_CERT_FILE, TLS_KEY_FILE.*check that TLS_KEY_FILE is the key of TLS_CERT_FILE/,
    );
  });
});
