import { expect } from 'chai'
import pino from 'pino'
import type { DeliveryResult, KoalaClient } from '../../src/koala/koala-client'
import type { OutboundRequest } from '../../src/koala/request-schema'
import { loadMappingFile } from '../../src/mapping/load-mapping'
import type { Workspace } from '../../src/workspace/resolve-workspace'
import { DeliveredMemory } from '../../src/server/delivered-memory'
import { deliverEvents } from '../../src/server/deliver-events'
import { createMetrics } from '../../src/server/metrics'
import { WorkspaceHealth } from '../../src/server/workspace-health'
import { BUILTIN_DEFAULT, trackEvent } from './service-harness'

/**
 * Koala at 250 ms behind a 3.5 s budget and 32 requests at once: 14 rounds of 32, so 448
 * requests of one door request are answered and the rest run out of time. Modelled, not
 * timed, so the count of resends does not depend on this machine's speed.
 */
const FIT_PER_ATTEMPT = 448

function budgetedKoala(): KoalaClient & { sentPerAttempt: Map<number, string[]> } {
  const sentPerAttempt = new Map<number, string[]>()
  return {
    sentPerAttempt,
    async send(request: OutboundRequest, _target, options = {}): Promise<DeliveryResult> {
      const attempt = options.deadline as number
      const sent = sentPerAttempt.get(attempt) ?? []
      sentPerAttempt.set(attempt, sent)
      if (sent.length >= FIT_PER_ATTEMPT) return { ok: false, kind: 'unavailable', attempts: 0, message: 'Koala batch: the deadline passed before the first attempt' }
      sent.push(...(request.body as any).events.map((event: any) => event.message_id))
      return { ok: true, status: 200, attempts: 1 }
    },
    close() {}
  }
}

describe('delivering a door request', () => {
  const { workspace: name, compiled } = loadMappingFile(BUILTIN_DEFAULT)
  const workspace: Workspace = {
    name, file: BUILTIN_DEFAULT, compiled, koala: { baseUrl: 'http://koala.test', publicApiKey: 'k' },
    secrets: { sharedSecrets: [], tokens: [], writeKeys: [] }
  }
  const events = Array.from({ length: 2000 }, (_, i) => ({ value: trackEvent(i, { context: { traits: { email: `person${i}@example.com` } } }) }))

  it('makes progress on every resend of a batch too big for one budget, sending only what is left', async () => {
    const client = budgetedKoala()
    const delivered = new DeliveredMemory(100_000)
    const deps = { client, metrics: createMetrics(), logger: pino({ level: 'silent' }), policy: { concurrency: 32, budgetMs: 3_500, maxRetries: 5 }, delivered, health: new WorkspaceHealth() }
    const answers = []
    for (let attempt = 1; attempt <= 10; attempt++) {
      const answer = await deliverEvents(events, workspace, 'webhook', attempt, deps)
      answers.push({ status: answer.status, delivered: answer.body.delivered, requests: answer.body.requests })
      if (answer.status === 200) break
    }
    expect(answers).to.deep.equal([
      { status: 503, delivered: 448, requests: 2000 },
      { status: 503, delivered: 896, requests: 1552 },
      { status: 503, delivered: 1344, requests: 1104 },
      { status: 503, delivered: 1792, requests: 656 },
      { status: 200, delivered: 2000, requests: 208 }
    ])
    const all = [...client.sentPerAttempt.values()].flat()
    expect(all).to.have.length(2000)
    expect(new Set(all).size).to.equal(2000)
    // Answered for good: nothing of it is held any longer.
    expect(delivered.size).to.equal(0)
  })

  it('without the memory (DELIVERED_MEMORY_IDS=0) every resend starts over', async () => {
    const client = budgetedKoala()
    const deps = { client, metrics: createMetrics(), logger: pino({ level: 'silent' }), policy: { concurrency: 32, budgetMs: 3_500, maxRetries: 5 }, delivered: new DeliveredMemory(0), health: new WorkspaceHealth() }
    for (let attempt = 1; attempt <= 3; attempt++) {
      const answer = await deliverEvents(events, workspace, 'webhook', attempt, deps)
      expect(answer.body.delivered).to.equal(448)
    }
  })
})
