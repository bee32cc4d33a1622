import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Checks Segment's `X-Signature`: hex HMAC-SHA1 with the shared secret over the raw
 * body; for an Actions batch (a JSON array) over `JSON.stringify(body[0])`, which is
 * what Segment signs. Any of the secrets may match (two during a rotation).
 * Compared in constant time.
 */
export function verifySignature(rawBody: Buffer, parsed: unknown, header: string | undefined, secrets: readonly string[]): boolean {
  if (header === undefined || !/^[0-9a-fA-F]{40}$/.test(header.trim())) return false
  const given = Buffer.from(header.trim().toLowerCase(), 'hex')
  const signed: Buffer = Array.isArray(parsed) ? Buffer.from(JSON.stringify(parsed[0]) ?? '') : rawBody
  let match = false
  for (const secret of secrets) {
    const expected = createHmac('sha1', secret).update(signed).digest()
    // No early exit: every secret is checked, so timing does not tell which one matched.
    if (timingSafeEqual(expected, given)) match = true
  }
  return match
}

/** The header Segment would send for this body (tests and benchmarks sign with it). */
export function signBody(body: string, secret: string): string {
  return createHmac('sha1', secret).update(body).digest('hex')
}
