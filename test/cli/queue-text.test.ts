import { expect } from 'chai'
import { bytesText, countText, durationText, tableLines } from '../../src/cli/queue-text'

describe('queue CLI text', () => {
  it('durationText: the two largest units, down to seconds', () => {
    expect(durationText(0)).to.equal('0s')
    expect(durationText(999)).to.equal('0s')
    expect(durationText(45_000)).to.equal('45s')
    expect(durationText(192_000)).to.equal('3m 12s')
    expect(durationText(3_600_000)).to.equal('1h 0m')
    expect(durationText(3 * 3_600_000 + 2 * 60_000 + 59_000)).to.equal('3h 2m')
    expect(durationText((2 * 24 + 3) * 3_600_000 + 30_000)).to.equal('2d 3h')
    expect(durationText(-5)).to.equal('0s')
  })

  it('bytesText: bytes under 1 KiB, else one decimal in binary units', () => {
    expect(bytesText(0)).to.equal('0 B')
    expect(bytesText(1023)).to.equal('1023 B')
    expect(bytesText(1536)).to.equal('1.5 KiB')
    expect(bytesText(8 * 1024 ** 3)).to.equal('8.0 GiB')
  })

  it('tableLines: pads every column but the last; countText: singular for one', () => {
    expect(tableLines(['a', 'bb', 'c'], [['xxx', 'y', 'a long reason']])).to.deep.equal(['a    bb  c', 'xxx  y   a long reason'])
    expect([countText(1, 'dead letter', 'dead letters'), countText(0, 'dead letter', 'dead letters')]).to.deep.equal(['1 dead letter', '0 dead letters'])
  })
})
