import { expect } from 'chai'
import { firstTimeMs, isCanonicalIso, readIsoTime } from '../../src/segment/iso-time'

const iso = (value: unknown): string | undefined => {
  const ms = readIsoTime(value)
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString()
}

describe('segment/iso-time: the strict ISO 8601 reader', () => {
  it('reads what Segment\'s libraries write, zone-less as UTC, in UTC out', () => {
    expect(iso('2026-11-30T10:00:00.000Z')).to.equal('2026-11-30T10:00:00.000Z')
    expect(iso('2026-11-30T10:00:00Z')).to.equal('2026-11-30T10:00:00.000Z')
    expect(iso('2026-11-30T10:00Z')).to.equal('2026-11-30T10:00:00.000Z')
    // Python's isoformat (microseconds), Go's RFC3339Nano, .NET's "o" (7 digits): cut to ms, never rounded up
    expect(iso('2026-11-30T10:00:00.123456+00:00')).to.equal('2026-11-30T10:00:00.123Z')
    expect(iso('2026-11-30T10:00:00.999999999Z')).to.equal('2026-11-30T10:00:00.999Z')
    expect(iso('2026-11-30T10:00:00.1234567Z')).to.equal('2026-11-30T10:00:00.123Z')
    expect(iso('2026-11-30T10:00:00.5Z')).to.equal('2026-11-30T10:00:00.500Z')
    expect(iso('2026-11-30T10:00:00,5Z')).to.equal('2026-11-30T10:00:00.500Z')
    expect(iso('2026-11-30 10:00:00')).to.equal('2026-11-30T10:00:00.000Z')
    expect(iso('2026-11-30t10:00:00z')).to.equal('2026-11-30T10:00:00.000Z')
    expect(iso('2026-11-30T10:00:00.123456')).to.equal('2026-11-30T10:00:00.123Z')
    // Offsets in every written form, across a day and a year boundary
    expect(iso('2026-11-30T10:00:00+05:30')).to.equal('2026-11-30T04:30:00.000Z')
    expect(iso('2026-11-30T10:00:00+0530')).to.equal('2026-11-30T04:30:00.000Z')
    expect(iso('2026-11-30T10:00:00+05')).to.equal('2026-11-30T05:00:00.000Z')
    expect(iso('2026-12-31T20:00:00-08:00')).to.equal('2027-01-01T04:00:00.000Z')
    expect(iso('2026-11-30T10:00:00-00:00')).to.equal('2026-11-30T10:00:00.000Z')
    expect(iso('2026-11-30')).to.equal('2026-11-30T00:00:00.000Z')
  })

  it('knows the calendar: month lengths and leap years, including years 0-99 (which Date.UTC reads as 19xx)', () => {
    expect(iso('2024-02-29T00:00:00Z')).to.equal('2024-02-29T00:00:00.000Z')
    expect(iso('2000-02-29')).to.equal('2000-02-29T00:00:00.000Z')
    expect(iso('2026-02-29')).to.equal(undefined)
    expect(iso('1900-02-29')).to.equal(undefined)
    expect(iso('2026-04-31T00:00:00Z')).to.equal(undefined)
    expect(iso('2026-12-31T23:59:59.999Z')).to.equal('2026-12-31T23:59:59.999Z')
    expect(iso('0050-03-01T00:00:00Z')).to.equal('0050-03-01T00:00:00.000Z')
    expect(iso('0004-02-29')).to.equal('0004-02-29T00:00:00.000Z')
  })

  it('refuses malformed and impossible values instead of guessing or rolling over', () => {
    const refused: unknown[] = [
      '2026-11-31T10:00:00Z', '2026-13-01', '2026-00-10', '2026-11-00', '1', '12', '2026', 'NaN', '', 'yesterday',
      '2026-11-30T24:00:00Z', '2026-11-30T23:60:00Z', '2026-11-30T23:59:60Z', '2026-11-30T10:00:00+24:00',
      '2026-11-30T10:00:00+05:60', '2026-11-30T10Z', '2026-11-30T10:00:00.Z', '20261130T100000Z', '2026-11-30Z',
      ' 2026-11-30T10:00:00Z', '2026-11-30T10:00:00Z ', '2026-11-30T10:00:00 GMT', 'Mon, 30 Nov 2026 10:00:00 GMT',
      '+002026-11-30T10:00:00Z', '0000-01-01T00:00:00+01:00', '2026-11-30T', '2026-11-30T10', '2026-11-30T10:0',
      '2026-11-30T10:00:00+05:', '2026-11-30T10:00:00+5', '2026-11-30T10:00:00Zjunk', '2026-11-30T10:00:00.123.4Z', '2026-1-30',
      1764496800000, 1764496800, NaN, null, undefined, true, {}, ['2026-11-30T10:00:00Z']
    ]
    for (const value of refused) expect(readIsoTime(value), JSON.stringify(value)).to.be.NaN
  })

  it('takes the canonical fast path only for days that exist', () => {
    expect(isCanonicalIso('2026-11-30T10:00:00.000Z')).to.equal(true)
    expect(isCanonicalIso('2024-02-29T10:00:00.000Z')).to.equal(true)
    expect(isCanonicalIso('2026-01-31T10:00:00.000Z')).to.equal(true)
    expect(isCanonicalIso('2026-11-31T10:00:00.000Z')).to.equal(false)
    expect(isCanonicalIso('2026-02-29T10:00:00.000Z')).to.equal(false)
    expect(isCanonicalIso('2100-02-29T10:00:00.000Z')).to.equal(false)
    expect(isCanonicalIso('2026-02-30T10:00:00.000Z')).to.equal(false)
    expect(isCanonicalIso('2026-11-30T10:00:00Z')).to.equal(false)
    // Whatever the fast path accepts, the full reader accepts and writes back unchanged.
    for (let month = 1; month <= 12; month++) {
      for (let day = 27; day <= 32; day++) {
        for (const year of [2000, 2024, 2026, 2100]) {
          const text = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T00:00:00.000Z`
          expect(isCanonicalIso(text), text).to.equal(iso(text) === text)
        }
      }
    }
  })

  it('takes the first date-time; a date alone counts only when no later candidate has a time', () => {
    expect(firstTimeMs(['garbled', undefined, '2026-11-30T10:00:00Z'])).to.equal(Date.UTC(2026, 10, 30, 10))
    expect(firstTimeMs(['2026-11-29', '2026-11-30T10:00:00Z'])).to.equal(Date.UTC(2026, 10, 30, 10))
    expect(firstTimeMs(['2026-11-29', '2026-11-28', 'x'])).to.equal(Date.UTC(2026, 10, 29))
    expect(firstTimeMs(['1', 12, 'NaN'])).to.be.NaN
  })
})
