/**
 * A strict reader for the FQL in a subscription's `subscribe`, used to refuse what
 * Segment's own `parseFql` (from @segment/destination-subscriptions) would silently
 * read differently from how it is written.
 *
 * `parseFql` never rejects unexpected tokens: it skips words it does not know, takes
 * whatever token follows a field as its operator and the next one as its value, joins
 * a whole level with its last `and`/`or`, ends a group at the first `)`, and turns
 * lexer errors into "Cannot read properties of undefined". So this module parses the
 * same tokens (from the same lexer copy parseFql uses) with a small grammar of the
 * forms whose reading was checked one by one, builds the IR the text means, and the
 * caller compares it with what parseFql built. Anything outside the grammar gets a
 * message that quotes it and says how to write it instead.
 */
import { createRequire } from 'node:module'
import type { Condition, GroupCondition, GroupConditionOperator, Operator } from '@segment/destination-subscriptions'
import { AdapterError } from '../errors'

interface LexToken {
  type: string
  value: string
}

interface LexResult {
  tokens: LexToken[]
  error?: { message?: unknown; cursor?: { line: number; column: number } }
}

// fql-ts is not our dependency but destination-subscriptions'; resolving it from there
// guarantees we lex with exactly the copy parseFql lexes with.
const fqlTs = createRequire(require.resolve('@segment/destination-subscriptions'))('@segment/fql-ts') as {
  lex(code: string): LexResult
}

export type LintResult = { ok: true; meaning: GroupCondition } | { ok: false; problem: string }

/** Reads `fql` strictly; returns the IR it means, or a message naming the part Segment's parser would mis-read and how to fix it. */
export function lintFql(fql: string): LintResult {
  try {
    return { ok: true, meaning: new StrictReader(fql).read() }
  } catch (error) {
    if (error instanceof FqlProblem) return { ok: false, problem: error.message }
    throw error
  }
}

/** What the lint found; caught in lintFql and returned as its `problem`. */
class FqlProblem extends AdapterError {
  constructor(message: string) {
    super('MAPPING_INVALID', message)
    this.name = 'FqlProblem'
  }
}

type PathKind = 'event-property' | 'event-trait' | 'event-context'
type TextKind = 'event-type' | 'event' | 'name' | 'userId'

/** The first segment of a field, as parseFql maps it (case-sensitive, own keys only). */
const FIELDS: Record<string, TextKind | PathKind> = {
  type: 'event-type',
  event: 'event',
  name: 'name',
  userId: 'userId',
  properties: 'event-property',
  traits: 'event-trait',
  context: 'event-context'
}

interface Field {
  text: string
  kind: TextKind | PathKind
  /** Path below properties/traits/context, joined with "." as parseFql does. */
  name: string | undefined
}

interface Level {
  operator: GroupConditionOperator
  children: Condition[]
}

interface Clause {
  condition: Condition
  isCall: boolean
  isGroup: boolean
  first: number
  last: number
}

const COMPARISONS = new Set(['=', '!=', '<', '<=', '>', '>='])
const WHITESPACE = new Set([' ', '\t', '\n'])
const TERMINATORS = new Set([' ', '\t', '\n', ',', ']', ')'])

class StrictReader {
  private readonly tokens: LexToken[]
  /** [start, end) offsets of each token in the source, when they could be recovered. */
  private readonly spans: Array<[number, number]> | undefined
  /** Strings whose closing quote the lexer left to open the next token (see recoverSpans). */
  private readonly glued: Set<number>
  private index = 0

  constructor(private readonly source: string) {
    if (source.trim() === '') {
      throw new FqlProblem('is empty; write a condition such as `type = "track" and event = "Signed Up"`')
    }
    const lexed = fqlTs.lex(source)
    if (lexed.error !== undefined) throw new FqlProblem(describeLexError(source, lexed.error))
    this.tokens = lexed.tokens
    const recovered = recoverSpans(source, lexed.tokens)
    this.spans = recovered?.spans
    this.glued = recovered?.glued ?? new Set()
  }

  /** The IR parseFql builds for text that means what it says: the top level is always a group. */
  read(): GroupCondition {
    const top = this.expression(false)
    if (top.children.length === 1 && top.children[0].type === 'group') return top.children[0]
    return group(top.operator, top.children)
  }

  /** A level of clauses joined by one kind of conjunction, up to `)` (inGroup) or the end. */
  private expression(inGroup: boolean): Level {
    const clauses: Clause[] = []
    const conjunctions: Array<{ value: GroupConditionOperator; at: number }> = []
    const levelStart = this.index
    for (;;) {
      const token = this.peek()
      if (token.type === 'parenright' && !inGroup) {
        throw new FqlProblem(this.unmatchedClose())
      }
      if (token.type === 'eos' || token.type === 'parenright') {
        if (clauses.length === 0) {
          throw new FqlProblem(
            inGroup ? `has empty parentheses at ${this.where(this.index - 1)}; put a condition inside or remove them` : 'has no condition'
          )
        }
        const conjunction = conjunctions[conjunctions.length - 1]
        throw new FqlProblem(
          `has a dangling \`${conjunction.value}\` at ${this.where(conjunction.at)} with no condition after it; add one or remove the \`${conjunction.value}\``
        )
      }
      if (token.type === 'conditional') {
        throw new FqlProblem(
          clauses.length === 0
            ? `starts ${inGroup ? 'a group ' : ''}with \`${token.value}\` at ${this.where(this.index)}; remove it`
            : `has two conjunctions in a row at ${this.where(this.index)}; remove one`
        )
      }
      clauses.push(this.clause(inGroup))

      const next = this.peek()
      if (next.type === 'eos') {
        if (inGroup) {
          throw new FqlProblem(`has a \`(\` at ${this.where(levelStart - 1)} that is never closed; add the missing \`)\``)
        }
        break
      }
      if (next.type === 'parenright') {
        if (!inGroup) throw new FqlProblem(this.unmatchedClose())
        break
      }
      if (next.type === 'conditional') {
        conjunctions.push({ value: next.value as GroupConditionOperator, at: this.index })
        this.index++
        continue
      }
      throw new FqlProblem(this.expectedConjunction(clauses[clauses.length - 1], next))
    }

    this.checkOneConjunction(clauses, conjunctions, inGroup)
    if (inGroup) this.checkCallsLast(clauses)
    return { operator: conjunctions[0]?.value ?? 'and', children: clauses.map((clause) => clause.condition) }
  }

  private unmatchedClose(): string {
    return `has a \`)\` at ${this.where(this.index)} with no matching \`(\`; Segment's parser ignores it, so remove it or add the \`(\``
  }

  private expectedConjunction(after: Clause, next: LexToken): string {
    const at = this.where(this.index)
    const previous = `\`${this.text(after.first, after.last)}\``
    if (next.type === 'ident' && (next.value === 'and' || next.value === 'or')) {
      return `has \`${next.value}\` directly followed by \`(\` at ${at}; Segment's lexer then reads it as a name and drops it, so put a space before the \`(\``
    }
    if (next.type === 'ident' && /^(and|or)$/i.test(next.value)) {
      return `has \`${next.value}\` at ${at}; write \`${next.value.toLowerCase()}\` in lower case, Segment's parser ignores any other spelling`
    }
    if (next.type === 'comma') {
      return `has a \`,\` after ${previous} at ${at}; join conditions with \`and\` or \`or\``
    }
    return `has \`${this.text(this.index, this.index)}\` after ${previous} at ${at}, where \`and\`, \`or\` or the end was expected; Segment's parser would skip it silently`
  }

  /** parseFql joins every clause of a level with the level's last conjunction, so a level may only use one. */
  private checkOneConjunction(
    clauses: Clause[],
    conjunctions: Array<{ value: GroupConditionOperator; at: number }>,
    inGroup: boolean
  ): void {
    const i = conjunctions.findIndex((c, k) => k > 0 && c.value !== conjunctions[k - 1].value)
    if (i < 0) return
    const last = conjunctions[conjunctions.length - 1].value
    const [a, b, c] = [clauses[i - 1], clauses[i], clauses[i + 1]]
    const [op1, op2] = [conjunctions[i - 1].value, conjunctions[i].value]
    const say = (clause: Clause): string => this.text(clause.first, clause.last)
    const reading = clauses.map(say).join(` ${last} `)
    const level = this.text(clauses[0].first, clauses[clauses.length - 1].last)
    // Only propose parentheses Segment's parser can read: never inside a group, never around one.
    const forms: string[] = []
    if (!inGroup && !a.isGroup && !b.isGroup) forms.push(`\`(${say(a)} ${op1} ${say(b)}) ${op2} ${say(c)}\``)
    if (!inGroup && !b.isGroup && !c.isGroup) forms.push(`\`${say(a)} ${op1} (${say(b)} ${op2} ${say(c)})\``)
    const fix =
      forms.length > 0
        ? `Write ${forms.join(' or ')}`
        : "Parentheses cannot nest in Segment's parser, so restructure it (e.g. distribute the \"and\" over the \"or\" at the top level)"
    throw new FqlProblem(
      `\`${level}\` mixes "and" and "or" without parentheses; Segment's parser gives "and" no precedence and joins the whole level with its last conjunction, reading \`${reading}\`. ${fix}`
    )
  }

  /** parseFql ends a group at the first `)`, which for a call inside it is the call's own. */
  private checkCallsLast(clauses: Clause[]): void {
    const i = clauses.findIndex((clause, k) => clause.isCall && k < clauses.length - 1)
    if (i < 0) return
    const call = this.text(clauses[i].first, clauses[i].last)
    const rest = this.text(clauses[i].last + 1, clauses[clauses.length - 1].last)
    throw new FqlProblem(
      `has \`${call}\` inside parentheses with more after it; Segment's parser ends the group at that call's \`)\`, so \`${rest}\` falls out of the group. ` +
        `Put the contains()/match() clause last in its parentheses`
    )
  }

  private clause(inGroup: boolean): Clause {
    const first = this.index
    const token = this.peek()
    if (token.type === 'parenleft') {
      if (inGroup) {
        throw new FqlProblem(
          `nests parentheses at ${this.where(first)}; Segment's parser cannot (it ends the outer group at the first \`)\`), so flatten the condition`
        )
      }
      this.index++
      const level = this.expression(true)
      this.index++ // the `)` expression() stopped at
      // parseFql unwraps a one-clause group.
      const condition = level.children.length === 1 ? level.children[0] : group(level.operator, level.children)
      return { condition, isCall: false, isGroup: true, first, last: this.index - 1 }
    }
    if (token.type === 'operator' && token.value === '!') {
      const next = this.tokens[this.index + 1]
      if (next.type === 'ident' && (next.value === 'contains' || next.value === 'match') && this.tokens[this.index + 2].type === 'parenleft') {
        this.index++
        return this.call(first, true)
      }
      throw new FqlProblem(
        `has \`!\` at ${this.where(first)} before something other than contains() or match(); Segment's parser drops that \`!\`, so use \`!=\` or \`!contains(…)\`/\`!match(…)\``
      )
    }
    if (token.type !== 'ident') {
      throw new FqlProblem(`has \`${this.text(first, first)}\` at ${this.where(first)} where a condition was expected`)
    }
    if (this.tokens[this.index + 1].type === 'parenleft') {
      if (token.value === 'contains' || token.value === 'match') return this.call(first, false)
      throw new FqlProblem(
        `calls unknown function \`${token.value}(\` at ${this.where(first)}; Segment's parser knows only contains() and match() (lower case) and would mis-read the rest`
      )
    }
    if (token.value === 'not') {
      throw new FqlProblem(
        `has \`not\` at ${this.where(first)}; Segment's FQL has no "not" and its parser drops the word, so use \`!=\`, \`= null\` or \`!contains(…)\`/\`!match(…)\``
      )
    }

    const field = this.field()
    const operator = this.peek()
    if (operator.type === 'ident' && operator.value === 'exists') {
      this.index++
      const after = this.peek()
      if (after.type === 'conditional' && after.value === 'or') {
        throw new FqlProblem(
          `has \`${this.text(first, this.index - 1)} or\` at ${this.where(first)}; Segment's parser takes the \`or\` after \`exists\` as its value and drops it. ` +
            (field.name === undefined
              ? `Put \`${this.text(first, this.index - 1)}\` last in its level`
              : `Write \`${field.text} != null\` instead`)
        )
      }
      return { condition: condition(field, 'exists', undefined), isCall: false, isGroup: false, first, last: this.index - 1 }
    }
    if (operator.type !== 'operator' || !COMPARISONS.has(operator.value)) {
      throw new FqlProblem(
        `has \`${this.text(this.index, this.index)}\` after \`${field.text}\` at ${this.where(this.index)}, where one of = != < <= > >= or \`exists\` was expected`
      )
    }
    this.index++
    const value = this.value(operator.value, field)
    return { condition: this.comparison(field, operator.value, value, first), isCall: false, isGroup: false, first, last: this.index - 1 }
  }

  /** `[!]contains(field, "text")` or `[!]match(field, "prefix*" | "*suffix")`. */
  private call(first: number, negate: boolean): Clause {
    const name = this.tokens[this.index].value as 'contains' | 'match'
    this.index += 2 // name and `(`
    const field = this.field()
    const comma = this.peek()
    if (comma.type !== 'comma') {
      throw new FqlProblem(`has \`${this.text(this.index, this.index)}\` in ${name}() at ${this.where(this.index)} where \`,\` was expected; write ${name}(${field.text}, "…")`)
    }
    this.index++
    const argument = this.peek()
    if (argument.type !== 'string') {
      throw new FqlProblem(
        `has \`${this.text(this.index, this.index)}\` as the 2nd argument of ${name}() at ${this.where(this.index)}; it must be a double-quoted string`
      )
    }
    const text = this.stringValue(this.index)
    this.index++
    const close = this.peek()
    if (close.type !== 'parenright') {
      throw new FqlProblem(
        `has \`${this.text(this.index, this.index)}\` in ${name}() at ${this.where(this.index)} where \`)\` was expected; ${name}() takes exactly two arguments and Segment's parser drops the rest`
      )
    }
    this.index++
    const written = this.text(first, this.index - 1)
    if (field.kind === 'event-type') {
      throw new FqlProblem(`has \`${written}\`; Segment's parser drops ${name}() on \`type\` entirely, so compare it with \`type = "…"\``)
    }
    if (name === 'contains') {
      return { condition: condition(field, negate ? 'not_contains' : 'contains', text), isCall: true, isGroup: false, first, last: this.index - 1 }
    }
    const stars = text.split('*').length - 1
    if (text === '*' || (stars === 1 && text.endsWith('*'))) {
      return { condition: condition(field, negate ? 'not_starts_with' : 'starts_with', text.slice(0, -1)), isCall: true, isGroup: false, first, last: this.index - 1 }
    }
    if (stars === 1 && text.startsWith('*')) {
      return { condition: condition(field, negate ? 'not_ends_with' : 'ends_with', text.slice(1)), isCall: true, isGroup: false, first, last: this.index - 1 }
    }
    const misread = text.endsWith('*') ? `starts with "${text.slice(0, -1)}"` : `ends with "${text.slice(1)}"`
    throw new FqlProblem(
      `has \`${written}\`; Segment's parser supports only "prefix*" and "*suffix" patterns and reads this one as "${misread}". ` +
        (stars === 0 ? `Write \`${field.text} = "${text}"\` for equality or \`contains(${field.text}, "${text}")\`` : 'Use one leading or trailing * only')
    )
  }

  private field(): Field {
    const first = this.index
    const head = this.peek()
    if (head.type !== 'ident') {
      throw new FqlProblem(`has \`${this.text(first, first)}\` at ${this.where(first)} where a field such as \`event\` or \`properties.plan\` was expected`)
    }
    const segments = [head.value]
    this.index++
    while (this.peek().type === 'dot') {
      this.index++
      const segment = this.peek()
      if (segment.type !== 'ident') {
        const got = this.text(this.index, this.index)
        const hint =
          segment.type === 'number'
            ? `; Segment's lexer reads a key starting with a digit as a number, escape it: \`${segments.join('.')}.\\${got.replace(/\.$/, '')}\``
            : segment.type === 'conditional' || segment.type === 'null'
              ? `; \`${got}\` is a keyword, escape it: \`${segments.join('.')}.\\${got}\``
              : ''
        throw new FqlProblem(`has \`${this.text(first, this.index)}\` at ${this.where(first)}: a key name must follow \`.\`${hint}`)
      }
      segments.push(segment.value)
      this.index++
    }
    const text = this.text(first, this.index - 1)
    for (const segment of segments) {
      if (/[.[\]]/.test(segment)) {
        throw new FqlProblem(
          `has \`${text}\` at ${this.where(first)}: Segment's path lookup splits keys at ".", "[" and "]" even when escaped, so a key containing them cannot be tested`
        )
      }
      if (segment in Object.prototype) {
        throw new FqlProblem(
          `has \`${text}\` at ${this.where(first)}: \`${segment}\` is a built-in JavaScript property that Segment's lookup finds on every object, so the test would not mean what it says`
        )
      }
    }
    const kind = Object.prototype.hasOwnProperty.call(FIELDS, segments[0]) ? FIELDS[segments[0]] : undefined
    if (kind === undefined) {
      const known = Object.keys(FIELDS).find((key) => key.toLowerCase() === segments[0].toLowerCase())
      throw new FqlProblem(
        `tests unknown field \`${text}\` at ${this.where(first)}; Segment's parser silently drops it. ` +
          (known === undefined
            ? 'Fields are type, event, name, userId, properties.…, traits.… and context.…'
            : `Field names are case-sensitive: write \`${[known, ...segments.slice(1)].join('.')}\``)
      )
    }
    const isPath = kind === 'event-property' || kind === 'event-trait' || kind === 'event-context'
    if (isPath && segments.length === 1) {
      throw new FqlProblem(`tests \`${text}\` at ${this.where(first)} without a key; write \`${text}.<key>\``)
    }
    if (!isPath && segments.length > 1) {
      throw new FqlProblem(`tests \`${text}\` at ${this.where(first)}, but \`${segments[0]}\` has no keys; Segment's parser would ignore \`.${segments.slice(1).join('.')}\``)
    }
    return { text, kind, name: isPath ? segments.slice(1).join('.') : undefined }
  }

  private value(operator: string, field: Field): Value {
    const token = this.peek()
    const at = this.index
    this.index++
    switch (token.type) {
      case 'string':
        return { kind: 'string', value: this.stringValue(at) }
      case 'number': {
        const value = Number(token.value)
        if (!Number.isFinite(value)) throw new FqlProblem(`has \`${token.value}\` at ${this.where(at)}, which is not a number`)
        return { kind: 'number', value }
      }
      case 'null':
        return { kind: 'null' }
      case 'ident':
        if (token.value === 'true' || token.value === 'false') return { kind: 'boolean', value: token.value === 'true' }
        throw new FqlProblem(
          `has unquoted \`${token.value}\` after \`${field.text} ${operator}\` at ${this.where(at)}; quote text values: \`${field.text} ${operator} "${token.value}"\`` +
            (this.peek().type === 'ident' ? " (Segment's parser keeps only the first word of an unquoted value)" : '')
        )
      default: {
        const got = this.text(at, at)
        const hint =
          token.type === 'operator' && token.value === '=' && operator === '='
            ? '; FQL equality is a single `=`'
            : token.type === 'operator' && token.value === '=' && (operator === '<' || operator === '>')
              ? `; Segment's lexer needs a space after \`${operator}=\` (write \`${operator}= 5\`)`
              : ''
        throw new FqlProblem(`has \`${got}\` after \`${field.text} ${operator}\` at ${this.where(at)} where a value was expected${hint}`)
      }
    }
  }

  /** Builds the node parseFql builds for `field operator value`, refusing pairs it reads differently. */
  private comparison(field: Field, operator: string, value: Value, first: number): Condition {
    const written = this.text(first, this.index - 1)
    const isPath = field.name !== undefined
    const ordering = operator !== '=' && operator !== '!='
    if (ordering) {
      if (value.kind !== 'number') {
        throw new FqlProblem(
          `has \`${written}\`; ${operator} compares numbers only (Segment's parser computes Number(${value.kind === 'string' ? JSON.stringify(value.value) : value.kind === 'boolean' ? String(value.value) : 'null'})), so write an unquoted number`
        )
      }
      if (!isPath) throw new FqlProblem(`has \`${written}\`; \`${field.text}\` is text and never a number, so ${operator} is always false`)
      return condition(field, operator as Operator, value.value)
    }
    const equals = operator === '='
    switch (value.kind) {
      case 'string':
        return condition(field, operator as Operator, value.value)
      case 'null':
        if (field.kind === 'event' || field.kind === 'event-type') {
          throw new FqlProblem(
            `has \`${written}\`; Segment's parser compares \`${field.text}\` with the text "null" here. ` +
              (equals ? `It cannot test that \`${field.text}\` is missing` : `Write \`${field.text} exists\``)
          )
        }
        return condition(field, equals ? 'not_exists' : 'exists', undefined)
      case 'number':
        if (!isPath) throw new FqlProblem(`has \`${written}\`; \`${field.text}\` is text, so quote the value: \`${field.text} ${operator} "${value.value}"\``)
        return condition(field, equals ? 'number_equals' : 'number_not_equals', value.value)
      case 'boolean':
        if (!isPath) throw new FqlProblem(`has \`${written}\`; \`${field.text}\` is text, so quote the value: \`${field.text} ${operator} "${value.value}"\``)
        if (!equals) {
          throw new FqlProblem(
            `has \`${written}\`; Segment's parser reads \`!= ${value.value}\` as "is not the text '${value.value}'", which the boolean ${value.value} also satisfies. Write \`${field.text} = ${!value.value}\``
          )
        }
        return condition(field, value.value ? 'is_true' : 'is_false', undefined)
    }
  }

  /** A double-quoted string's content; parseFql only strips double quotes and has no escapes. */
  private stringValue(at: number): string {
    const raw = this.tokens[at].value
    if (raw.startsWith("'")) {
      throw new FqlProblem(`has \`${raw}\` at ${this.where(at)}; Segment's parser keeps single quotes as part of the value, so use double quotes: "${raw.slice(1, -1)}"`)
    }
    if (raw.includes('\\')) {
      throw new FqlProblem(
        `has \`${raw}\` at ${this.where(at)}; Segment's FQL strings have no escapes (a backslash is kept as is and \\" ends the string), so remove the backslash`
      )
    }
    if (this.glued.has(at)) {
      const next = this.text(at + 1, at + 1)
      throw new FqlProblem(
        `has \`${raw}\` at ${this.where(at)} directly followed by more text; Segment's lexer ends a string only at a quote followed by a space, ",", ")" or the end, ` +
          `so it reads the rest as another string \`${next}\`. Put a space after the closing quote`
      )
    }
    return raw.slice(1, -1)
  }

  private peek(): LexToken {
    return this.tokens[Math.min(this.index, this.tokens.length - 1)]
  }

  /** The source text of tokens first..last, as written when the spans are known. */
  private text(first: number, last: number): string {
    const end = Math.min(last, this.tokens.length - 1)
    if (this.tokens[first]?.type === 'eos') return 'the end'
    if (this.spans !== undefined) {
      const upTo = this.tokens[end].type === 'eos' ? end - 1 : end
      return this.source.slice(this.spans[first][0], this.spans[upTo][1])
    }
    return this.tokens
      .slice(first, end + 1)
      .filter((token) => token.type !== 'eos')
      .map((token) => token.value)
      .join(' ')
  }

  private where(at: number): string {
    if (this.spans === undefined || at < 0) return `token ${at + 1}`
    const offset = this.tokens[at]?.type === 'eos' || at >= this.spans.length ? this.source.length : this.spans[at][0]
    const before = this.source.slice(0, offset)
    const line = before.split('\n').length
    const column = offset - before.lastIndexOf('\n')
    return line > 1 ? `line ${line}, column ${column}` : `column ${column}`
  }
}

type Value =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }

function group(operator: GroupConditionOperator, children: Condition[]): GroupCondition {
  return { type: 'group', operator, children }
}

function condition(field: Field, operator: Operator, value: string | number | undefined): Condition {
  const node: Record<string, unknown> = { type: field.kind }
  if (field.name !== undefined) node.name = field.name
  node.operator = operator
  if (value !== undefined) node.value = value
  return node as unknown as Condition
}

/**
 * Finds where each token came from, by replaying the lexer's token lengths. Returns
 * undefined when the replay disagrees with the tokens, so messages fall back to values.
 */
function recoverSpans(source: string, tokens: LexToken[]): { spans: Array<[number, number]>; glued: Set<number> } | undefined {
  const spans: Array<[number, number]> = []
  const glued = new Set<number>()
  let at = 0
  for (const [index, token] of tokens.entries()) {
    if (token.type === 'eos') break
    while (WHITESPACE.has(source[at])) at++
    const start = at
    if (token.type === 'ident') {
      let value = ''
      do {
        if (source[at] === '\\') at++
        value += source[at] ?? ''
        at++
      } while (at < source.length && /[a-z0-9_\-\\]/i.test(source[at]))
      if (value !== token.value) return undefined
    } else if (token.type === 'string') {
      // The lexer eats a closing quote only when a space, ",", "]", ")" or the end follows;
      // otherwise the quote stays and opens the next string token.
      if (source.slice(at, at + token.value.length) !== token.value) return undefined
      at += token.value.length
      if (at < source.length && !TERMINATORS.has(source[at])) {
        glued.add(index)
        at--
      }
    } else {
      if (source.slice(at, at + token.value.length) !== token.value) return undefined
      at += token.value.length
    }
    spans.push([start, Math.max(at, token.type === 'string' ? start + token.value.length : at)])
  }
  return { spans, glued }
}

function describeLexError(source: string, error: NonNullable<LexResult['error']>): string {
  const message = typeof error.message === 'string' ? error.message : String(error)
  const cursor = error.cursor
  const where =
    cursor === undefined ? '' : cursor.line > 0 ? ` at line ${cursor.line + 1}, column ${cursor.column}` : ` at column ${cursor.column}`
  let hint = ''
  if (/invalid character "[&|]"/.test(message)) hint = '; write `and` / `or` instead of `&&` / `||`'
  else if (/invalid character "\r"/.test(message)) hint = '; use \\n line breaks, not \\r'
  else if (/unterminated string/.test(message)) hint = '; close the string with a double quote'
  else if (/expected '=' after '!'/.test(message)) hint = '; write `!=` followed by a space, or `!contains(`/`!match(` with no space'
  else if (/after identifier, got \[/.test(message)) hint = '; FQL paths have no [index] syntax, write `properties.items.\\0.sku`'
  else if (/after identifier/.test(message)) hint = '; put a space between a field and its operator, e.g. `properties.total > 5`'
  return `cannot be read by Segment's FQL lexer (${message}${where}) in \`${source}\`${hint}`
}
