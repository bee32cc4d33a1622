import { Analytics } from '@segment/analytics-node'
import { expect } from 'chai'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { KOALA_KEY, post, startHarness, trackEvent, WRITE_KEY, type Harness } from './service-harness'

const PROFILE = '3e6a2c18-3b02-40c4-b8d2-1842c193d3ba'

describe('Tracking API door', function () {
  this.timeout(30_000)
  let sim: RunningSimulator
  let service: Harness

  before(async () => {
    sim = await startSimulator({ port: 0 })
    service = await startHarness({ env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl, SEGMENT_WRITE_KEY: WRITE_KEY } })
  })
  after(async () => {
    await service.stop()
    await sim.close()
  })
  beforeEach(() => sim.clear())

  it('takes track, identify, page and group from an unmodified @segment/analytics-node and delivers them to Koala', async () => {
    const analytics = new Analytics({ writeKey: WRITE_KEY, host: service.url, flushAt: 20, flushInterval: 200, maxRetries: 0 })
    const errors: unknown[] = []
    analytics.on('error', (error) => errors.push(error))
    analytics.identify({ userId: 'u1', traits: { email: 'Ada@Example.com', profile_id: PROFILE, billing_plan: 'pro' } })
    analytics.track({ userId: 'u1', event: 'Signed Up', properties: { plan: 'team' }, context: { traits: { email: 'ada@example.com' } } })
    analytics.page({ userId: 'u1', name: 'Pricing', properties: { url: 'https://example.com/pricing', profile_id: PROFILE } })
    analytics.group({ userId: 'u1', groupId: 'acme-eng', traits: { name: 'Acme', website: 'https://www.acme.com' } })
    await analytics.closeAndFlush({ timeout: 10_000 })
    expect(errors).to.deep.equal([])

    const bodies = sim.requests().map((r) => ({ path: r.path.replace(`/web/projects/${KOALA_KEY}/`, ''), body: r.body as any }))
    const identify = bodies.find((b) => b.body.identifies !== undefined && b.path === 'batch')!
    expect(identify.body).to.deep.include({ email: 'ada@example.com', profile_id: PROFILE })
    expect(identify.body.identifies[0].traits).to.deep.include({ billing_plan: 'pro' })
    expect(identify.body.identifies[0].message_id).to.match(/^node-next-/)
    const track = bodies.find((b) => b.body.events !== undefined)!
    expect(track.body.email).to.equal('ada@example.com')
    expect(track.body.events[0]).to.deep.include({ type: 'track', event: 'Signed Up', properties: { plan: 'team' } })
    expect(track.body.events[0].context.library.name).to.equal('@segment/analytics-node')
    const page = bodies.find((b) => b.body.page_views !== undefined)!
    expect(page.body).to.deep.include({ profile_id: PROFILE })
    expect(page.body.page_views[0]).to.deep.include({ type: 'page', name: 'Pricing' })
    const group = bodies.find((b) => b.path === 'accounts/batch')!
    expect(group.body.domain).to.equal('acme.com')
    expect(group.body.identifies[0].traits).to.deep.include({ group_id: 'acme-eng', name: 'Acme' })
  })

  it('answers {"success":true} and takes the write key from Basic auth or the body', async () => {
    const basic = 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64')
    const viaHeader = await post(`${service.url}/v1/track`, trackEvent(1, { type: undefined }), { authorization: basic })
    expect(viaHeader.status).to.equal(200)
    expect(viaHeader.body).to.deep.include({ success: true, delivered: 1 })
    const viaBody = await post(`${service.url}/v1/batch`, { batch: [trackEvent(2)], writeKey: WRITE_KEY })
    expect(viaBody.body).to.deep.include({ success: true, delivered: 1 })
    expect(sim.requests()).to.have.length(2)
  })

  it('answers 401 for a missing or unknown write key, forwarding nothing', async () => {
    expect((await post(`${service.url}/v1/batch`, { batch: [trackEvent(3)] })).status).to.equal(401)
    const wrong = await post(`${service.url}/v1/batch`, { batch: [trackEvent(3)], writeKey: 'nope' })
    expect(wrong.status).to.equal(401)
    expect(wrong.body).to.deep.equal({ error: 'unknown write key', code: 'UNAUTHORIZED' })
    expect(sim.requests()).to.have.length(0)
  })

  it('closes the door for a workspace whose write key is not set (outside local mode)', async () => {
    const closed = await startHarness({ env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl } })
    try {
      expect((await post(`${closed.url}/v1/batch`, { batch: [trackEvent(4)], writeKey: 'anything' })).status).to.equal(401)
      expect(closed.said.join('\n')).to.contain('the Tracking API door is closed for this workspace')
    } finally {
      await closed.stop()
    }
  })

  it('refuses by index a batch event over 32 KB as sent, and delivers the rest', async () => {
    // The envelope's context is shared by every event: it is merged in, but does not count toward an event's size.
    const big = trackEvent(2, { properties: { pad: 'y'.repeat(33 * 1024) } })
    const envelope = { writeKey: WRITE_KEY, context: { pad: 'z'.repeat(20 * 1024) }, batch: [trackEvent(1), big, trackEvent(3)] }
    const answer = await post(`${service.url}/v1/batch`, envelope)
    expect(answer.status).to.equal(400)
    expect(answer.body.invalid).to.have.length(1)
    expect(answer.body.invalid[0]).to.include({ index: 1, messageId: 'msg-2' })
    expect(answer.body.invalid[0].detail).to.equal(`the event is ${Buffer.byteLength(JSON.stringify(big))} bytes, over the 32768-byte limit`)
    const sent = sim.requests().flatMap((r) => (r.body as any).events.map((e: any) => e.message_id))
    expect(sent.sort()).to.deep.equal(['msg-1', 'msg-3'])
  })

  it('answers 400 for a batch body without a batch array', async () => {
    const answer = await post(`${service.url}/v1/batch`, { writeKey: WRITE_KEY, events: [] })
    expect(answer.status).to.equal(400)
    expect(answer.body.error).to.contain('{"batch": [...events]}')
  })
})
