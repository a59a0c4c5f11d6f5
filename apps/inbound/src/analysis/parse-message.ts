import { Worker } from 'node:worker_threads';
import { stripNulDeep } from '@mz/contracts';
import type { ParsedMessage } from './parsed-message';
import { PARSE_WORKER_SOURCE } from './parse-worker.source';

export type { ParsedMessage } from './parsed-message';

export type MessageParseErrorCode = 'too_large' | 'too_many_parts' | 'too_deep' | 'timeout' | 'malformed';

/** A message we refuse or fail to parse. Recorded on the inbound row; never retried as-is. */
export class MessageParseError extends Error {
  override readonly name = 'MessageParseError';

  constructor(
    readonly code: MessageParseErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface MessageParserOptions {
  /** Raw size cap, checked before any parsing. Default 10 MB (the SMTP server's cap). */
  maxBytes?: number;
  /** MIME parts (every node, multipart containers included). Default 200. */
  maxParts?: number;
  /** Nesting depth below the root. Default 20. */
  maxDepth?: number;
  /** Per message, from hand-off to the worker. Default 10 s. */
  timeoutMs?: number;
  /** Worker threads, 1–4. Default 1: the box has two cores and parsing is rare. */
  poolSize?: number;
  /** Heap cap per worker so a hostile message cannot exhaust the process. Default 256 MB. */
  maxWorkerHeapMb?: number;
}

interface Task {
  raw: Uint8Array;
  resolve: (m: ParsedMessage) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  task: { id: number; task: Task; timer: NodeJS.Timeout } | null;
}

type WorkerReply =
  | { type: 'ready' }
  | { id: number; ok: true; message: ParsedMessage }
  | { id: number; ok: false; code: MessageParseErrorCode; error: string };

const CODES: readonly MessageParseErrorCode[] = ['too_large', 'too_many_parts', 'too_deep', 'timeout', 'malformed'];

/**
 * Parses raw MIME with mailparser in a small pool of worker threads, so a pathological message
 * (a 2 MB format=flowed body, a header with 100k addresses, deep nesting) costs a worker, never
 * the event loop that serves the queue and the receivers. A worker that times out or dies is
 * terminated and replaced; the message's promise rejects with a {@link MessageParseError}.
 */
export class MessageParser {
  private readonly maxBytes: number;
  private readonly limits: { maxParts: number; maxDepth: number };
  private readonly timeoutMs: number;
  private readonly poolSize: number;
  private readonly maxWorkerHeapMb: number;
  private readonly mailparserPath: string;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(opts: MessageParserOptions = {}) {
    this.maxBytes = positive(opts.maxBytes, 10 * 1024 * 1024);
    this.limits = { maxParts: positive(opts.maxParts, 200), maxDepth: positive(opts.maxDepth, 20) };
    this.timeoutMs = positive(opts.timeoutMs, 10_000);
    this.poolSize = Math.min(4, positive(opts.poolSize, 1));
    this.maxWorkerHeapMb = positive(opts.maxWorkerHeapMb, 256);
    // Resolved here, where module resolution knows our node_modules, and handed to the worker.
    this.mailparserPath = require.resolve('mailparser');
  }

  parse(raw: Buffer): Promise<ParsedMessage> {
    if (this.closed) return Promise.reject(new Error('MessageParser is closed'));
    if (!Buffer.isBuffer(raw)) return Promise.reject(new MessageParseError('malformed', 'raw message must be a Buffer'));
    if (raw.length > this.maxBytes) {
      return Promise.reject(new MessageParseError('too_large', `message is ${raw.length} bytes, limit ${this.maxBytes}`));
    }
    return new Promise<ParsedMessage>((resolve, reject) => {
      // A private copy: the caller's Buffer may be a slice of a shared pool, and this one is
      // transferred (not cloned) to the worker.
      this.queue.push({ raw: new Uint8Array(raw), resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error('MessageParser is closed'));
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      if (slot.task) {
        clearTimeout(slot.task.timer);
        slot.task.task.reject(new Error('MessageParser is closed'));
        slot.task = null;
      }
    }
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => undefined)));
  }

  private pump(): void {
    while (!this.closed && this.queue.length) {
      const idle = this.slots.find((s) => s.ready && !s.task);
      if (!idle) {
        if (this.slots.length < this.poolSize) this.spawn();
        return;
      }
      this.dispatch(idle, this.queue.shift() as Task);
    }
  }

  private dispatch(slot: Slot, task: Task): void {
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.retire(slot, new MessageParseError('timeout', `parse took longer than ${this.timeoutMs} ms`));
    }, this.timeoutMs);
    slot.task = { id, task, timer };
    slot.worker.ref();
    slot.worker.postMessage({ id, raw: task.raw, limits: this.limits }, [task.raw.buffer as ArrayBuffer]);
  }

  private spawn(): void {
    const worker = new Worker(PARSE_WORKER_SOURCE, {
      eval: true,
      workerData: { mailparserPath: this.mailparserPath },
      resourceLimits: { maxOldGenerationSizeMb: this.maxWorkerHeapMb },
      stdout: false,
      stderr: false,
    });
    const slot: Slot = { worker, ready: false, task: null };
    this.slots.push(slot);
    // An idle worker must not keep the process alive (a forgotten close() would hang shutdown).
    worker.unref();

    worker.on('message', (msg: WorkerReply) => {
      if ('type' in msg) {
        slot.ready = true;
        this.pump();
        return;
      }
      const current = slot.task;
      if (!current || current.id !== msg.id) return; // late answer for a task already timed out
      clearTimeout(current.timer);
      slot.task = null;
      worker.unref();
      // Mail text enters the data layer here: every field without NUL (Postgres text cannot hold it;
      // a careless client's "Done\0" is still a reply that says done).
      if (msg.ok) current.task.resolve(stripNulDeep(msg.message));
      else current.task.reject(new MessageParseError(CODES.includes(msg.code) ? msg.code : 'malformed', msg.error));
      this.pump();
    });
    worker.on('error', (err: Error & { code?: string }) => {
      const code: MessageParseErrorCode = err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'too_large' : 'malformed';
      this.retire(slot, new MessageParseError(code, `parser worker failed: ${err.message}`), !slot.ready ? err : undefined);
    });
    worker.on('exit', (code) => {
      if (!this.slots.includes(slot)) return; // retired on purpose
      const exited = new MessageParseError('malformed', `parser worker exited with code ${code}`);
      // Dying before it was ready would repeat on every respawn: fail the queue instead of looping.
      this.retire(slot, exited, slot.ready ? undefined : exited);
    });
  }

  /** Drops a worker (terminating it), fails its task, and lets the pool refill on demand. */
  private retire(slot: Slot, error: MessageParseError, bootFailure?: Error): void {
    const at = this.slots.indexOf(slot);
    if (at < 0) return;
    this.slots.splice(at, 1);
    if (slot.task) {
      clearTimeout(slot.task.timer);
      slot.task.task.reject(error);
      slot.task = null;
    }
    void slot.worker.terminate().catch(() => undefined);
    if (bootFailure) {
      // A worker that cannot even start (mailparser missing) would fail every retry the same way.
      for (const task of this.queue.splice(0)) {
        task.reject(new MessageParseError('malformed', `parser worker failed to start: ${bootFailure.message}`));
      }
      return;
    }
    this.pump();
  }
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}
