import { expect } from 'chai'
import { loadMappingFile } from '../../src/mapping/load-mapping'
import { countDrop, droppedTotal, type DropTally } from '../../src/pipeline/drop-tally'
import { mapEvents } from '../../src/pipeline/map-events'
import { BUILTIN_DEFAULT, trackEvent } from '../server/service-harness'

describe('pipeline: mapping a list of events', () => {
  const { compiled } = loadMappingFile(BUILTIN_DEFAULT)

  it('maps each event in order and tallies every drop once, refused events as invalid_event with their reason', () => {
    const events = [
      { value: trackEvent(1, { context: { traits: { email: 'ada@example.com' } } }) },
      { value: trackEvent(2, { context: { traits: {} }, properties: {} }) },
      { value: trackEvent(3, { context: { traits: { email: 'bob@example.com' } } }), refused: 'the event is 40000 bytes, over the 32768-byte limit' },
      { value: { type: 'teleport', messageId: 'm-4' } },
      { value: trackEvent(5, { context: { traits: { email: 'cyd@example.com' } } }) }
    ]
    const mapped = mapEvents(events, compiled)
    expect(mapped.results.map((result) => result.outcome)).to.deep.equal(['send', 'drop', 'drop', 'drop', 'send'])
    expect(mapped.toSend).to.equal(2)
    expect(mapped.drops.map(({ index, reason }) => [index, reason])).to.deep.equal([
      [1, 'no_identity'],
      [2, 'invalid_event'],
      [3, 'unsupported_type']
    ])
    expect(mapped.drops[1]).to.deep.include({ messageId: events[2].value.messageId, detail: 'the event is 40000 bytes, over the 32768-byte limit' })
    expect(mapped.tally).to.deep.equal({ no_identity: 1, invalid_event: 1, unsupported_type: 1 })
    expect(droppedTotal(mapped.tally)).to.equal(3)
  })

  it('counts tallies reason by reason', () => {
    const run: DropTally = {}
    countDrop(run, 'no_identity')
    countDrop(run, 'no_identity')
    countDrop(run, 'analytics_js', 4)
    expect(run).to.deep.equal({ no_identity: 2, analytics_js: 4 })
    expect(droppedTotal(run)).to.equal(6)
    expect(droppedTotal({})).to.equal(0)
  })
})
