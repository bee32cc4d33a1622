// A host name with at least one dot and a letter TLD: what Koala can make an Account of.
const HOST_NAME = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/

/** The first candidate (a string, or a list of them in order) that is a valid company domain. */
export function firstDomain(value: unknown): string | undefined {
  for (const candidate of Array.isArray(value) ? value : [value]) {
    const domain = normalizeDomain(candidate)
    if (domain !== undefined) return domain
  }
  return undefined
}

/** A company domain from a domain or a website URL: host only, lower case, no `www.`; undefined when not a host name. */
function normalizeDomain(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  let host = value.trim().toLowerCase()
  if (host === '') return undefined
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(host)) {
    try {
      host = new URL(host).hostname
    } catch {
      return undefined
    }
  } else {
    host = host.split(/[/?#]/, 1)[0].split(':', 1)[0]
  }
  host = host.replace(/^www\./, '').replace(/\.$/, '')
  return HOST_NAME.test(host) ? host : undefined
}
