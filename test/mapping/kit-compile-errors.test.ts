/** Every compile-time error of the mapping-kit compiler: where it points and what it says. */
import { expect } from 'chai'
import { MappingError } from '../../src/errors'
import { compileMappingKit, compileValue, MAX_MAPPING_DEPTH } from '../../src/mapping/kit/compile-mapping-kit'
import { compilePath } from '../../src/mapping/kit/compile-path'

function errorOf(compile: () => unknown): MappingError {
  try {
    compile()
  } catch (error) {
    expect(error).to.be.instanceOf(MappingError)
    return error as MappingError
  }
  throw new Error('expected a MappingError')
}

/** Compiles `{ x: directive }` at /m and checks the error's pointer and message. */
function expectError(directive: unknown, pointer: string, message: RegExp): void {
  const error = errorOf(() => compileMappingKit({ x: directive }, '/m'))
  expect(error.pointer, error.message).to.equal(pointer)
  expect(error.detail).to.match(message)
  expect(error.message).to.equal(`${pointer}: ${error.detail}`)
}

describe('mapping-kit compile errors', () => {
  describe('directive objects', () => {
    it('names an unknown directive and suggests the closest one', () => {
      expectError({ '@paht': '$.a' }, '/m/x/@paht', /unknown directive @paht \(did you mean @path\?\); the directives are @path, @template/)
      expectError({ '@Template': 'x' }, '/m/x/@Template', /did you mean @template\?/)
      expectError({ '@nonsense': 1 }, '/m/x/@nonsense', /^unknown directive @nonsense; the directives are/)
    })

    it('refuses two @-keys, pointing at the second', () => {
      expectError({ '@path': '$.a', '@template': 'x' }, '/m/x/@template', /exactly one @-key, but @path and @template share this one/)
    })

    it('refuses other keys next to the directive, except "_metadata"', () => {
      expectError({ '@path': '$.a', fallback: 'x' }, '/m/x/fallback', /"fallback" cannot sit next to @path/)
    })

    it('points into nested values', () => {
      expectError({ '@if': { exists: { '@path': '$.a' }, then: { deep: [{ '@paht': '$.b' }] } } }, '/m/x/@if/then/deep/0/@paht', /did you mean @path/)
    })

    it('escapes pointer tokens as RFC 6901 says', () => {
      const error = errorOf(() => compileMappingKit({ 'a/b~c': { '@paht': 'x' } }, '/m'))
      expect(error.pointer).to.equal('/m/a~1b~0c/@paht')
    })
  })

  describe('@liquid', () => {
    it('refuses a template that is not a string, as Segment does, pointing at the directive', () => {
      for (const operand of [123, {}, [], true, null, { '@path': '$.tpl' }]) {
        expectError({ '@liquid': operand }, '/m/x/@liquid', /^@liquid takes a Liquid template string such as "Hello \{\{ properties.name \}\}"; got /)
      }
    })

    it('refuses a template over 1000 characters (Segment fails every event on it), saying how long it is', () => {
      compileMappingKit({ x: { '@liquid': '{{ a }}' + 'a'.repeat(993) } }, '/m')
      expectError({ '@liquid': '{{ a }}' + 'a'.repeat(994) }, '/m/x/@liquid', /^@liquid templates are limited to 1000 characters, as in Segment; this one has 1001$/)
    })

    it('refuses each tag Segment disables (the loops for and tablerow among them), wherever it hides', () => {
      for (const tag of ['case', 'for', 'include', 'layout', 'render', 'tablerow']) {
        expectError({ '@liquid': `{% ${tag} %} , {{ a }}` }, '/m/x/@liquid', new RegExp(`^@liquid tag "${tag}" is disabled in Segment \\(line 1, column 1\\); the disabled tags are case, for, include, layout, render, tablerow$`))
      }
      expectError({ '@liquid': '{% if a %}x{% else %}{% for i in a %}{{ i }}{% endfor %}{% endif %}' }, '/m/x/@liquid', /^@liquid tag "for" is disabled in Segment \(line 1, column 22\)/)
      expectError({ '@liquid': '{% liquid\n  assign b = a\n  tablerow i in b\n  endtablerow %}' }, '/m/x/@liquid', /^@liquid tag "tablerow" is disabled in Segment \(line 3, column 3\)/)
    })

    it('refuses each filter Segment disables, even in a branch that may never run', () => {
      const disabled = ['array_to_sentence_string', 'concat', 'find', 'find_exp', 'find_index', 'find_index_exp', 'group_by', 'group_by_exp', 'has', 'has_exp',
        'map', 'newline_to_br', 'reject', 'reject_exp', 'reverse', 'sort', 'sort_natural', 'uniq', 'where_exp', 'type']
      for (const filter of disabled) {
        expectError({ '@liquid': `{{ a | ${filter} }}` }, '/m/x/@liquid', new RegExp(`^@liquid filter "${filter}" is disabled in Segment \\(line 1, column 1\\); the disabled filters are array_to_sentence_string, `))
      }
      expectError({ '@liquid': '{% if false %}{% assign b = a | sort %}{% endif %}' }, '/m/x/@liquid', /^@liquid filter "sort" is disabled/)
      expectError({ '@liquid': 'x {% echo a | upcase | reverse %}' }, '/m/x/@liquid', /^@liquid filter "reverse" is disabled in Segment \(line 1, column 3\)/)
    })

    it('refuses an unknown filter (Segment passes the value through unchanged), suggesting the closest one', () => {
      expectError({ '@liquid': 'Hi {{ a | upcaes }}' }, '/m/x/@liquid', /^@liquid has no filter "upcaes" \(did you mean upcase\?\) \(line 1, column 4\)$/)
      expectError({ '@liquid': '{{ a | nonsense_filter_name }}' }, '/m/x/@liquid', /^@liquid has no filter "nonsense_filter_name" \(line 1, column 1\)$/)
    })

    it('refuses a template that does not parse (Segment fails every event on it), saying where', () => {
      expectError({ '@liquid': '{% if a %}yes' }, '/m/x/@liquid', /^@liquid template does not parse: tag \{% if a %\} not closed \(line 1, column 1\)$/)
      expectError({ '@liquid': 'ok\n{{ a' }, '/m/x/@liquid', /^@liquid template does not parse: output "\{\{ a" not closed \(line 2, column 1\)$/)
      expectError({ '@liquid': '{% bogus %}' }, '/m/x/@liquid', /^@liquid template does not parse: tag "bogus" not found \(line 1, column 1\)$/)
    })

    it('points at a template nested in other directives', () => {
      expectError({ '@arrayPath': ['$.items', { n: { '@liquid': '{% for i in a %}{% endfor %}' } }] }, '/m/x/@arrayPath/1/n/@liquid', /tag "for" is disabled/)
    })
  })

  describe('option objects', () => {
    it('names an unknown option key, suggests the right one and lists the allowed keys', () => {
      expectError({ '@if': { exist: { '@path': '$.a' }, then: 1 } }, '/m/x/@if/exist', /unknown @if option "exist" \(did you mean exists\?\); the options are exists, blank, then, else/)
      expectError({ '@replace': { patern: 'a', value: 'b' } }, '/m/x/@replace/patern', /unknown @replace option "patern" \(did you mean pattern\?\)/)
      expectError({ '@if': { exists: { '@path': '$.a' }, thn: 1 } }, '/m/x/@if/thn', /did you mean then\?/)
    })

    it('wants an options object, not a string, array or directive', () => {
      expectError({ '@if': '$.a' }, '/m/x/@if', /@if takes an options object \{ "exists", "blank", "then", "else" \}; got the string "\$.a"/)
      expectError({ '@json': [] }, '/m/x/@json', /@json takes an options object .*; got an array/)
      expectError({ '@case': { '@path': '$.a' } }, '/m/x/@case', /got a @path directive/)
    })
  })

  describe('@if', () => {
    it('needs exactly one of exists/blank', () => {
      expectError({ '@if': { then: 1 } }, '/m/x/@if', /needs an "exists" or a "blank" condition/)
      expectError({ '@if': { exists: { '@path': '$.a' }, blank: { '@path': '$.a' }, then: 1 } }, '/m/x/@if/blank', /either "exists" or "blank", not both/)
    })

    it('refuses a falsy constant condition, which fails every event in Segment', () => {
      expectError({ '@if': { exists: false, then: 1 } }, '/m/x/@if/exists', /@if "exists" is false; Segment treats a falsy condition as missing/)
      expectError({ '@if': { blank: '', then: 1 } }, '/m/x/@if/blank', /@if "blank" is the string ""/)
      expectError({ '@if': { exists: null, then: 1 } }, '/m/x/@if/exists', /is null/)
    })

    it('needs then or else', () => {
      expectError({ '@if': { exists: { '@path': '$.a' } } }, '/m/x/@if', /needs "then" and\/or "else"/)
    })
  })

  describe('@case', () => {
    it('wants operator "lower" or "upper" in lower case', () => {
      expectError({ '@case': { operator: 'LOWER', value: 'x' } }, '/m/x/@case/operator', /"operator" must be "lower" or "upper" \(lower case\); got the string "LOWER"/)
      expectError({ '@case': { value: 'x' } }, '/m/x/@case', /@case is missing its "operator" option/)
    })

    it('wants a string or directive value', () => {
      expectError({ '@case': { operator: 'lower' } }, '/m/x/@case', /is missing its "value" option/)
      expectError({ '@case': { operator: 'lower', value: 5 } }, '/m/x/@case/value', /@case "value" must be a string or a directive; got 5/)
    })
  })

  describe('@replace', () => {
    it('checks pattern and replacement lengths (Segment: 1..10 and 0..10)', () => {
      expectError({ '@replace': { pattern: 'abcdefghijk', value: 'x' } }, '/m/x/@replace/pattern', /"pattern" must be a string of 1 to 10 characters; "abcdefghijk" has 11/)
      expectError({ '@replace': { pattern: '', value: 'x' } }, '/m/x/@replace/pattern', /1 to 10 characters; "" has 0/)
      expectError({ '@replace': { pattern: 'a', replacement: '01234567890', value: 'x' } }, '/m/x/@replace/replacement', /at most 10 characters/)
      expectError({ '@replace': { pattern: 'a', pattern2: 'abcdefghijk', value: 'x' } }, '/m/x/@replace/pattern2', /1 to 10 characters/)
      expectError({ '@replace': { pattern: 'a', pattern2: 'b', replacement2: '01234567890', value: 'x' } }, '/m/x/@replace/replacement2', /at most 10/)
    })

    it('checks option types', () => {
      expectError({ '@replace': { pattern: 1, value: 'x' } }, '/m/x/@replace/pattern', /must be a string of 1 to 10 characters; got 1/)
      expectError({ '@replace': { pattern: 'a', replacement: null, value: 'x' } }, '/m/x/@replace/replacement', /got null/)
      expectError({ '@replace': { pattern: 'a', value: 'x', ignorecase: 'yes' } }, '/m/x/@replace/ignorecase', /"ignorecase" must be true or false/)
      expectError({ '@replace': { pattern: 'a', value: 'x', global: 1 } }, '/m/x/@replace/global', /"global" must be true or false/)
      expectError({ '@replace': { pattern: 'a', value: 3 } }, '/m/x/@replace/value', /must be a string or a directive; got 3/)
      expectError({ '@replace': { pattern: 'a' } }, '/m/x/@replace', /is missing its "value" option/)
    })

    it('refuses replacement2 without pattern2', () => {
      expectError({ '@replace': { pattern: 'a', replacement2: 'b', value: 'x' } }, '/m/x/@replace/replacement2', /no "pattern2" to go with it/)
    })
  })

  describe('@arrayPath', () => {
    it('wants [path, itemShape?]', () => {
      expectError({ '@arrayPath': '$.a' }, '/m/x/@arrayPath', /takes \[path, itemShape\]/)
      expectError({ '@arrayPath': [] }, '/m/x/@arrayPath', /takes \[path, itemShape\]/)
      expectError({ '@arrayPath': ['$.a', { b: 1 }, 'extra'] }, '/m/x/@arrayPath', /takes \[path, itemShape\]/)
      expectError({ '@arrayPath': [5, { b: 1 }] }, '/m/x/@arrayPath/0', /path must be a string or a directive; got 5/)
    })

    it('wants a non-empty object item shape', () => {
      expectError({ '@arrayPath': ['$.a', {}] }, '/m/x/@arrayPath/1', /item shape must be a non-empty object or a directive; got an object/)
      expectError({ '@arrayPath': ['$.a', 'id'] }, '/m/x/@arrayPath/1', /got the string "id"/)
    })
  })

  describe('paths and templates', () => {
    it('refuses __proto__, constructor and prototype in any path', () => {
      expectError({ '@path': '$.__proto__.x' }, '/m/x/@path', /path "\$.__proto__.x" uses the key "__proto__", which would read JavaScript's object prototype/)
      expectError({ '@path': "$.a['constructor']" }, '/m/x/@path', /uses the key "constructor"/)
      expectError({ '@path': '$.a.prototype' }, '/m/x/@path', /uses the key "prototype"/)
      expectError({ '@arrayPath': ['$.constructor'] }, '/m/x/@arrayPath/0', /uses the key "constructor"/)
      expectError({ '@template': 'Hi {{ traits.constructor.name }}' }, '/m/x/@template', /template placeholder \{\{traits.constructor.name\}\} uses the key "constructor"/)
      expectError({ '@template': '{{{__proto__}}}' }, '/m/x/@template', /\{\{\{__proto__\}\}\} uses the key "__proto__"/)
      expect(errorOf(() => compilePath('$.constructor', '/identity/email/paths/0')).pointer).to.equal('/identity/email/paths/0')
    })

    it('wants a string or directive for @path and @template', () => {
      expectError({ '@path': 5 }, '/m/x/@path', /@path takes a path such as "\$.traits.email" \(or a directive that yields one\); got 5/)
      expectError({ '@path': { a: 1 } }, '/m/x/@path', /got an object/)
      expectError({ '@template': ['a'] }, '/m/x/@template', /@template takes a string .*; got an array/)
    })
  })

  describe('@json', () => {
    it('wants mode "encode" or "decode" in lower case', () => {
      expectError({ '@json': { mode: 'ENCODE', value: { '@path': '$.a' } } }, '/m/x/@json/mode', /"mode" must be "encode" or "decode" \(lower case\)/)
      expectError({ '@json': { value: { '@path': '$.a' } } }, '/m/x/@json', /is missing its "mode" option/)
    })

    it('refuses a missing or falsy constant value', () => {
      expectError({ '@json': { mode: 'encode' } }, '/m/x/@json', /is missing its "value" option/)
      expectError({ '@json': { mode: 'encode', value: 0 } }, '/m/x/@json/value', /@json "value" is 0; Segment treats a falsy value as missing/)
    })
  })

  describe('@flatten', () => {
    it('wants a non-empty string (or directive) separator and a value', () => {
      expectError({ '@flatten': { value: { '@path': '$' } } }, '/m/x/@flatten', /is missing its "separator" option/)
      expectError({ '@flatten': { separator: '', value: { '@path': '$' } } }, '/m/x/@flatten/separator', /must not be empty/)
      expectError({ '@flatten': { separator: 1, value: { '@path': '$' } } }, '/m/x/@flatten/separator', /must be a string or a directive; got 1/)
      expectError({ '@flatten': { separator: '.' } }, '/m/x/@flatten', /is missing its "value" option/)
      expectError({ '@flatten': { separator: '.', value: 1, omitArrays: 'yes' } }, '/m/x/@flatten/omitArrays', /must be true or false/)
    })
  })

  describe('@merge', () => {
    it('wants direction "left" or "right" and an array of objects or directives', () => {
      expectError({ '@merge': { objects: [] } }, '/m/x/@merge', /is missing its "direction" option/)
      expectError({ '@merge': { direction: 'LEFT', objects: [] } }, '/m/x/@merge/direction', /"left" or "right" \(lower case\)/)
      expectError({ '@merge': { direction: 'left', objects: { a: 1 } } }, '/m/x/@merge/objects', /must be an array of objects or directives; got an object/)
      expectError({ '@merge': { direction: 'left', objects: [{ a: 1 }, 'b'] } }, '/m/x/@merge/objects/1', /each @merge object must be an object or a directive; got the string "b"/)
    })
  })

  describe('@transform', () => {
    it('wants apply and mapping, each an object or directive', () => {
      expectError({ '@transform': { mapping: { a: 1 } } }, '/m/x/@transform', /is missing its "apply" option/)
      expectError({ '@transform': { apply: { a: 1 } } }, '/m/x/@transform', /is missing its "mapping" option/)
      expectError({ '@transform': { apply: 'x', mapping: { a: 1 } } }, '/m/x/@transform/apply', /"apply" must be an object or a directive; got the string "x"/)
      expectError({ '@transform': { apply: { a: 1 }, mapping: [1] } }, '/m/x/@transform/mapping', /got an array/)
    })

    it("refuses Segment's internal root key in apply", () => {
      expectError(
        { '@transform': { apply: { __segment_internal_directive: { '@path': '$' } }, mapping: { a: 1 } } },
        '/m/x/@transform/apply/__segment_internal_directive',
        /internal to Segment and not supported/
      )
    })
  })

  describe('@coalesce', () => {
    it('wants a non-empty array', () => {
      expectError({ '@coalesce': { '@path': '$.a' } }, '/m/x/@coalesce', /@coalesce takes a non-empty array of values to try in order; got a @path directive/)
      expectError({ '@coalesce': [] }, '/m/x/@coalesce', /non-empty array/)
    })
  })

  describe('the mapping itself', () => {
    it('must be an object of fields', () => {
      expect(errorOf(() => compileMappingKit([1], '/m')).detail).to.match(/a mapping must be an object of fields .*; got an array/)
      expect(errorOf(() => compileMappingKit('x', '/m')).detail).to.match(/got a string/)
      const directive = errorOf(() => compileMappingKit({ '@path': '$.a' }, '/m'))
      expect(directive.pointer).to.equal('/m/@path')
      expect(directive.detail).to.match(/not a @path directive; put it under a field name/)
    })

    it('refuses "__proto__" keys (parsed from JSON, so they are own keys)', () => {
      const error = errorOf(() => compileMappingKit(JSON.parse('{"a": {"__proto__": {"x": 1}}}'), '/m'))
      expect(error.pointer).to.equal('/m/a/__proto__')
      expect(error.detail).to.match(/may not be "__proto__"/)
    })

    it("refuses Segment's internal root key", () => {
      const error = errorOf(() => compileMappingKit({ __segment_internal_directive: { '@path': '$' }, a: 1 }, '/m'))
      expect(error.pointer).to.equal('/m/__segment_internal_directive')
    })

    it('refuses values that are not JSON', () => {
      expectError(() => 1, '/m/x', /a function is not a JSON value/)
      expectError(new Date(0), '/m/x', /an object of type date is not a JSON value/)
      expectError({ '@literal': [1, 10n] }, '/m/x/@literal/1', /a bigint is not a JSON value/)
    })

    it(`refuses nesting deeper than ${MAX_MAPPING_DEPTH} levels instead of overflowing the stack`, () => {
      let deep: unknown = { '@path': '$.a' }
      for (let i = 0; i < 10_000; i++) deep = { '@literal': deep }
      const error = errorOf(() => compileValue(deep, '/m'))
      expect(error.detail).to.match(/nests deeper than 100 levels/)
    })
  })
})
