/**
 * Writes `examples/segment-logs/`: a small archive in the layout Segment's S3
 * destination writes (`segment-logs/<source-id>/<received-day-ms>/<file>.gz`), so the
 * README can show a replay that runs on a fresh checkout. Two days, one file each;
 * the second file holds two gzip members, as files appended to by uploaders do.
 *
 *   node -r ts-node/register examples/make-sample-archive.ts
 *
 * The output is byte-for-byte the same on every run (fixed events, gzip without a
 * timestamp), so the committed files only change when this script does.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'

const SOURCE_ID = 'Vh3bYQcAjH'
const ROOT = path.join(__dirname, 'segment-logs')
const DAY_MS = 24 * 60 * 60 * 1000

const PEOPLE = [
  { userId: 'u-ada', email: 'ada@example.com', profileId: '3e6a2c18-3b02-40c4-b8d2-1842c193d3ba' },
  { userId: 'u-grace', email: 'grace@example.com' },
  { userId: 'u-alan', email: 'alan@example.org' }
]
const TRACKS = ['Signed Up', 'Created Project', 'Invited Teammate', 'Viewed Docs', 'Upgraded Plan']

/** One day of calls: identify, page views and track calls per person, a Group call, and two events dropped by design. */
function dayOfEvents(dayMs: number, day: number): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = []
  let n = 0
  const at = () => new Date(dayMs + 9 * 3600_000 + n * 61_000).toISOString()
  const base = (type: string, person: (typeof PEOPLE)[number]) => {
    n++
    const time = at()
    return {
      type,
      messageId: `sample-d${day}-${String(n).padStart(3, '0')}`,
      userId: person.userId,
      anonymousId: `anon-${person.userId}`,
      channel: 'server',
      timestamp: time,
      originalTimestamp: time,
      sentAt: time,
      receivedAt: time,
      projectId: SOURCE_ID,
      version: 2,
      integrations: {},
      context: { library: { name: 'analytics-node', version: '3.1.0' }, traits: { email: person.email } }
    }
  }
  for (const person of PEOPLE) {
    events.push({ ...base('identify', person), traits: { email: person.email, plan: day === 1 ? 'team' : 'enterprise' } })
    events.push({ ...base('page', person), name: 'Docs', properties: { url: 'https://example.com/docs', path: '/docs', title: 'Docs' } })
    for (const event of TRACKS) {
      events.push({ ...base('track', person), event, properties: { plan: 'team', ...(person.profileId ? { profile_id: person.profileId } : {}) } })
    }
  }
  events.push({ ...base('group', PEOPLE[0]), groupId: 'grp-acme', traits: { name: 'Acme', website: 'https://www.acme.com' } })
  // Dropped by design: a browser event the Koala pixel already saw, and a call with no email or profile_id.
  const browser = base('track', PEOPLE[1])
  events.push({ ...browser, event: 'Clicked Button', context: { library: { name: 'analytics.js', version: '4.1.0' } } })
  const anonymous = base('track', PEOPLE[2])
  events.push({ ...anonymous, event: 'Viewed Pricing', userId: undefined, context: { library: { name: 'analytics-node', version: '3.1.0' } } })
  return events
}

function ndjson(events: Record<string, unknown>[]): string {
  return events.map((event) => JSON.stringify(event)).join('\n') + '\n'
}

function main(): void {
  rmSync(ROOT, { recursive: true, force: true })
  const first = Date.UTC(2026, 10, 1)
  for (const day of [1, 2]) {
    const dayMs = first + (day - 1) * DAY_MS
    const dir = path.join(ROOT, SOURCE_ID, String(dayMs))
    mkdirSync(dir, { recursive: true })
    const events = dayOfEvents(dayMs, day)
    const file = path.join(dir, `${dayMs + 9 * 3600_000}.sample-${day}.gz`)
    if (day === 1) writeFileSync(file, gzipSync(ndjson(events)))
    else {
      const half = Math.ceil(events.length / 2)
      writeFileSync(file, Buffer.concat([gzipSync(ndjson(events.slice(0, half))), gzipSync(ndjson(events.slice(half)))]))
    }
    console.log(`${path.relative(process.cwd(), file)}: ${events.length} events${day === 2 ? ' in two gzip members' : ''}`)
  }
}

main()
