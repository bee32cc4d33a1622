import { isIP } from 'node:net'
import { domainToASCII, domainToUnicode } from 'node:url'
import { parse as parseHost } from 'tldts'

/** Which candidate gave the company domain, and why each one before it (or every one) was refused. */
export type DomainSearch = {
  /** The registrable domain, in ASCII (punycode) form; undefined when no candidate gave one. */
  domain: string | undefined
  /** The index of the candidate that gave it, and the host that candidate named. */
  from: { index: number; host: string } | undefined
  /** One line per refused candidate, e.g. `[0] "Acme Inc" is not a host name`; never echoes an email or a URL's other parts. */
  refused: string[]
}

// Private PSL entries count: acme.github.io is a company's own site, github.io is no company's.
const PSL_OPTIONS = { allowPrivateDomains: true, extractHostname: false, detectIp: false } as const
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i
const PORT = /:\d*$/
// What a registrar takes (letters, digits, inner hyphens); DNS names below it may also hold `_`.
const REGISTRABLE_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
const HOST_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/
const ECHO_LIMIT = 64

/**
 * The company domain from a candidate (a domain, a host or a website URL) or a list of
 * them in order: the first one's registrable domain under the Public Suffix List, so
 * `https://app.eu.acme.com/login` gives `acme.com` and `shop.acme.co.uk` gives `acme.co.uk`.
 */
export function findCompanyDomain(value: unknown): DomainSearch {
  const candidates = Array.isArray(value) ? value : [value]
  const refused: string[] = []
  for (let index = 0; index < candidates.length; index++) {
    const judged = judgeCandidate(candidates[index])
    if (judged.domain !== undefined) return { domain: judged.domain, from: { index, host: judged.host }, refused }
    refused.push(`[${index}] ${judged.problem}`)
  }
  return { domain: undefined, from: undefined, refused }
}

type Judgement = { domain: string; host: string } | { domain?: undefined; problem: string }

function judgeCandidate(value: unknown): Judgement {
  if (typeof value !== 'string') return { problem: `is ${kindOf(value)}` }
  const text = value.trim()
  if (text === '') return { problem: 'is empty' }
  let host: string
  if (SCHEME.test(text)) {
    // Only the host is judged or echoed: a URL's user, path and query may hold secrets.
    let url: URL
    try {
      url = new URL(text)
    } catch {
      return { problem: 'is not a valid URL' }
    }
    host = url.hostname
    if (host === '') return { problem: 'is a URL without a host' }
  } else {
    if (text.includes('@')) return { problem: 'is an email address' }
    host = text.split(/[/?#]/, 1)[0].replace(PORT, '')
  }
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  if (isIP(bare) !== 0) return { problem: `${echo(host)} is an IP address` }
  const ascii = domainToASCII(host.endsWith('.') ? host.slice(0, -1) : host)
  // domainToASCII reads a name ending in a number as an IPv4 address ("123" → 0.0.0.123): no TLD is numeric.
  const labels = ascii.split('.')
  if (
    ascii === '' ||
    ascii.length > 253 ||
    !labels.every((label) => HOST_LABEL.test(label) && isSoundPunycode(label)) ||
    /^(?:\d+|0x[0-9a-f]*)$/.test(labels[labels.length - 1])
  ) {
    return { problem: `${echo(host)} is not a host name` }
  }
  const parsed = parseHost(ascii, PSL_OPTIONS)
  if (parsed.domain === null) return { problem: `${echo(host)} has no registrable domain` }
  if (!parsed.isIcann && !parsed.isPrivate) return { problem: `${echo(host)} is not under a public suffix` }
  if (!parsed.domain.split('.').every((label) => REGISTRABLE_LABEL.test(label))) return { problem: `${echo(host)} is not a host name` }
  return { domain: parsed.domain, host }
}

/**
 * An `xn--` label must decode, and encode back to itself. Node 20's domainToASCII refuses
 * bad punycode ("xn--zz" → ""), Node 24's passes it through unchanged: checked here, so
 * both read a name alike.
 */
function isSoundPunycode(label: string): boolean {
  if (!label.startsWith('xn--')) return true
  const unicode = domainToUnicode(label)
  return unicode !== '' && unicode !== label && domainToASCII(unicode) === label
}

function echo(text: string): string {
  return JSON.stringify(text.length > ECHO_LIMIT ? `${text.slice(0, ECHO_LIMIT)}…` : text)
}

function kindOf(value: unknown): string {
  if (value === undefined) return 'missing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
