// Starting and stopping the processes a browser test needs, all on 127.0.0.1.

import { spawn } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const OUTPUT_LIMIT = 256 * 1024;

/** A TCP port that was free a moment ago (the OS picks it; the caller binds it soon after). */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Spawns a long-running process and keeps the tail of its output for diagnostics.
 * Returns { name, output(), exited(), stop() }.
 */
export function startProcess(name, command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-OUTPUT_LIMIT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exit = null;
  const exited = new Promise((resolve) => {
    child.once('error', (err) => {
      exit = { code: null, signal: null, error: err };
      resolve(exit);
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });

  return {
    name,
    output: () => output,
    exited: () => exit,
    /** SIGTERM, then SIGKILL if it has not gone after `graceMs`. Resolves to the exit status. */
    async stop(graceMs = 5000) {
      if (exit) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const status = await exited;
      clearTimeout(timer);
      return status;
    },
  };
}

/** Polls `check` until it returns a truthy value; fails with `what` and the process output. */
export async function waitFor(what, check, { timeoutMs = 20000, intervalMs = 100, process } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError = null;
  for (;;) {
    if (process && process.exited()) {
      throw new Error(`${process.name} exited (${JSON.stringify(process.exited())}) while waiting for ${what}\n${process.output()}`);
    }
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const output = process ? `\n--- ${process.name} output ---\n${process.output()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (${lastError.message})` : ''}${output}`);
    }
    await sleep(intervalMs);
  }
}

/** True once something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
