/** The Tracking API write key: Basic auth `<writeKey>:` first, else `writeKey` in the body. */
export function writeKeyOf(authorization: string | undefined, body: unknown): string | undefined {
  if (authorization !== undefined && /^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
    const user = decoded.split(':', 1)[0]
    if (user !== '') return user
  }
  const fromBody = typeof body === 'object' && body !== null ? (body as { writeKey?: unknown }).writeKey : undefined
  return typeof fromBody === 'string' && fromBody !== '' ? fromBody : undefined
}
