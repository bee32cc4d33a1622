import { randomUUID } from 'node:crypto'
import { seededRandom } from '../test/support/seeded-random'

const EVENTS = ['Signed Up', 'Viewed Docs', 'Invited Teammate', 'Created Project', 'Upgraded Plan']

/** Track calls shaped like @segment/analytics-node's, ~1 KB each, for `people` distinct people. */
export function trackEvents(count: number, people = 500, seed = 42): Record<string, unknown>[] {
  const random = seededRandom(seed)
  const profileIds = Array.from({ length: people }, () => randomUUID())
  return Array.from({ length: count }, (_, i) => {
    const person = Math.floor(random() * people)
    const time = new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString()
    return {
      type: 'track',
      event: EVENTS[i % EVENTS.length],
      messageId: `node-next-${Date.UTC(2026, 10, 1) + i}-${i.toString(16).padStart(8, '0')}`,
      userId: `user-${person}`,
      anonymousId: `anon-${person}`,
      timestamp: time,
      originalTimestamp: time,
      receivedAt: time,
      sentAt: time,
      channel: 'server',
      version: 2,
      properties: {
        plan: ['free', 'team', 'enterprise'][person % 3],
        seats: 1 + (person % 40),
        source: 'app',
        revenue: Math.round(random() * 10000) / 100,
        profile_id: person % 4 === 0 ? profileIds[person] : undefined,
        feature_flags: ['a', 'b'],
        page: { path: '/settings', title: 'Settings' }
      },
      context: {
        library: { name: '@segment/analytics-node', version: '3.1.0' },
        ip: `10.0.${person % 255}.${i % 255}`,
        userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15',
        traits: { email: `Person.${person}@Example.com`, name: `Person ${person}` }
      },
      integrations: {}
    }
  })
}
