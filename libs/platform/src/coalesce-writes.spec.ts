import { once } from 'node:events';
import { createServer, type Server, Socket } from 'node:net';
import { callsInOneTurn, countHandOvers } from '../../../test/support/socket-writes';
import { coalesceWritesPerTurn } from './coalesce-writes';

/**
 * A client socket connected to a loopback server that collects what it sends; `received()` ends
 * the socket and resolves with everything the server got, once it has it all.
 */
async function connected(): Promise<{ socket: Socket; received: () => Promise<string> }> {
  let data = '';
  let ended!: () => void;
  const done = new Promise<void>((r) => (ended = r));
  const server: Server = createServer((s) => {
    s.setEncoding('utf8');
    s.on('data', (d: string) => (data += d));
    s.on('end', () => ended());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = new Socket();
  socket.connect((server.address() as { port: number }).port, '127.0.0.1');
  await once(socket, 'connect');
  return {
    socket,
    received: async () => {
      socket.end();
      await done;
      server.close();
      return data;
    },
  };
}

/** `n` writes, each from its own callback of one turn (as a burst of completions makes them). */
const writeInOneTurn = (socket: Socket, n: number) => callsInOneTurn(n, (i) => socket.write(`cmd ${i};`));

describe('coalesceWritesPerTurn', () => {
  it('the writes of one turn leave in one hand-over, bytes and order unchanged; later turns too', async () => {
    const { socket, received } = await connected();
    coalesceWritesPerTurn(socket);
    coalesceWritesPerTurn(socket); // idempotent: still one cork per turn
    const n = countHandOvers(socket);
    await writeInOneTurn(socket, 20);
    await new Promise((r) => setImmediate(r));
    expect(n).toEqual({ writes: 1, chunks: 20 });
    await writeInOneTurn(socket, 5);
    await new Promise((r) => setImmediate(r));
    expect(n).toEqual({ writes: 2, chunks: 25 });
    expect(socket.writableCorked).toBe(0);
    const expected = [...Array.from({ length: 20 }, (_, i) => `cmd ${i};`), ...Array.from({ length: 5 }, (_, i) => `cmd ${i};`)].join('');
    expect(await received()).toBe(expected);
  });

  it('without it each of those writes is its own hand-over (what the change saves)', async () => {
    const { socket, received } = await connected();
    const n = countHandOvers(socket);
    await writeInOneTurn(socket, 20);
    expect(n.writes).toBeGreaterThanOrEqual(10);
    expect(await received()).toHaveLength(20 * 'cmd 0;'.length + 10);
  });

  it('a caller that corks and uncorks itself keeps working; end() flushes what the turn held (received() ends the socket in the same turn)', async () => {
    const { socket, received } = await connected();
    coalesceWritesPerTurn(socket);
    socket.write('a');
    socket.cork();
    socket.write('b');
    socket.uncork();
    socket.write('c');
    socket.write('d');
    expect(await received()).toBe('abcd');
  });
});
