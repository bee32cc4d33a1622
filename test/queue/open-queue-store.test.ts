import { expect } from 'chai'
import path from 'node:path'
import { AdapterError } from '../../src/errors'
import { openQueueStore } from '../../src/queue/open-queue-store'
import { tempDir } from '../support/temp-dir'
import { trackOf } from './queue-fixtures'
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from './postgres-test-schema'

/** The CONFIG_INVALID message openQueueStore rejects `url` with. */
async function refusal(url: string): Promise<string> {
  const error = await openQueueStore(url).then(
    () => undefined,
    (reason: unknown) => reason
  )
  expect(error).to.be.instanceOf(AdapterError)
  expect((error as AdapterError).code).to.equal('CONFIG_INVALID')
  return (error as AdapterError).message
}

describe('openQueueStore', () => {
  it('opens sqlite:PATH and postgres:// URLs as their stores', async () => {
    const file = path.join(tempDir('queue-open-'), 'queue.db')
    const sqlite = await openQueueStore(`sqlite:${file}`)
    expect(sqlite.kind).to.equal('sqlite')
    await sqlite.close()
    const again = await openQueueStore(`sqlite://${file}`)
    expect((await again.status()).depth).to.equal(0)
    await again.close()
    const schema = freshSchemaName()
    try {
      const postgres = await openQueueStore(TEST_DATABASE_URL, { schema })
      expect(postgres.kind).to.equal('postgres')
      await postgres.close()
    } finally {
      await dropSchema(schema)
    }
  })

  it('takes the PostgreSQL schema from ?schema=, so every process given the URL uses the same tables', async () => {
    const schema = freshSchemaName()
    try {
      const writer = await openQueueStore(TEST_DATABASE_URL, { schema })
      await writer.append('acme', [trackOf('ada@example.com', 1)])
      await writer.close()
      const reader = await openQueueStore(`${TEST_DATABASE_URL}?schema=${schema}`)
      expect((await reader.status()).depth).to.equal(1)
      await reader.close()
    } finally {
      await dropSchema(schema)
    }
    expect(await refusal(`${TEST_DATABASE_URL}?schema=Bad-Name`)).to.contain('schema= takes')
  })

  it('names what is wrong with a URL it does not take, and never repeats the URL', async () => {
    expect(await refusal('mysql://root:hunter2secret@db/queue')).to.contain('"mysql:"').and.contain('sqlite:PATH').and.not.contain('hunter2secret')
    expect(await refusal('/var/lib/queue.db')).to.contain('has no scheme')
    expect(await refusal('sqlite:')).to.contain('needs a file path')
    expect(await refusal('sqlite::memory:')).to.contain('in-memory')
    expect(await refusal('postgres://user:hunter2secret@[bad/x')).to.contain('not a valid postgres:// URL').and.not.contain('hunter2secret')
    expect(await refusal(`sqlite:${path.join(tempDir('queue-open-'), 'missing', 'queue.db')}`)).to.contain('cannot open the SQLite queue')
  })
})
