import { expect } from 'chai'
import { generateFql, parseFql, validate } from '@segment/destination-subscriptions'
import type { Subscription } from '@segment/destination-subscriptions'
import { MappingError } from '../../src/errors'
import { compileSubscription } from '../../src/mapping/subscription'

/*
 * What parseFql (@segment/destination-subscriptions 3.37.0, lexer @segment/fql-ts 1.10.1)
 * was found to do, by calling it. "→" is the IR it returned, shown as generateFql of it
 * where that is clearer. parseFql returns the IR itself (there is no `.ir`).
 *
 * Read as written (accepted):
 *   type = "track" and event = "Signed Up"          → and[type = track, event = Signed Up]
 *   event = "A" and (properties.plan = "pro" or …)  → and[event, or[…]]  (one level of parentheses)
 *   properties.value > 10 / = 5 / != 5              → >, number_equals, number_not_equals
 *   properties.plan = null / != null                → not_exists / exists (also name, userId)
 *   properties.x = true / false                     → is_true / is_false
 *   contains(event, "Sign"), !contains(…)           → contains / not_contains
 *   match(event, "Sign*"), match(event, "*Up")      → starts_with "Sign" / ends_with "Up"
 *   event exists, traits.email exists               → {operator: "exists", value: "eos"}: works only
 *                                                     because "exists" lands in the operator slot
 *   properties.items.\0.sku = "x"                   → name "items.0.sku" (escaped digit key)
 *
 * Silently mis-read (the lint rejects each; see "rejections" below):
 *   a and b or c            → or[a, b, c]   (whole level takes the LAST conjunction)
 *   a or b and c            → and[a, b, c]
 *   event exists or type = "track"  → and[event exists (value "or"), type]: the "or" is eaten
 *   match(event, "Sign")    → ends_with "ign";  match(event, "*Sign*") → starts_with "*Sign";
 *   match(event, "S*p")     → ends_with "*p"
 *   event = 'Signed Up'     → event = "'Signed Up'" (single quotes kept in the value)
 *   event == "A"            → event = "="  (then "A" skipped)
 *   event = "A" foo         → event = "A"  (any unknown word skipped)
 *   event = "A" type = "x"  → and[…] (missing conjunction defaults to and)
 *   event = "A" OR …, AND   → upper-case words are unknown idents: skipped, level defaults to and
 *   event = "A" or(type…)   → "or(" lexes as ident "or": dropped, level defaults to and
 *   event = "A" and         → event = "A" (dangling conjunction ignored); "and a" likewise
 *   type = "track" and Event = "A", … and toString = "b"  → the unknown field is dropped
 *   contains(type, "x") inside a larger condition          → dropped (no node pushed)
 *   contains(properties, "x")  → name "properties";  contains(propertiesX.a, …) → name "propertiesX.a"
 *   foo(event, "x")         → event "," "x" (always false)
 *   contains(event "x")     → contains ")";  contains(event, "a", "b") → "b" dropped
 *   not event = "A", !event = "A", !(event = "A") → event = "A" (negation dropped)
 *   type.foo = "track"      → type = "track" (".foo" ignored); properties = "x" → properties.properties
 *   event = null / != null  → event = "null" / != "null" (text, not existence); same for type
 *   event = true / name = true → compared with the text "true"
 *   properties.x != true    → != with value true, i.e. actual !== "true": true for the boolean true
 *   properties.x > "2020-01-01", > true, > null → Number(...) is NaN / 1: never / wrongly true
 *   properties.x = -        → number_equals NaN;  = .5 → = "." ; = 10abc → 10 (abc skipped); 1e5 → 1
 *   properties.x <> 5       → < ">";  properties.x <=5 → lexed "<" "=" "5" → < "="
 *   event = Signed Up       → event = "Signed" (unquoted value, "Up" skipped)
 *   event in ("a", "b")     → operator "in" value "(" (always false)
 *   properties.items.0.sku  → number token "0." → operator "." (garbage)
 *   properties.a\.b         → name "a.b", which get() splits: reads a.b nested, not key "a.b"
 *   properties.__proto__ exists, properties.constructor … → get() finds Object.prototype members
 *   event = "A")            → stray ")" ignored
 *   (contains(event, "a") or event = "b") and type = "track"
 *                           → and[contains, event = b, type]: the group ends at contains' own ")"
 *   event = "A"and type = "track" → a closing quote not followed by space/","/")"/end is not eaten,
 *                             so `"and type = "` becomes a string and the type clause vanishes
 *   event = "a\"b"          → event = "a\" (no escapes; "b" skipped)
 *   event = "A" and ()      → children [A, null]: validate() then throws on every event
 *
 * Errors, but with a useless message ("Cannot read properties of undefined (reading 'type')"),
 * so we report our own: "", "   ", lexer errors (&&, ||, unterminated string, `! contains`,
 * `properties.x>5`, `=~`, `[0]`), unclosed "(", nested parentheses, "()", a lone unknown field.
 */

const POINTER = '/subscriptions/3/subscribe'

const track = {
  type: 'track',
  event: 'Signed Up',
  userId: 'u_1',
  anonymousId: 'a_1',
  properties: { plan: 'pro', value: 25, total: '25', trial: true, seats: 0, address: { city: 'Paris', zip: '75001' }, items: [{ sku: 'pro-1' }] },
  context: { library: { name: 'analytics.js', version: '2.11.1' }, traits: { email: 'ada@example.com' } }
}
const identify = {
  type: 'identify',
  userId: 'u_2',
  traits: { email: 'bob@example.com', plan: null, company: { name: 'Acme', employees: 40 } },
  context: { library: { name: 'analytics-node', version: '6.0.0' } }
}
const page = {
  type: 'page',
  name: 'Pricing',
  anonymousId: 'a_3',
  properties: { url: 'https://example.com/pricing', path: '/pricing', title: 'Pricing' },
  context: { library: { name: 'analytics.js' } }
}
const group = {
  type: 'group',
  userId: 'u_4',
  groupId: 'g_1',
  traits: { name: 'Acme', plan: 'team', employees: 40 },
  context: { library: { name: 'analytics-ruby' } }
}
const EVENTS: Array<Record<string, unknown>> = [track, identify, page, group]

function matches(fql: string): string[] {
  const predicate = compileSubscription(fql, POINTER)
  return EVENTS.filter((event) => predicate(event)).map((event) => String(event.type))
}

function rejection(fql: unknown): MappingError {
  try {
    compileSubscription(fql as string, POINTER)
  } catch (error) {
    expect(error).to.be.instanceOf(MappingError)
    return error as MappingError
  }
  throw new Error(`expected ${JSON.stringify(fql)} to be rejected`)
}

/** A small seeded generator, so a failing generated case can be reproduced. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) % n)
  }
}

describe('compileSubscription', () => {
  describe('predicates on Segment events', () => {
    it('= and != on type, event, name and userId', () => {
      expect(matches('type = "track"')).to.deep.equal(['track'])
      expect(matches('type != "track"')).to.deep.equal(['identify', 'page', 'group'])
      expect(matches('event = "Signed Up"')).to.deep.equal(['track'])
      expect(matches('event = "Signed up"')).to.deep.equal([]) // case-sensitive
      expect(matches('name = "Pricing"')).to.deep.equal(['page'])
      expect(matches('userId = "u_2"')).to.deep.equal(['identify'])
      // != is plain inequality, so a missing field is "not equal" too.
      expect(matches('event != "Signed Up"')).to.deep.equal(['identify', 'page', 'group'])
    })

    it('the numeric comparisons, which are false for anything but a number', () => {
      expect(matches('properties.value > 10')).to.deep.equal(['track'])
      expect(matches('properties.value >= 25')).to.deep.equal(['track'])
      expect(matches('properties.value < 25')).to.deep.equal([])
      expect(matches('properties.value <= 25.0')).to.deep.equal(['track'])
      expect(matches('properties.total > 10')).to.deep.equal([]) // "25" is a string
      expect(matches('traits.employees >= 40')).to.deep.equal(['group'])
      expect(matches('traits.company.employees < 100')).to.deep.equal(['identify'])
      expect(matches('properties.seats = 0')).to.deep.equal(['track'])
      expect(matches('properties.value != 3')).to.deep.equal(['track']) // number_not_equals needs a number
      expect(matches('properties.value = -1.5')).to.deep.equal([])
    })

    it('strings compare as strings, numbers as numbers', () => {
      expect(matches('properties.total = "25"')).to.deep.equal(['track'])
      expect(matches('properties.value = "25"')).to.deep.equal([])
      expect(matches('properties.value = 25')).to.deep.equal(['track'])
    })

    it('exists, != null, = null and not-exists', () => {
      expect(matches('traits.email exists')).to.deep.equal(['identify'])
      expect(matches('context.traits.email exists')).to.deep.equal(['track'])
      expect(matches('traits.email != null')).to.deep.equal(['identify'])
      expect(matches('traits.plan = null')).to.deep.equal(['track', 'identify', 'page']) // null counts as missing
      expect(matches('event exists')).to.deep.equal(['track'])
      expect(matches('name exists')).to.deep.equal(['page'])
      expect(matches('userId = null')).to.deep.equal(['page'])
      expect(matches('type = "identify" or traits.email exists')).to.deep.equal(['identify'])
      expect(matches('traits.email exists and type = "identify"')).to.deep.equal(['identify'])
    })

    it('booleans', () => {
      expect(matches('properties.trial = true')).to.deep.equal(['track'])
      expect(matches('properties.trial = false')).to.deep.equal([])
    })

    it('contains() and match(), and their negations', () => {
      expect(matches('contains(event, "Sign")')).to.deep.equal(['track'])
      expect(matches('!contains(event, "Sign")')).to.deep.equal([]) // false for a missing event
      expect(matches('match(event, "Sign*")')).to.deep.equal(['track'])
      expect(matches('match(event, "*Up")')).to.deep.equal(['track'])
      expect(matches('!match(name, "Pri*")')).to.deep.equal([])
      expect(matches('match(properties.path, "/pri*")')).to.deep.equal(['page'])
      expect(matches('contains(traits.email, "@example.com")')).to.deep.equal(['identify'])
      expect(matches('contains(context.library.name, "analytics-")')).to.deep.equal(['identify', 'group'])
      expect(matches('match(userId, "*")')).to.deep.equal(['track', 'identify', 'group']) // any string
    })

    it('nested paths, escaped keys and array indexes', () => {
      expect(matches('context.library.name != "analytics.js"')).to.deep.equal(['identify', 'group'])
      expect(matches('properties.address.city = "Paris"')).to.deep.equal(['track'])
      expect(matches('properties.items.\\0.sku = "pro-1"')).to.deep.equal(['track'])
      expect(matches('properties.missing.deeper exists')).to.deep.equal([])
    })

    it('and, or, and one level of parentheses', () => {
      expect(matches('type = "track" and event = "Signed Up"')).to.deep.equal(['track'])
      expect(matches('type = "identify" or type = "group"')).to.deep.equal(['identify', 'group'])
      expect(matches('type = "track" and (properties.plan = "pro" or properties.plan = "team")')).to.deep.equal(['track'])
      expect(matches('(type = "identify" or type = "group") and traits.plan = "team"')).to.deep.equal(['group'])
      expect(matches('(type = "page") or (type = "group" and traits.employees > 10)')).to.deep.equal(['page', 'group'])
      expect(matches('(type = "track" or contains(name, "Pri")) and context.library.name = "analytics.js"')).to.deep.equal(['track', 'page'])
      expect(matches('type = "track"\nand event = "Signed Up"')).to.deep.equal(['track'])
    })

    it('answers false for an undefined event, as validate() does', () => {
      expect(compileSubscription('type = "track"', POINTER)(undefined as unknown as Record<string, unknown>)).to.equal(false)
    })
  })

  describe('agreement with validate(parseFql(fql), event)', () => {
    const paths = ['properties.plan', 'properties.value', 'properties.total', 'properties.trial', 'properties.seats.x', 'properties.address.city',
      'properties.items.\\0.sku', 'traits.email', 'traits.plan', 'traits.company.employees', 'context.library.name', 'context.traits.email']
    const texts = ['type', 'event', 'name', 'userId']
    const strings = ['"track"', '"identify"', '"Signed Up"', '"pro"', '"team"', '"25"', '""', '"null"', '"Paris"', '"analytics.js"', '"Pricing"', '"u_2"']
    const numbers = ['0', '25', '-1.5', '40', '100', '10']
    const patterns = ['"Sign*"', '"*Up"', '"*"', '"pro*"', '"*.js"', '"Pa*"']
    const quirky: Array<Record<string, unknown>> = [
      // A falsy step is returned as is by get(): properties.seats.x reads 0 here.
      { type: 'track', event: 'null', properties: { seats: 0, plan: false, value: '25', total: 25, address: 'Paris' } },
      { type: 'identify', traits: { email: null, plan: '', company: { employees: '40' } }, userId: 7 },
      { type: 'page', name: '', properties: { items: [{ sku: null }], plan: ['pro'] }, context: { library: null } },
      { type: 'track', properties: {}, traits: 'x', context: { traits: { email: true } } }
    ]

    function clause(r: (n: number) => number): string {
      const pick = <T>(from: T[]): T => from[r(from.length)]
      switch (r(8)) {
        case 0: return `${pick(texts)} ${pick(['=', '!='])} ${pick(strings)}`
        case 1: return `${pick(paths)} ${pick(['=', '!=', '<', '<=', '>', '>='])} ${pick(numbers)}`
        case 2: return `${pick(paths)} ${pick(['=', '!='])} ${pick(strings)}`
        case 3: return `${pick([...paths, 'name', 'userId'])} ${pick(['=', '!='])} null`
        case 4: return `${pick(paths)} = ${pick(['true', 'false'])}`
        case 5: return `${pick(['', '!'])}contains(${pick([...paths, 'event', 'name', 'userId'])}, ${pick(strings)})`
        case 6: return `${pick(['', '!'])}match(${pick([...paths, 'event', 'name', 'userId'])}, ${pick(patterns)})`
        default: return `${pick([...texts, ...paths])} exists`
      }
    }
    function level(r: (n: number) => number, inGroup: boolean): string {
      const conjunction = r(2) === 0 ? 'and' : 'or'
      const parts: string[] = []
      for (let i = 1 + r(4); i > 0; i--) parts.push(!inGroup && r(4) === 0 ? `(${level(r, true)})` : clause(r))
      return parts.join(` ${conjunction} `)
    }

    it('on a few hundred generated (fql, event) pairs that pass the lint', () => {
      const r = random(20240611)
      let pairs = 0
      let subscriptions = 0
      for (let attempt = 0; attempt < 400; attempt++) {
        const fql = level(r, false)
        let predicate
        try {
          predicate = compileSubscription(fql, POINTER)
        } catch (error) {
          // The generator makes some forms the lint refuses on purpose ("exists or", a call
          // before other clauses in a group); those must be lint refusals, not the safety net.
          expect((error as Error).message).not.to.contain('would be read by Segment')
          continue
        }
        const ir = parseFql(fql)
        subscriptions++
        for (const event of [...EVENTS, ...quirky]) {
          expect(predicate(event), `${fql} on ${JSON.stringify(event)}`).to.equal(validate(ir, event))
          pairs++
        }
      }
      expect(subscriptions).to.be.greaterThan(200)
      expect(pairs).to.be.greaterThan(1500)
    })

    it('mutated FQL is either refused by the lint or still agrees with validate()', () => {
      // Insert, drop, replace or glue tokens of valid FQL: the lint must catch every change
      // parseFql would mis-read, never leaving it to the IR cross-check or to parseFql's errors.
      const r = random(7)
      const noise = ['and', 'or', '(', ')', '!', '=', '==', '"x"', 'foo', ',', 'exists', 'null', 'true', '5', 'AND', "'x'", '.', '>', 'not']
      let accepted = 0
      for (let attempt = 0; attempt < 1500; attempt++) {
        const tokens = level(r, false).split(' ')
        const at = r(tokens.length + 1)
        switch (r(4)) {
          case 0: tokens.splice(at, 0, noise[r(noise.length)]); break
          case 1: tokens.splice(at, 1); break
          case 2: tokens.splice(at, 1, noise[r(noise.length)]); break
          default: tokens.splice(at, 2, tokens.slice(at, at + 2).join(''))
        }
        const fql = tokens.join(' ')
        let predicate
        try {
          predicate = compileSubscription(fql, POINTER)
        } catch (error) {
          expect(error, fql).to.be.instanceOf(MappingError)
          expect((error as Error).message, fql).not.to.match(/would be read by Segment|rejected by Segment's parser/)
          continue
        }
        accepted++
        const ir = parseFql(fql)
        for (const event of [...EVENTS, ...quirky]) expect(predicate(event), fql).to.equal(validate(ir, event))
      }
      expect(accepted).to.be.greaterThan(50)
    })
  })

  describe('rejections', () => {
    const cases: Array<[fql: string, ...expected: string[]]> = [
      // Precedence: parseFql joins a level with its last conjunction.
      ['type = "track" and event = "A" or type = "page"', '`type = "track" and event = "A" or type = "page"` mixes "and" and "or" without parentheses',
        'reading `type = "track" or event = "A" or type = "page"`',
        'Write `(type = "track" and event = "A") or type = "page"` or `type = "track" and (event = "A" or type = "page")`'],
      ['type = "identify" or type = "group" and traits.plan = "team"', 'mixes "and" and "or"', 'reading `type = "identify" and type = "group" and traits.plan = "team"`'],
      ['event = "A" and (type = "a" and type = "b" or type = "c")', '`type = "a" and type = "b" or type = "c"` mixes', 'Parentheses cannot nest'],
      ['(type = "a" or type = "b") or event = "x" and (event = "y")', 'mixes "and" and "or"', 'Parentheses cannot nest'],
      // Tokens parseFql swallows or skips.
      ['event exists or type = "track"', '`event exists or`', 'takes the `or` after `exists` as its value', 'Put `event exists` last in its level'],
      ['traits.email exists or type = "identify"', 'Write `traits.email != null` instead'],
      ['event = "A" foo', '`foo` after `event = "A"` at column 13', "would skip it silently"],
      ['event = "A" type = "track"', '`type` after `event = "A"`', '`and`, `or` or the end was expected'],
      ['properties.a = "x" , type = "y"', 'has a `,` after `properties.a = "x"`', 'join conditions with `and` or `or`'],
      ['event = "A" and', 'dangling `and` at column 13'],
      ['and event = "A"', 'starts with `and` at column 1'],
      ['event = "A" and or type = "x"', 'two conjunctions in a row'],
      ['event = "A" OR event = "B"', '`OR` at column 13', 'write `or` in lower case'],
      ['event = "A" or(type = "track")', '`or` directly followed by `(`', 'put a space before the `(`'],
      ['event = "A")', 'a `)` at column 12 with no matching `(`'],
      ['event = "A"and type = "track"', '`"A"` at column 9 directly followed by more text', 'another string `"and type = "`', 'Put a space after the closing quote'],
      // Operators and values.
      ['event == "A"', '`=` after `event =` at column 8 where a value was expected', 'FQL equality is a single `=`'],
      ['properties.x <> 5', '`>` after `properties.x <`'],
      ['properties.x <=5', "needs a space after `<=`"],
      ['event in ("a", "b")', '`in` after `event` at column 7', 'one of = != < <= > >= or `exists`'],
      ['event not exists', '`not` after `event`'],
      ["event = 'Signed Up'", "`'Signed Up'` at column 9", 'keeps single quotes as part of the value', 'use double quotes: "Signed Up"'],
      ['event = Signed Up', 'unquoted `Signed`', 'quote text values: `event = "Signed"`', 'keeps only the first word'],
      ['event = "a\\"b"', '`"a\\"`', 'strings have no escapes'],
      ['properties.x = -', '`-` at column 16, which is not a number'],
      ['properties.x = .5', '`.` after `properties.x =`'],
      ['properties.x = 1e5', '`e5` after `properties.x = 1`'],
      ['properties.date > "2020-01-01"', '`properties.date > "2020-01-01"`', '> compares numbers only', 'Number("2020-01-01")'],
      ['properties.x >= true', '>= compares numbers only'],
      ['event < 5', '`event` is text and never a number'],
      ['properties.x != true', "reads `!= true` as \"is not the text 'true'\"", 'Write `properties.x = false`'],
      ['event = null', 'compares `event` with the text "null"', 'cannot test that `event` is missing'],
      ['type != null', 'compares `type` with the text "null"', 'Write `type exists`'],
      ['event = true', '`event` is text, so quote the value: `event = "true"`'],
      ['userId = 42', 'quote the value: `userId = "42"`'],
      // Fields.
      ['type = "track" and Event = "A"', 'unknown field `Event` at column 20', 'silently drops it', 'write `event`'],
      ['foo = "x"', 'unknown field `foo`', 'Fields are type, event, name, userId'],
      ['properties.x = "a" and toString = "b"', '`toString` is a built-in JavaScript property'],
      ['properties.__proto__ exists', '`__proto__` is a built-in JavaScript property'],
      ['properties = "x"', '`properties` at column 1 without a key'],
      ['type.foo = "track"', '`type` has no keys', 'ignore `.foo`'],
      ['properties.items.0.sku = "x"', 'a key name must follow `.`', 'escape it: `properties.items.\\0`'],
      ['properties.or = 1', '`or` is a keyword, escape it: `properties.\\or`'],
      ['properties.a\\.b = "x"', 'splits keys at "."'],
      ['properties..x = "x"', '`properties..`', 'a key name must follow `.`'],
      // Negation and functions.
      ['not event = "A"', '`not` at column 1', 'no "not"'],
      ['!(event = "A")', '`!` at column 1 before something other than contains() or match()'],
      ['!event = "A"', 'drops that `!`'],
      ['foo(event, "x")', 'unknown function `foo(`'],
      ['Contains(event, "x")', 'unknown function `Contains(`', '(lower case)'],
      ['event = "A" and contains(type, "x")', '`contains(type, "x")`', 'drops contains() on `type` entirely'],
      ['contains(properties, "x")', '`properties` at column 10 without a key'],
      ['contains(propertiesX.a, "x")', 'unknown field `propertiesX.a`'],
      ['contains(event "x")', '`"x"` in contains() at column 16 where `,` was expected'],
      ['contains(event, "a", "b")', 'where `)` was expected', 'exactly two arguments'],
      ['contains(event, 5)', 'must be a double-quoted string'],
      ['match(event, "Sign")', '`match(event, "Sign")`', 'reads this one as "ends with "ign""', 'Write `event = "Sign"`'],
      ['match(event, "*Sign*")', 'as "starts with "*Sign""', 'one leading or trailing * only'],
      ['match(event, "S*p")', 'as "ends with "*p""'],
      // Parentheses.
      ['(contains(event, "a") or event = "b") and type = "track"', '`contains(event, "a")` inside parentheses with more after it',
        '`or event = "b"` falls out of the group', 'Put the contains()/match() clause last'],
      ['event = "A" and (type = "track" or (type = "page" and name = "x"))', 'nests parentheses at column 36'],
      ['((event = "A"))', 'nests parentheses at column 2'],
      ['(event = "A"', 'a `(` at column 1 that is never closed'],
      ['event = "A" and ()', 'empty parentheses at column 17'],
      // The lexer's own errors, which parseFql turns into "Cannot read properties of undefined".
      ['event = "A" && type = "track"', 'invalid character "&" at column 13', 'write `and` / `or` instead of `&&` / `||`'],
      ['event = "A" || type = "track"', 'invalid character "|"'],
      ['event = "unterminated', 'unterminated string', 'close the string'],
      ['! contains(event, "A")', "expected '=' after '!'"],
      ['event!="A"', "expected '=' after '!'"],
      ['properties.x>5', 'put a space between a field and its operator'],
      ['properties.a[0] = "x"', 'no [index] syntax'],
      ['properties.x =~ "a"', 'invalid character "~"'],
      ['type = "track"\nand event = A', 'unquoted `A`', 'line 2, column 13'],
      // Nothing at all.
      ['', 'is empty'],
      ['   \n\t', 'is empty']
    ]

    for (const [fql, ...expected] of cases) {
      it(`refuses ${JSON.stringify(fql)}`, () => {
        const error = rejection(fql)
        expect(error.pointer).to.equal(POINTER)
        expect(error.message.startsWith(`${POINTER}: FQL `), error.message).to.equal(true)
        for (const part of expected) expect(error.detail).to.contain(part)
      })
    }

    it('refuses a subscribe that is not a string', () => {
      expect(rejection(42).detail).to.contain('must be an FQL string')
      expect(rejection(null).detail).to.contain('got null')
    })

    it('accepts the well-formed variants of the refused forms', () => {
      for (const fql of [
        '(type = "track" and event = "A") or type = "page"',
        'type = "track" and (event = "A" or type = "page")',
        'type = "track" or event exists',
        'traits.email != null or type = "identify"',
        'event = "A" and type = "track"',
        'event = "A" or (type = "track")',
        'event="A"',
        'event = "A" and type = "track"',
        '(event = "b" or contains(event, "a")) and type = "track"',
        '(contains(event, "a")) and type = "track"',
        'properties.x <= 5',
        'properties.x = -.5',
        'properties.x = 0.5',
        'properties.\\or = 1',
        'properties.plan-type = "x"',
        'properties.a\\ b = "x"',
        'match(event, "*")',
        '!match(event, "Sign*") and !contains(event, "Up")',
        'name = null or userId != null',
        '  type = "track"  '
      ]) {
        expect(() => compileSubscription(fql, POINTER), fql).not.to.throw()
      }
    })
  })

  describe("parseFql's behaviour the lint relies on", () => {
    // If an upgrade of @segment/destination-subscriptions changes any of these, the lint's
    // reasons (and perhaps its rules) need revisiting.
    const read = (fql: string): string => {
      const ir: Subscription = parseFql(fql)
      return 'error' in ir ? `error: ${ir.error.message}` : generateFql(ir)
    }

    it('still mis-reads what the lint refuses', () => {
      expect(read('event = "A" and type = "track" or type = "page"')).to.equal('event = "A" or type = "track" or type = "page"')
      expect(read('event = "A" or type = "track" and type = "page"')).to.equal('event = "A" and type = "track" and type = "page"')
      expect(read('event exists or type = "track"')).to.equal('event != null and type = "track"')
      expect(read('match(event, "Sign")')).to.equal('match(event, "*ign")')
      expect(read("event = 'A'")).to.equal('event = "\'A\'"')
      expect(read('event == "A"')).to.equal('event = "="')
      expect(read('event = "A" foo')).to.equal('event = "A"')
      expect(read('event = "A" OR event = "B"')).to.equal('event = "A" and event = "B"')
      expect(read('type = "track" and Event = "A"')).to.equal('type = "track"')
      expect(read('!(event = "A")')).to.equal('event = "A"')
      expect(read('event = null')).to.equal('event = "null"')
      expect(read('(contains(event, "a") or event = "b") and type = "track"')).to.equal('contains(event, "a") and event = "b" and type = "track"')
      expect(read('event = "A"and type = "track"')).to.equal('event = "A"')
      expect(read('event = "A" && type = "track"')).to.equal("error: Cannot read properties of undefined (reading 'type')")
      expect(parseFql('match(event, "*Sign*")')).to.deep.include({ children: [{ type: 'event', operator: 'starts_with', value: '*Sign' }] })
    })
  })
})
