import { readFileSync } from 'node:fs'
import { AdapterError } from '../errors'
import { readEvents, type InputItem } from '../segment/read-events'

/** Reads every named file (`-` for stdin; stdin when none) into input items, in order. */
export function readInputs(files: readonly string[]): InputItem[] {
  const names = files.length === 0 ? ['-'] : files
  return names.flatMap((name) => {
    let text: string
    try {
      text = readFileSync(name === '-' ? 0 : name, 'utf8')
    } catch (error) {
      throw new AdapterError('INPUT_INVALID', `cannot read ${name === '-' ? 'stdin' : name}: ${(error as Error).message}`)
    }
    return readEvents(text, name === '-' ? 'stdin' : name)
  })
}
