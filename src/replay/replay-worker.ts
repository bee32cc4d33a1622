import { Writable } from 'node:stream'
import type { MessagePort } from 'node:worker_threads'
import { compileMapping } from '../mapping/compile-mapping'
import { FROM_THE_START, type CheckpointStore, type FileStart } from './checkpoint'
import type { DeadLetterWriter } from './dead-letter'
import { createDryRunSink } from './dry-run-sink'
import type { ArchiveFile } from './find-archive-files'
import type { startKoalaDelivery as StartKoalaDelivery } from './koala-delivery'
import { openArchiveFile } from './read-archive-lines'
import { ReplayCounters } from './replay-summary'
import { runReplay } from './run-replay'
import type { FromWorker, ToWorker, WorkerSetup } from './worker-messages'

/** Problem lines one worker posts; past them its problems are only counted (a broken archive must not flood the main thread). */
const MAX_REPORTED = 200
/**
 * The mark of this worker's output stream. Reading pauses later, at the dry-run sink's bound (about
 * 1 MB waiting for the main thread to write it), which only works while this mark is below it.
 */
const OUTPUT_BUFFER_BYTES = 256 * 1024
/** The dry-run sink writes about 64 KB at a time; room for a little more saves growing the buffers. */
const OUTPUT_CHUNK_BYTES = 80 * 1024

/**
 * One replay worker thread: the same pipeline as a single-threaded replay (runReplay)
 * over the files the main thread hands out one at a time, with the doors that would
 * touch shared state (checkpoint, dead-letter file, dry-run output, counters, problem
 * reports) relayed to the main thread as messages. The port keeps message order, so a
 * dead letter always reaches the main thread before the position that moves past it.
 */
export function serveReplayWorker(port: MessagePort, setup: WorkerSetup): void {
  const post = (message: FromWorker, transfer?: ArrayBuffer[]): void => port.postMessage(message, transfer)
  const counters = new ReplayCounters()
  const starts = new Map<string, FileStart>()
  const interrupt = new AbortController()
  const output = new OutputToMainThread(post)
  let nextFile: ((file: ArchiveFile | null) => void) | undefined
  let bytes = 0
  let reported = 0

  port.on('message', (message: ToWorker) => {
    if (message.type === 'file') {
      if (message.file !== null) starts.set(message.file.absolute, message.start)
      const resolve = nextFile!
      nextFile = undefined
      resolve(message.file)
    } else if (message.type === 'written') output.written(message.buffer)
    else {
      // runReplay's abort listener posts the positions first, synchronously; the port keeps that order.
      interrupt.abort()
      post({ type: 'interrupted', counters: { ...counters } })
    }
  })

  // A whole file at a time, asked for when the previous one is read: a slow file never idles the other threads.
  async function* files(): AsyncGenerator<ArchiveFile> {
    for (;;) {
      const file = await new Promise<ArchiveFile | null>((resolve) => {
        nextFile = resolve
        post({ type: 'next-file' })
      })
      if (file === null) return
      yield file
    }
  }

  // runReplay reports each file 'done' once; the main thread's checkpoint keeps it.
  const checkpoint: CheckpointStore | undefined = setup.checkpoint
    ? {
        startOf: (absolute) => starts.get(absolute) ?? FROM_THE_START,
        save: (positions) => post({ type: 'positions', positions: [...positions] })
      }
    : undefined
  const deadLetter: DeadLetterWriter = {
    write: (events, reason) => {
      if (events.length > 0) post({ type: 'dead-letter', events: [...events], reason })
    },
    close: () => {}
  }
  // Loaded only to send: a dry run's workers need not hold the Koala client and its sockets.
  const delivery =
    setup.delivery === undefined ? undefined : (require('./koala-delivery') as { startKoalaDelivery: typeof StartKoalaDelivery }).startKoalaDelivery(setup.delivery, counters)
  const sink = delivery?.sink ?? createDryRunSink(output.stream, { end: true })

  const reportProgress = (): void => {
    post({ type: 'progress', bytes, eventsRead: counters.eventsRead, eventsSettled: counters.eventsSettled })
    bytes = 0
  }
  const progressTimer = setInterval(reportProgress, setup.progressIntervalMs)
  progressTimer.unref()

  void runReplay({
    files: files(),
    open: openArchiveFile,
    mapping: compileMapping(setup.mapping),
    selection: setup.selection,
    sink,
    deadLetter,
    checkpoint,
    counters,
    limits: setup.limits,
    report: (line) => {
      if (++reported <= MAX_REPORTED) post({ type: 'report', line })
    },
    onBytes: (n) => (bytes += n),
    interrupt: interrupt.signal
  }).then((end) => {
    clearInterval(progressTimer)
    reportProgress()
    delivery?.close()
    post({ type: 'end', counters: { ...counters }, ...(end.stopped !== undefined ? { stopped: end.stopped } : {}) })
  })
  // A rejection is left unhandled on purpose: it ends the thread with an 'error' the main thread reports.
}

/**
 * A dry run's output stream inside a worker: each chunk (whole lines, as the dry-run
 * sink writes them) goes to the main thread, the one writer of the output, and counts
 * as written once it says so, which is the backpressure that pauses this worker's
 * reading. The bytes travel in a few buffers moved to the main thread and back, so
 * neither thread allocates per chunk nor holds written chunks until its next GC.
 */
class OutputToMainThread {
  private readonly free: Buffer[] = []
  private readonly waiting: Array<() => void> = []
  readonly stream: Writable

  constructor(post: (message: FromWorker, transfer?: ArrayBuffer[]) => void) {
    this.stream = new Writable({
      highWaterMark: OUTPUT_BUFFER_BYTES,
      decodeStrings: false,
      write: (chunk: string | Buffer, _encoding, done) => {
        const bytes = Buffer.byteLength(chunk)
        let buffer = this.free.pop()
        // Its own memory (never Node's shared pool), so it can be moved.
        if (buffer === undefined || buffer.length < bytes) buffer = Buffer.allocUnsafeSlow(Math.max(bytes, OUTPUT_CHUNK_BYTES))
        const length = typeof chunk === 'string' ? buffer.write(chunk) : chunk.copy(buffer)
        this.waiting.push(done)
        post({ type: 'output', bytes: buffer.subarray(0, length) }, [buffer.buffer as ArrayBuffer])
      }
    })
  }

  /** The main thread wrote the oldest chunk and gave back its memory. */
  written(memory: ArrayBuffer): void {
    this.free.push(Buffer.from(memory))
    this.waiting.shift()!()
  }
}
