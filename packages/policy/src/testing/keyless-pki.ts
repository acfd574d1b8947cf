import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A private "keyless" PKI as an operator would run one: what `makeKeylessPki` wrote. */
export interface KeylessPki {
  dir: string;
  /** The signer's identity in its certificate (SAN e-mail) and its OIDC issuer (Fulcio's extensions). */
  identity: { subject: string; issuer: string };
  /** Files in `dir`: the leaf's key (PKCS#8 PEM) and certificate, the chain (intermediate, root). */
  leafKey: string;
  leafCert: string;
  chain: string;
  /** The sigstore trusted root (protobuf-specs TrustedRoot v0.1): the CA chain and the TSA chain, no logs. */
  trustedRoot: string;
}

/**
 * Builds with openssl a root CA, an intermediate, a code-signing leaf with
 * Fulcio's identity extensions (SAN e-mail, issuer OIDs .1.1 and .1.8), and
 * a timestamp authority under the root, plus the trusted_root.json both
 * cosign (`--trusted-root`) and vreg read. Nothing touches the network.
 */
export async function makeKeylessPki(
  dir: string,
  identity = { subject: 'signer@example.test', issuer: 'https://issuer.example.test' },
): Promise<KeylessPki> {
  const openssl = async (...args: string[]): Promise<void> => {
    await run('openssl', args, { cwd: dir });
  };
  const ec = async (name: string): Promise<void> => {
    await openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.ec`);
    await openssl('pkcs8', '-topk8', '-nocrypt', '-in', `${name}.ec`, '-out', `${name}.key`);
  };
  const sign = async (name: string, ca: string, days: number, ext: string): Promise<void> => {
    await writeFile(join(dir, `${name}.ext`), ext);
    await openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      String(days),
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  };
  await ec('root');
  await openssl(
    'req',
    '-x509',
    '-new',
    '-key',
    'root.key',
    '-sha256',
    '-days',
    '3650',
    '-subj',
    '/O=vreg-test/CN=test root',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    'root.pem',
  );
  await ec('inter');
  await openssl('req', '-new', '-key', 'inter.key', '-subj', '/O=vreg-test/CN=test intermediate', '-out', 'inter.csr');
  await sign(
    'inter',
    'root',
    3650,
    'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nextendedKeyUsage=codeSigning\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  await ec('leaf');
  await openssl('req', '-new', '-key', 'leaf.key', '-subj', '/', '-out', 'leaf.csr');
  const issuerHex = Buffer.from(identity.issuer).toString('hex');
  await sign(
    'leaf',
    'inter',
    3650,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=codeSigning',
      `subjectAltName=critical,email:${identity.subject}`,
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
      `1.3.6.1.4.1.57264.1.1=DER:${issuerHex}`,
      `1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:${identity.issuer}`,
      '',
    ].join('\n'),
  );
  await ec('tsa');
  await openssl('req', '-new', '-key', 'tsa.key', '-subj', '/O=vreg-test/CN=test TSA', '-out', 'tsa.csr');
  await sign(
    'tsa',
    'root',
    3650,
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  await writeFile(
    join(dir, 'chain.pem'),
    (await readFile(join(dir, 'inter.pem'), 'utf8')) + (await readFile(join(dir, 'root.pem'), 'utf8')),
  );
  await writeFile(
    join(dir, 'tsa.cnf'),
    `[ tsa ]\ndefault_tsa = tsa_config\n[ tsa_config ]\ndir = ${dir}\nserial = ${dir}/tsaserial\nsigner_cert = ${dir}/tsa.pem\ncerts = ${dir}/tsa.pem\nsigner_key = ${dir}/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.3.6.1.4.1.57264.2\ndigests = sha256, sha384, sha512\naccuracy = secs:1\nordering = yes\ntsa_name = no\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n`,
  );
  await writeFile(join(dir, 'tsaserial'), '01\n');
  const der = async (name: string): Promise<string> =>
    (await run('openssl', ['x509', '-in', `${name}.pem`, '-outform', 'DER'], { cwd: dir, encoding: 'buffer' })).stdout.toString('base64');
  const trustedRoot = JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [
      {
        subject: { organization: 'vreg-test', commonName: 'test intermediate' },
        uri: 'https://ca.example.test',
        certChain: { certificates: [{ rawBytes: await der('inter') }, { rawBytes: await der('root') }] },
        validFor: { start: '2020-01-01T00:00:00Z' },
      },
    ],
    ctlogs: [],
    timestampAuthorities: [
      {
        subject: { organization: 'vreg-test', commonName: 'test TSA' },
        uri: 'http://tsa.example.test',
        certChain: { certificates: [{ rawBytes: await der('tsa') }, { rawBytes: await der('root') }] },
        validFor: { start: '2020-01-01T00:00:00Z' },
      },
    ],
  });
  await writeFile(join(dir, 'trusted_root.json'), trustedRoot);
  return { dir, identity, leafKey: join(dir, 'leaf.key'), leafCert: join(dir, 'leaf.pem'), chain: join(dir, 'chain.pem'), trustedRoot };
}

/** An RFC 3161 timestamp authority on 127.0.0.1 (`openssl ts -reply` with the PKI's TSA key), for `cosign sign --timestamp-server-url`. */
export async function startTsa(pki: KeylessPki): Promise<{ url: string; stop(): Promise<void> }> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const id = ++n;
        const query = join(pki.dir, `q${id}.tsq`);
        const reply = join(pki.dir, `r${id}.tsr`);
        try {
          await writeFile(query, Buffer.concat(chunks));
          await run('openssl', ['ts', '-reply', '-config', join(pki.dir, 'tsa.cnf'), '-queryfile', query, '-out', reply]);
          res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(await readFile(reply));
        } catch {
          res.writeHead(400).end();
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
