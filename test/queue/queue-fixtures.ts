import { renderEntry } from '../../src/koala/rendered-request'
import type { QueueEntryInput } from '../../src/queue/queue-store'

/** A person's track event, rendered as a door renders it; `n` names it (event `e<n>`, message_id `m<n>`). */
export function trackOf(email: string, n: number): QueueEntryInput {
  const rendered = renderEntry({ endpoint: 'batch', person: { email }, bodyFields: { traits: { plan: 'pro' } }, kind: 'events', entry: { type: 'track', event: `e${n}`, message_id: `m${n}` } })
  return { ...rendered, messageId: `m${n}` }
}

/** A person's identify, rendered. */
export function identifyOf(email: string): QueueEntryInput {
  return renderEntry({ endpoint: 'batch', person: { email }, kind: 'identifies', entry: { type: 'identify', traits: { email } } })
}

/** An account's identify (an /accounts/batch entry), rendered. */
export function accountOf(domain: string): QueueEntryInput {
  return renderEntry({ endpoint: 'accounts/batch', account: { domain }, kind: 'identifies', entry: { type: 'identify', traits: { headcount: 5 } } })
}

/** The event names of entries (`e<n>`), to compare orders at a glance. */
export function eventNames(entries: ReadonlyArray<{ text: string }>): string[] {
  return entries.map((entry) => (JSON.parse(entry.text) as { event?: string; type: string }).event ?? (JSON.parse(entry.text) as { type: string }).type)
}

/** A settable clock for a store's `now` option. */
export function settableClock(start: number): { now: () => number; set(at: number): void; advance(ms: number): void } {
  let time = start
  return { now: () => time, set: (at) => (time = at), advance: (ms) => (time += ms) }
}
