import { topLevelString } from './json-extent'

/** Longer "writeKey" values are not looked up: Segment's are 32 characters. */
const MAX_WRITE_KEY_BYTES = 1024

/** The Tracking API write key of Basic auth `<writeKey>:`, read before the body. */
export function writeKeyOfHeader(authorization: string | undefined): string | undefined {
  if (authorization !== undefined && /^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
    const user = decoded.split(':', 1)[0]
    if (user !== '') return user
  }
  return undefined
}

/** The top-level `writeKey` of a body (analytics-node 2.x sends only that), found without parsing the body. */
export function writeKeyOfBody(raw: Uint8Array): string | undefined {
  const key = topLevelString(raw, 'writeKey', MAX_WRITE_KEY_BYTES + 2)
  return key === '' ? undefined : key
}
