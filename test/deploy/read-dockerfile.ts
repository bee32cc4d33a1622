import { readFileSync } from 'node:fs'

export type Instruction = { keyword: string; flags: Record<string, string>; args: string; line: number }
export type Stage = { image: string; name: string | undefined; steps: Instruction[] }

/**
 * The Dockerfile's stages and their instructions, as a builder reads them: comments and
 * blank lines dropped, `\` continuations joined, leading `--flag=value`s split off.
 * Only what this project's Dockerfile uses; anything else is an error, so a new kind of
 * step cannot slip past the tests that replay the steps.
 */
export function readDockerfile(file: string): Stage[] {
  const stages: Stage[] = []
  const lines = readFileSync(file, 'utf8').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const start = i
    let text = lines[i]
    if (/^\s*(#|$)/.test(text)) continue
    while (text.endsWith('\\')) text = text.slice(0, -1) + ' ' + lines[++i].trim()
    const [, keyword, rest] = /^\s*([A-Za-z]+)\s+(.*)$/.exec(text) ?? []
    if (keyword === undefined) throw new Error(`${file}:${start + 1}: cannot read "${text}"`)
    const flags: Record<string, string> = {}
    let args = rest.trim()
    for (let flag = /^--([a-z-]+)=(\S+)\s+/.exec(args); flag !== null; flag = /^--([a-z-]+)=(\S+)\s+/.exec(args)) {
      flags[flag[1]] = flag[2]
      args = args.slice(flag[0].length)
    }
    const instruction = { keyword: keyword.toUpperCase(), flags, args, line: start + 1 }
    if (instruction.keyword === 'FROM') {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? []
      stages.push({ image, name, steps: [] })
    } else if (['WORKDIR', 'COPY', 'RUN', 'ENV', 'USER', 'EXPOSE', 'HEALTHCHECK', 'ENTRYPOINT', 'CMD'].includes(instruction.keyword)) {
      if (stages.length === 0) throw new Error(`${file}:${start + 1}: ${keyword} before FROM`)
      stages[stages.length - 1].steps.push(instruction)
    } else {
      throw new Error(`${file}:${start + 1}: ${keyword} is not an instruction the tests know how to replay`)
    }
  }
  return stages
}

/** ENV's `NAME=value` pairs (the only form used here; values may be double-quoted). */
export function envPairs(args: string): Record<string, string> {
  const pairs: Record<string, string> = {}
  for (const [, name, quoted, plain] of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|(\S*))/g)) pairs[name] = quoted ?? plain
  return pairs
}
