import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { CONFIG_ENV_NAMES } from '../../src/config'
import { DROP_REASONS } from '../../src/drop-reasons'
import { ERROR_CODES } from '../../src/errors'
import { DELIBERATE_DIFFERENCES } from '../../src/mapping/kit/compile-mapping-kit'

const README = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8')

describe('README reference', () => {
  it('lists every deliberate difference from Segment\'s mapping-kit', () => {
    expect(DELIBERATE_DIFFERENCES.length).to.be.at.least(2)
    for (const { id } of DELIBERATE_DIFFERENCES) expect(README, id).to.contain(`| \`${id}\` |`)
  })

  it('lists every drop reason', () => {
    for (const reason of Object.keys(DROP_REASONS)) expect(README, reason).to.contain(`\`${reason}\``)
  })

  it('lists every setting\'s environment variable', () => {
    for (const name of Object.values(CONFIG_ENV_NAMES)) expect(README, name).to.contain(`\`${name}\``)
  })

  it('lists every error code', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(README, code).to.contain(`| \`${code}\` |`)
  })
})
