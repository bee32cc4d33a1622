import { expect } from 'chai'
import { signBody, verifySignature } from '../../src/server/signature'

// Known vectors computed outside our code: printf '%s' BODY | openssl dgst -sha1 -hmac SECRET
const SECRET = 'shh-test-secret'
const SINGLE = '{"type":"track","event":"Signed Up"}'
const SINGLE_SIGNATURE = 'e7df98f854130731249fd38ae20bbd0cab188fcf'
const FIRST_OF_BATCH = '{"type":"track","event":"A"}'
const FIRST_OF_BATCH_SIGNATURE = '1a93386d8267a43865de5edf2244457ae2e93d7d'

describe('verifySignature', () => {
  it('accepts the hex HMAC-SHA1 of the raw body, as Segment computes it', () => {
    expect(signBody(SINGLE, SECRET)).to.equal(SINGLE_SIGNATURE)
    expect(verifySignature(Buffer.from(SINGLE), SINGLE_SIGNATURE, [SECRET])).to.equal(true)
    expect(verifySignature(Buffer.from(SINGLE), SINGLE_SIGNATURE.toUpperCase(), [SECRET])).to.equal(true)
  })

  it('checks what an Actions batch signs: JSON.stringify(body[0])', () => {
    const raw = `[${FIRST_OF_BATCH}, {"type":"track","event":"B"}]`
    const signed = Buffer.from(JSON.stringify(JSON.parse(raw)[0]))
    expect(verifySignature(signed, FIRST_OF_BATCH_SIGNATURE, [SECRET])).to.equal(true)
    expect(verifySignature(signed, SINGLE_SIGNATURE, [SECRET])).to.equal(false)
  })

  it('accepts any of two secrets, and refuses other secrets, missing and malformed headers', () => {
    const raw = Buffer.from(SINGLE)
    expect(verifySignature(raw, SINGLE_SIGNATURE, ['old-secret', SECRET])).to.equal(true)
    expect(verifySignature(raw, SINGLE_SIGNATURE, ['other'])).to.equal(false)
    expect(verifySignature(raw, undefined, [SECRET])).to.equal(false)
    expect(verifySignature(raw, 'sha1=' + SINGLE_SIGNATURE, [SECRET])).to.equal(false)
    expect(verifySignature(raw, SINGLE_SIGNATURE.slice(0, 39), [SECRET])).to.equal(false)
  })
})
