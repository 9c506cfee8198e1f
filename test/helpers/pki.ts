import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';

/**
 * Certificates made with `openssl` in a scratch directory, for the TLS tests
 * (nothing committed that could expire: every certificate and CRL is valid for
 * 100 years). P-256 keys, which openssl makes in milliseconds.
 */

const DAYS = '36500';
/** A new unencrypted P-256 key, for `openssl req`. */
const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface Pair {
  readonly cert: string;
  readonly key: string;
}

export class ScratchPki {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'vitalink-pki-'));

  file(name: string): string {
    return path.join(this.dir, name);
  }

  /** A self-signed server certificate for localhost and 127.0.0.1, named `name`.pem and `name`.key. */
  serverPair(name: string): Pair {
    openssl(
      this.dir,
      'req',
      '-x509',
      ...NEW_EC_KEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      DAYS,
      '-subj',
      `/CN=localhost/O=${name}`,
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    );
    return { cert: this.file(`${name}.pem`), key: this.file(`${name}.key`) };
  }

  /** A CA (`ca.pem`, `ca.key`) with the files `openssl ca` needs to revoke and to issue CRLs. */
  deviceCa(name = 'Vitalink test device CA'): string {
    openssl(
      this.dir,
      'req',
      '-x509',
      ...NEW_EC_KEY,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      DAYS,
      '-subj',
      `/CN=${name}`,
    );
    writeFileSync(this.file('index.txt'), '');
    writeFileSync(this.file('crlnumber'), '01\n');
    writeFileSync(
      this.file('ca.cnf'),
      [
        '[ ca ]',
        'default_ca = device_ca',
        '[ device_ca ]',
        `database = ${this.file('index.txt')}`,
        `crlnumber = ${this.file('crlnumber')}`,
        'default_md = sha256',
        `default_crl_days = ${DAYS}`,
        '',
      ].join('\n'),
    );
    return this.file('ca.pem');
  }

  /** A device certificate issued by the CA with subject CN=`cn`, as `name`.pem and `name`.key. */
  deviceCert(name: string, cn: string): Pair {
    openssl(this.dir, 'req', ...NEW_EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    openssl(
      this.dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      DAYS,
    );
    return { cert: this.file(`${name}.pem`), key: this.file(`${name}.key`) };
  }

  /** Revokes a certificate in the CA's database (the next `writeCrl` lists it). */
  revoke(certFile: string): void {
    openssl(this.dir, 'ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.pem', '-revoke', certFile);
  }

  /** Writes the CA's CRL to `target` (atomically: a temporary file renamed over it). */
  writeCrl(target: string): void {
    const temporary = `${target}.new`;
    openssl(
      this.dir,
      'ca',
      '-config',
      'ca.cnf',
      '-keyfile',
      'ca.key',
      '-cert',
      'ca.pem',
      '-gencrl',
      '-crldays',
      DAYS,
      '-out',
      temporary,
    );
    renameSync(temporary, target);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The SHA-256 fingerprint of a PEM certificate, as `getPeerCertificate().fingerprint256` gives it. */
export function fingerprint(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}
