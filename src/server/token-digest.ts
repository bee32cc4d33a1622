import { createHash } from 'node:crypto'

/** A bearer token as a workspace keeps it: its SHA-256, so every comparison is of equal length and constant time. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}
