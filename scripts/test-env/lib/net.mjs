// Small network helpers for the test-env shell scripts (node built-ins only).
//
//   node net.mjs free-ports N
//       prints N distinct free TCP ports on 127.0.0.1, space separated
//   node net.mjs wait --name NAME --pid PID --timeout SECONDS (--tcp HOST:PORT | --http URL)
//       waits until the TCP port accepts a connection, or the URL answers 200;
//       fails early when PID exits. Exit 0 ready, 1 died, 2 timed out.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

const [cmd, ...rest] = process.argv.slice(2);

function freePorts(n) {
  // Hold every listener open until all are bound so the ports are distinct.
  const servers = [];
  const ports = [];
  const next = () => {
    if (servers.length === n) {
      for (const s of servers) s.close();
      process.stdout.write(ports.join(' ') + '\n');
      return;
    }
    const s = net.createServer();
    s.unref();
    s.once('error', (err) => {
      console.error(`free-ports: ${err.message}`);
      process.exit(1);
    });
    s.listen(0, '127.0.0.1', () => {
      servers.push(s);
      ports.push(s.address().port);
      next();
    });
  };
  next();
}

function parseArgs(args) {
  const out = {};
  for (let i = 0; i < args.length; i += 2) {
    if (!args[i].startsWith('--')) throw new Error(`unexpected argument ${args[i]}`);
    out[args[i].slice(2)] = args[i + 1];
  }
  return out;
}

function alive(pid) {
  try {
    // A zombie still answers kill(pid, 0); its state letter tells the truth.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function probeTcp(target) {
  const i = target.lastIndexOf(':');
  const host = target.slice(0, i);
  const port = Number(target.slice(i + 1));
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    sock.setTimeout(2000);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('timeout', () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', () => resolve(false));
  });
}

function probeHttp(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => resolve(false));
  });
}

async function wait(opts) {
  const timeoutMs = Number(opts.timeout ?? 60) * 1000;
  const pid = opts.pid ? Number(opts.pid) : undefined;
  const probe = opts.tcp ? () => probeTcp(opts.tcp) : () => probeHttp(opts.http);
  const what = opts.tcp ?? opts.http;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return 0;
    if (pid !== undefined && !alive(pid)) {
      console.error(`${opts.name}: process ${pid} exited before ${what} answered`);
      return 1;
    }
    if (Date.now() > deadline) {
      console.error(`${opts.name}: ${what} did not answer within ${timeoutMs / 1000} s`);
      return 2;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

if (cmd === 'free-ports') {
  freePorts(Number(rest[0] ?? 1));
} else if (cmd === 'wait') {
  process.exitCode = await wait(parseArgs(rest));
} else {
  console.error('usage: net.mjs free-ports N | wait --name N --pid P --timeout S (--tcp H:P | --http URL)');
  process.exit(64);
}
