// An SSH server on loopback for the build's warm-up poll (scripts/bundle.mjs), so that the poll runs
// fleetpoll's whole SSH path (key exchange, known_hosts check, key auth, exec, reading the probe) and
// the V8 code cache holds those functions compiled: without it every real poll compiled them again.
// It runs nothing: it accepts one generated client key, and every exec gets the same canned probe
// output once the client has sent its script. ssh2's own server, as ssh2 is already a dependency.
import ssh2 from 'ssh2';

// A valid protocol v1 document (shared/design.md) using each record type, so the parser warms up too.
const CANNED_PROBE = [
  'fleetpoll-probe\t1',
  'host\twarmup',
  'os\tlinux\t6.1.0\tDebian GNU/Linux 12 (bookworm)',
  'uptime\t86400',
  'load\t0.10\t0.20\t0.30',
  'mem\t8000000\t6000000\t4000000\t1000000\t1000000',
  'disk\t/\text4\t100000000\t40000000\t55000000',
  'cpu\t2\t12.5',
  'proc\t1\troot\t0.0\t9000\tinit',
  'proc\t100\twww-data\t50.0\t200000\tnginx: worker',
  'user\troot\t0.0\t9000\t1',
  'user\twww-data\t50.0\t200000\t1',
  'session\tadmin\tpts/0\t192.0.2.10',
  'tasks\t2\t100',
  'end',
  '',
].join('\n');

// ssh2's generator drops a leading zero byte from about one ed25519 key in 400, and that key does not
// parse; such a pair is drawn again.
function ed25519Pair() {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error) && !(ssh2.utils.parseKey(pair.public) instanceof Error)) return pair;
  }
  throw new Error('ssh2 generated no usable ed25519 key in 20 attempts');
}

/** Starts the server on 127.0.0.1 (a free port); resolves with what the warm-up inventory needs. */
export async function startWarmupSshd() {
  const hostKey = ed25519Pair();
  const clientKey = ed25519Pair();
  const allowed = ssh2.utils.parseKey(clientKey.public);
  const server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      const sameKey = ctx.method === 'publickey' && ctx.key.algo === allowed.type && ctx.key.data.equals(allowed.getPublicSSH());
      if (!sameKey) return ctx.reject(['publickey']);
      // Without a signature the client only asks whether the key would do; with one, it must verify.
      if (ctx.signature === undefined || allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
      return ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        acceptSession().once('exec', (acceptExec) => {
          const channel = acceptExec();
          channel.on('data', () => {});
          channel.on('end', () => {
            channel.write(CANNED_PROBE);
            channel.exit(0);
            channel.end();
          });
        });
      });
    });
  });
  await new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolveListen);
  });
  const { port } = server.address();
  return {
    port,
    clientPrivateKey: clientKey.private,
    knownHostsLine: `[127.0.0.1]:${port} ${hostKey.public.split(' ').slice(0, 2).join(' ')}`,
    close: () => new Promise((resolveClose) => server.close(() => resolveClose())),
  };
}
