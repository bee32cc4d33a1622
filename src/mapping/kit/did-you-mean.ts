import { closestName } from '../closest-name'

/** Returns ` (did you mean x?)` for the candidate closest to `word`, or '' when none is a likely typo. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const best = closestName(word, candidates)
  return best !== undefined ? ` (did you mean ${best}?)` : ''
}
