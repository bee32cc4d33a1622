import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { MappingFile } from './mapping-file-schema'

/** The JSON Schema of the mapping file, as checked in at `mappings/schema.json`. */
export function mappingJsonSchema(): string {
  const schema = z.toJSONSchema(MappingFile, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>
  const document = {
    $id: 'https://segment-koala-adapter.local/mappings/schema.json',
    title: 'segment-koala-adapter mapping file',
    ...schema
  }
  return JSON.stringify(document, null, 2) + '\n'
}

export const JSON_SCHEMA_PATH = path.join(__dirname, '..', '..', 'mappings', 'schema.json')

if (require.main === module) {
  writeFileSync(JSON_SCHEMA_PATH, mappingJsonSchema())
  console.log(`wrote ${path.relative(process.cwd(), JSON_SCHEMA_PATH)}`)
}
