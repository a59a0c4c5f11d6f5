import type { Socket } from 'node:net';

const coalesced = new WeakSet<Socket>();

function uncorkOurs(socket: Socket): void {
  // One cork is ours; a caller's own cork/uncork pairs balance themselves.
  if (socket.writableCorked > 0) socket.uncork();
}

/**
 * Lets the writes a process makes to `socket` in one turn of the event loop leave together: the
 * first write of a turn corks the socket and the end of the turn (`setImmediate`) uncorks it, so
 * they go out as one `writev` (and, over TLS, one record) instead of one syscall each.
 * docs/architecture.md §3.6.
 *
 * Meant for a client that writes many small commands at once on one connection: ioredis writes
 * each command on its own, and BullMQ's workers finish (and the composer queues) a group of jobs
 * in the same turn. The bytes and their order are unchanged, so unlike command auto-pipelining
 * nothing about the protocol changes; a write waits at most for the rest of its turn. Calling it
 * again for the same socket does nothing.
 */
export function coalesceWritesPerTurn(socket: Socket): void {
  if (coalesced.has(socket)) return;
  coalesced.add(socket);
  const write = socket.write;
  socket.write = function (this: Socket, ...args: unknown[]): boolean {
    if (this.writableCorked === 0 && !this.destroyed) {
      this.cork();
      setImmediate(uncorkOurs, this);
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as Socket['write'];
}
