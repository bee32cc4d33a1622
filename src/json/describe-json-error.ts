/**
 * V8's JSON.parse message without the excerpt of the input it may quote ("…", "{"email":…"
 * is not valid JSON): an excerpt could hold an email, and no answer or report may echo
 * what a sender sent.
 */
export function describeJsonError(error: Error): string {
  const message = error.message
    .replace(/^Unexpected token '(.)', .*$/s, "Unexpected token '$1'")
    .replace(/(?:, )?".*" is not valid JSON$/s, '')
  return message === '' ? 'not a JSON value' : message
}
