import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { findCompanyDomain } from '../../src/mapping/company-domain'
import { compileMapping } from '../../src/mapping/compile-mapping'
import { parseMappingText } from '../../src/mapping/load-mapping'

const domainOf = (value: unknown): string | undefined => findCompanyDomain(value).domain
const refusalOf = (value: unknown): string => findCompanyDomain([value]).refused.join('; ')

describe('mapping/company-domain: the account domain', () => {
  it('is the registrable domain under the Public Suffix List, from a domain, a host or a website URL', () => {
    expect(domainOf('https://app.eu.acme.com/login')).to.equal('acme.com')
    expect(domainOf('shop.acme.co.uk')).to.equal('acme.co.uk')
    expect(domainOf('www.acme.com')).to.equal('acme.com')
    expect(domainOf('  Acme.COM.  ')).to.equal('acme.com')
    expect(domainOf('acme.com/about?x=1#top')).to.equal('acme.com')
    expect(domainOf('acme.com:8443')).to.equal('acme.com')
    expect(domainOf('http://www.acme.co.uk:8080')).to.equal('acme.co.uk')
    expect(domainOf('https://user:secret@eu.acme.io/x')).to.equal('acme.io')
    expect(domainOf('eng_team.acme.com')).to.equal('acme.com')
    // The PSL's private section counts: each of these is one company's own site.
    expect(domainOf('acme.github.io')).to.equal('acme.github.io')
    expect(domainOf('https://docs.acme.github.io/')).to.equal('acme.github.io')
    expect(domainOf('acme.blogspot.com')).to.equal('acme.blogspot.com')
  })

  it('takes international domains in every form and sends one: ASCII (punycode), as DNS and browsers write hosts', () => {
    for (const candidate of ['müller.ch', 'MÜLLER.ch', 'xn--mller-kva.ch', 'https://www.müller.ch/kontakt', 'shop.MÜLLER.ch', 'http://XN--MLLER-KVA.ch']) {
      expect(domainOf(candidate), candidate).to.equal('xn--mller-kva.ch')
    }
    expect(domainOf('straße.de')).to.equal('xn--strae-oqa.de')
    // An internationalised public suffix is found in either form.
    expect(domainOf('shop.beispiel.公司.cn')).to.equal('beispiel.xn--55qx5d.cn')
    expect(domainOf('shop.beispiel.xn--55qx5d.cn')).to.equal('beispiel.xn--55qx5d.cn')
  })

  it('refuses what is not a company\'s domain, saying why', () => {
    expect(refusalOf('Acme Inc')).to.equal('[0] "Acme Inc" is not a host name')
    expect(refusalOf('localhost')).to.equal('[0] "localhost" has no registrable domain')
    expect(refusalOf('co.uk')).to.equal('[0] "co.uk" has no registrable domain')
    expect(refusalOf('github.io')).to.equal('[0] "github.io" has no registrable domain')
    expect(refusalOf('https://192.168.0.1/admin')).to.equal('[0] "192.168.0.1" is an IP address')
    expect(refusalOf('[::1]:8080')).to.equal('[0] "[::1]" is an IP address')
    expect(refusalOf('10.0.0.1')).to.equal('[0] "10.0.0.1" is an IP address')
    expect(refusalOf('123')).to.equal('[0] "123" is not a host name')
    expect(refusalOf('acme.internal')).to.equal('[0] "acme.internal" is not under a public suffix')
    expect(refusalOf('xn--zz.com')).to.equal('[0] "xn--zz.com" is not a host name')
    expect(refusalOf('-acme.com')).to.equal('[0] "-acme.com" is not a host name')
    expect(refusalOf('acme_corp.com')).to.equal('[0] "acme_corp.com" is not a host name')
    expect(refusalOf('acme..com')).to.equal('[0] "acme..com" is not a host name')
    expect(refusalOf('')).to.equal('[0] is empty')
    expect(refusalOf(undefined)).to.equal('[0] is missing')
    expect(refusalOf(42)).to.equal('[0] is a number')
    expect(refusalOf({ host: 'acme.com' })).to.equal('[0] is an object')
  })

  it('never echoes an email address or a URL\'s user, path or query', () => {
    expect(refusalOf('Ada.Lovelace@acme.com')).to.equal('[0] is an email address')
    expect(refusalOf('mailto:ada@acme.com')).to.equal('[0] is an email address')
    const url = refusalOf('https://ada:hunter2@localhost/reset?token=s3cr3t')
    expect(url).to.equal('[0] "localhost" has no registrable domain')
    expect(refusalOf('https://exa mple.com/?token=s3cr3t')).to.equal('[0] is not a valid URL')
    expect(refusalOf('x'.repeat(300))).to.have.length.below(100)
  })

  it('takes the first candidate that gives a domain, and lists why each before it was refused', () => {
    expect(findCompanyDomain(['Acme Inc', undefined, 'https://www.acme.com/about', 'other.io'])).to.deep.equal({
      domain: 'acme.com',
      from: { index: 2, host: 'www.acme.com' },
      refused: ['[0] "Acme Inc" is not a host name', '[1] is missing']
    })
    expect(findCompanyDomain('acme.com')).to.deep.equal({ domain: 'acme.com', from: { index: 0, host: 'acme.com' }, refused: [] })
    expect(findCompanyDomain([])).to.deep.equal({ domain: undefined, from: undefined, refused: [] })
  })
})

describe('Group calls through compileMapping/map with the default mapping', () => {
  const defaultMapper = compileMapping(parseMappingText(readFileSync(path.join(__dirname, '..', '..', 'mappings', 'default.json'), 'utf8')))
  const group = (traits: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    defaultMapper.map({ type: 'group', groupId: 'eng', messageId: 'g', traits, ...extra }, { explain: true })

  it('sends the registrable domain and --explain names the candidate that gave it', () => {
    const result = group({ domain: 'Acme Inc', website: 'https://app.eu.MÜLLER.ch/login' })
    expect(result.outcome).to.equal('send')
    if (result.outcome !== 'send') return
    expect(result.entries[0]).to.deep.include({ endpoint: 'accounts/batch', account: { domain: 'xn--mller-kva.ch' } })
    expect(result.explain?.notes).to.include(
      'domain "xn--mller-kva.ch" from domain candidate [1] "app.eu.xn--mller-kva.ch" (domain candidates: [0] "Acme Inc" is not a host name)'
    )
    const direct = group({ domain: 'shop.acme.co.uk' })
    expect(direct.explain?.notes).to.include('domain "acme.co.uk" from domain candidate [0] "shop.acme.co.uk"')
  })

  it('drops a group with no usable candidate, listing each one tried and why, without echoing an email', () => {
    const result = group({ domain: 'Acme Inc', website: 'localhost', email: 'ada@acme.com' })
    expect(result).to.deep.include({
      outcome: 'drop',
      reason: 'no_identity',
      detail: 'Group Calls: no valid domain or account_id for the account (domain candidates: [0] "Acme Inc" is not a host name; [1] "localhost" has no registrable domain)'
    })
    const email = group({ domain: 'ada@acme.com', website: 'https://ada:pw@10.0.0.7/?key=abc' })
    expect(email).to.deep.include({
      outcome: 'drop',
      detail: 'Group Calls: no valid domain or account_id for the account (domain candidates: [0] is an email address; [1] "10.0.0.7" is an IP address)'
    })
    if (email.outcome === 'drop') expect(email.detail).to.not.match(/ada|pw|key=/)
  })

  it('sends an account known only by account_id, and --explain says why no domain', () => {
    const raw = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'mappings', 'default.json'), 'utf8'))
    raw.subscriptions[3].mapping.account_id = { '@path': '$.groupId' }
    const mapper = compileMapping(parseMappingText(JSON.stringify(raw)))
    const result = mapper.map({ type: 'group', groupId: 'acct-7', messageId: 'g', traits: { domain: 'co.uk' } }, { explain: true })
    expect(result.outcome).to.equal('send')
    if (result.outcome !== 'send') return
    expect(result.entries[0]).to.deep.include({ account: { account_id: 'acct-7' } })
    expect(result.explain?.notes).to.include(
      'no domain, the account goes by account_id (domain candidates: [0] "co.uk" has no registrable domain; [1] is missing)'
    )
  })
})
