import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { reservePort } from './serve.js';

describe('the port reservation of sluice serve', () => {
  it('given a client connected while the port is held (the demo being written), when released, then the port is free for the server', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const reservation = await reservePort('127.0.0.1', port);
    const client = connect(port, '127.0.0.1').on('error', () => undefined);
    await new Promise((resolve) => client.once('connect', resolve));
    await reservation.release();
    client.destroy();

    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    expect((server.address() as AddressInfo).port).toBe(port);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
