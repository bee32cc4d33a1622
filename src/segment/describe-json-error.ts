/**
 * V8's JSON.parse message without the quoted excerpt of the input it appends ("…",
 * "{"email":…" is not valid JSON): an excerpt could hold an email, and no answer or
 * report may echo what a sender sent.
 */
export function describeJsonError(error: Error): string {
  return error.message.replace(/, ".*" is not valid JSON$/s, '').replace(/^Unexpected token '(.)', .*$/s, "Unexpected token '$1'")
}
