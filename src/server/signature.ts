import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { tokenDigest } from './token-digest'

/** A key no workspace has: a random one per process. */
const UNMATCHABLE_SECRET = randomBytes(32)

/**
 * Checks Segment's `X-Signature`: hex HMAC-SHA1 with the shared secret over `signed`
 * (the raw body; for an Actions batch, `JSON.stringify(body[0])`, which is what
 * Segment signs). Any of the secrets may match (two during a rotation). Compared in
 * constant time.
 */
export function verifySignature(signed: Uint8Array, header: string | undefined, secrets: readonly string[]): boolean {
  if (header === undefined || !/^[0-9a-fA-F]{40}$/.test(header.trim())) return false
  const given = Buffer.from(header.trim().toLowerCase(), 'hex')
  let match = false
  // A workspace without a secret (or an unknown one) hashes the body all the same: how long the
  // answer takes must not tell a stranger which workspace names exist.
  if (secrets.length === 0) timingSafeEqual(createHmac('sha1', UNMATCHABLE_SECRET).update(signed).digest(), given)
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

/**
 * Whether `Authorization: Bearer <token>` carries one of the tokens (given as
 * `tokenDigest`s; two during a rotation). Compared in constant time, every token checked.
 */
export function verifyBearer(token: string, digests: readonly Buffer[]): boolean {
  const given = tokenDigest(token)
  let match = false
  for (const digest of digests) if (timingSafeEqual(digest, given)) match = true
  return match
}

/** The token of an `Authorization: Bearer …` header; undefined for no header or another scheme. */
export function bearerOf(authorization: string | undefined): string | undefined {
  const match = authorization === undefined ? null : /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)
  return match === null ? undefined : match[1]
}
