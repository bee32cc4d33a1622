/**
 * Recognises what Segment itself exports for a destination's subscriptions, so `check`
 * can name it and `import` can read it: the Public API's subscription objects (`trigger`,
 * `actionId`, `actionSlug`, `settings`) and Terraform's `segment_destination_subscription`
 * resources (`action_id`, `action_slug`, `model_id`, `settings` as a JSON string).
 */

/** Keys a Segment Public API / Terraform subscription has and a mapping file's subscription has not. */
export const SEGMENT_SUBSCRIPTION_KEYS: readonly string[] = Object.freeze([
  'trigger',
  'actionId',
  'actionSlug',
  'settings',
  'destinationId',
  'modelId',
  'action_id',
  'action_slug',
  'destination_id',
  'model_id',
  'reverse_etl_schedule'
])

export type SegmentExportKind = 'public-api' | 'terraform'

/** The Segment keys of one subscription object (empty when it is not in Segment's shape). */
export function segmentKeysOf(subscription: unknown): string[] {
  if (!isRecord(subscription)) return []
  return SEGMENT_SUBSCRIPTION_KEYS.filter((key) => Object.hasOwn(subscription, key))
}

/** Which Segment export a whole document is: a Public API response or `terraform show -json` output. */
export function segmentExportKind(document: unknown): SegmentExportKind | undefined {
  if (!isRecord(document)) return undefined
  const data = document.data
  if (isRecord(data) && Array.isArray(data.subscriptions)) return 'public-api'
  if (typeof document.format_version === 'string' && (isRecord(document.values) || isRecord(document.planned_values))) return 'terraform'
  return undefined
}

export const SEGMENT_EXPORT_NAMES: Readonly<Record<SegmentExportKind, string>> = Object.freeze({
  'public-api': "Segment's Public API list of a destination's subscriptions",
  terraform: '`terraform show -json` output'
})

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
