import net from 'node:net'

/** One answer read off a connection: its status, head and body; or `reset` when the server closed it first. */
export type RawAnswer = { status: number; head: string; body: string; connection?: string } | { reset: true }

/**
 * One keep-alive connection driven by hand (no client pool, no interceptor in the way):
 * what is written goes out as it is, and answers are read back one at a time.
 */
export class KeepAliveConnection {
  private buffered = ''
  private waiting: (() => void) | undefined
  private closed = false
  private readonly socket: net.Socket

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1')
    this.socket.setEncoding('utf8')
    this.socket.on('data', (chunk: string) => {
      this.buffered += chunk
      this.waiting?.()
    })
    this.socket.on('close', () => {
      this.closed = true
      this.waiting?.()
    })
    this.socket.on('error', () => undefined)
  }

  /** Writes raw bytes: a head without its body, a body in parts, requests back to back. */
  write(text: string): void {
    this.socket.write(text)
  }

  /** POSTs a JSON body and reads its answer. */
  async post(path: string, body: unknown): Promise<RawAnswer> {
    const text = JSON.stringify(body)
    this.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`)
    return this.answer()
  }

  /** The next whole answer (framed by its Content-Length), or `reset` once the server closed the connection. */
  async answer(): Promise<RawAnswer> {
    for (;;) {
      const headEnd = this.buffered.indexOf('\r\n\r\n')
      if (headEnd >= 0) {
        const head = this.buffered.slice(0, headEnd)
        const length = Number(/^content-length: *(\d+)/im.exec(head)?.[1] ?? 0)
        if (this.buffered.length >= headEnd + 4 + length) {
          const body = this.buffered.slice(headEnd + 4, headEnd + 4 + length)
          this.buffered = this.buffered.slice(headEnd + 4 + length)
          return { status: Number(head.split(' ')[1]), head, body, connection: /^connection: *(.+)$/im.exec(head)?.[1].trim() }
        }
      }
      if (this.closed) return { reset: true }
      await new Promise<void>((resolve) => (this.waiting = resolve))
    }
  }

  /** Ends our side of the connection (a client that stops sending). */
  end(): void {
    this.socket.end()
  }

  /** Resolves once the server has closed the connection. */
  async closedByServer(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => (this.waiting = resolve))
  }

  destroy(): void {
    this.socket.destroy()
  }
}
