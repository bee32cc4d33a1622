import { AdapterError } from '../errors'

export type DoorName = 'webhook' | 'tracking'
export type DoorRoute = { door: DoorName; param: string }

/** `/webhook/:workspace` and `/v1/:call` as express matched them: any case, one trailing slash, a query string. */
const DOOR_PATH = /^\/(webhook|v1)\/([^/?#]+)\/?(?:[?#]|$)/i

/** The scheme and authority of an absolute-form target (`POST http://host/webhook/x`, RFC 9112 3.2.2), which a proxy may send. */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i

/**
 * The door a POST's URL names, with its parameter URL-decoded; undefined for any other
 * path. Throws INPUT_INVALID for a parameter that is not valid URL encoding, without
 * quoting it (a mistyped key may stand where a workspace name goes).
 */
export function doorRoute(url: string): DoorRoute | undefined {
  const match = DOOR_PATH.exec(url.startsWith('/') ? url : url.replace(ABSOLUTE_FORM, ''))
  if (match === null) return undefined
  const door: DoorName = match[1].length === 7 ? 'webhook' : 'tracking'
  const raw = match[2]
  if (!raw.includes('%')) return { door, param: raw }
  try {
    return { door, param: decodeURIComponent(raw) }
  } catch {
    throw new AdapterError('INPUT_INVALID', 'the path is not valid URL encoding')
  }
}
