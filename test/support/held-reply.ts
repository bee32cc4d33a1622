/**
 * A nock reply that holds each request until the test releases it: a Koala that is slow for
 * exactly as long as a test needs, and says when a request has arrived (a state to await).
 */
export function heldReply(status = 200, body: unknown = { ok: true }) {
  let arrived = 0
  const waiting: Array<() => void> = []
  return {
    reply: async (): Promise<[number, unknown]> => {
      arrived++
      await new Promise<void>((resolve) => waiting.push(resolve))
      return [status, body]
    },
    /** Requests that reached this reply so far. */
    arrived: () => arrived,
    /** Answers every request held so far. */
    release: () => waiting.splice(0).forEach((resolve) => resolve())
  }
}
