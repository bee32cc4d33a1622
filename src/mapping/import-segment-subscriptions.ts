/**
 * Converts Segment's own export of a Koala (Cloud) destination's subscriptions into a
 * mapping file: a Public API "list subscriptions" response, or `terraform show -json`
 * output holding `segment_destination_subscription` resources. Pure: the caller reads
 * the files and prints the result and the notes.
 */
import { AdapterError } from '../errors'
import { childPointer } from '../json/json-pointer'
import { Subscription, type PartnerAction } from './mapping-file-schema'
import { segmentExportKind, type SegmentExportKind } from './segment-export-shape'

/** Something of the export that did not come over as it was, at its JSON pointer in the export. */
export type ImportNote = { pointer: string; message: string }

export type ImportResult = {
  kind: SegmentExportKind
  /** The mapping file: the base file's settings with the imported subscriptions. */
  mapping: Record<string, unknown>
  imported: number
  found: number
  notes: ImportNote[]
}

/** Segment's Koala (Cloud) action slugs and the partner action each becomes. */
const KOALA_ACTIONS: Readonly<Record<string, PartnerAction>> = Object.freeze({ track: 'track', identify: 'identify' })

/** Segment's per-subscription batching settings: the adapter batches per person on its own. */
const BATCH_SETTINGS = new Set(['enable_batching', 'batch_size', 'batch_keys', 'batch_bytes'])

const TERRAFORM_TYPE = 'segment_destination_subscription'

type ExportedSubscription = {
  pointer: string
  name: unknown
  enabled: unknown
  trigger: unknown
  slug: unknown
  modelId: unknown
  settings: unknown
}

/**
 * Builds a mapping file from a Segment export. `base` is a mapping file (the default one)
 * whose settings (version, Koala key reference, auth, identity, skip) the result takes, and
 * whose subscriptions fill a required field the export lacks. Throws INPUT_INVALID when the
 * document is neither kind of export.
 */
export function importSegmentSubscriptions(document: unknown, base: Record<string, unknown>): ImportResult {
  const kind = segmentExportKind(document)
  if (kind === undefined) {
    throw new AdapterError(
      'INPUT_INVALID',
      'not a Segment export: expected a Public API subscriptions response ({"data": {"subscriptions": [...]}}) or `terraform show -json` output'
    )
  }
  const exported = kind === 'public-api' ? fromPublicApi(document as PublicApiResponse) : fromTerraform(document as Record<string, unknown>)
  const notes: ImportNote[] = []
  const subscriptions = exported.flatMap((subscription) => {
    const converted = convert(subscription, base, notes)
    return converted === undefined ? [] : [converted]
  })
  const { subscriptions: _ignored, ...settings } = base
  return { kind, mapping: { ...settings, subscriptions }, imported: subscriptions.length, found: exported.length, notes }
}

type PublicApiResponse = { data: { subscriptions: unknown[] } }

function fromPublicApi(document: PublicApiResponse): ExportedSubscription[] {
  return document.data.subscriptions.map((item, index) => {
    const subscription = isRecord(item) ? item : {}
    return {
      pointer: childPointer('/data/subscriptions', index),
      name: subscription.name,
      enabled: subscription.enabled,
      trigger: subscription.trigger,
      slug: subscription.actionSlug,
      modelId: subscription.modelId,
      settings: subscription.settings
    }
  })
}

/** Every subscription resource of the state or plan, in the root module and its child modules. */
function fromTerraform(document: Record<string, unknown>): ExportedSubscription[] {
  const found: ExportedSubscription[] = []
  const walk = (module: unknown, pointer: string): void => {
    if (!isRecord(module)) return
    const resources = Array.isArray(module.resources) ? module.resources : []
    resources.forEach((resource: unknown, index) => {
      if (!isRecord(resource) || resource.type !== TERRAFORM_TYPE || !isRecord(resource.values)) return
      const values = resource.values
      found.push({
        pointer: childPointer(childPointer(pointer, 'resources'), index),
        name: values.name,
        enabled: values.enabled,
        trigger: values.trigger,
        slug: values.action_slug,
        modelId: values.model_id,
        settings: values.settings
      })
    })
    const children = Array.isArray(module.child_modules) ? module.child_modules : []
    children.forEach((child: unknown, index) => walk(child, childPointer(childPointer(pointer, 'child_modules'), index)))
  }
  const top = isRecord(document.values) ? 'values' : 'planned_values'
  walk((document[top] as Record<string, unknown>).root_module, `/${top}/root_module`)
  return found
}

function convert(subscription: ExportedSubscription, base: Record<string, unknown>, notes: ImportNote[]): Record<string, unknown> | undefined {
  const { pointer } = subscription
  const skip = (why: string): undefined => {
    notes.push({ pointer, message: `subscription ${describeName(subscription.name)} not imported: ${why}` })
    return undefined
  }
  if (typeof subscription.modelId === 'string' && subscription.modelId !== '') {
    return skip('it is a Reverse ETL subscription (it has a model id); the adapter maps events, not warehouse rows')
  }
  if (typeof subscription.trigger !== 'string' || subscription.trigger.trim() === '') return skip('it has no trigger')
  const settings = settingsOf(subscription.settings)
  if (settings === undefined) return skip('its settings are not a JSON object of fields')
  const action = partnerActionOf(subscription.slug, subscription.trigger, settings)
  if (typeof action === 'string' && !Object.hasOwn(KOALA_ACTIONS, action)) {
    return skip(`its action "${action}" is not one of Koala's (${Object.keys(KOALA_ACTIONS).join(', ')})`)
  }
  if (action === undefined) {
    return skip(`it names no action slug, and neither its fields nor its trigger say whether it is ${Object.keys(KOALA_ACTIONS).join(' or ')}; add "action_slug"`)
  }
  const partnerAction = typeof action === 'string' ? KOALA_ACTIONS[action] : action.inferred
  if (typeof action !== 'string') {
    notes.push({ pointer, message: `subscription ${describeName(subscription.name)} names no action slug: imported as ${partnerAction}, ${action.because}` })
  }

  const fields = partnerActionFields(partnerAction)
  const mapping: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(settings)) {
    if (fields.has(field)) mapping[field] = value
    else if (BATCH_SETTINGS.has(field)) {
      notes.push({ pointer, message: `"${field}" not carried over: the adapter batches on its own (per person, up to 30 per Koala request)` })
    } else {
      notes.push({ pointer, message: `"${field}" not carried over: our ${partnerAction} partner action has no such field (it has ${[...fields.keys()].join(', ')})` })
    }
  }
  for (const [field, required] of fields) {
    if (!required || Object.hasOwn(mapping, field)) continue
    const fallback = defaultField(base, partnerAction, field)
    if (fallback === undefined) continue
    mapping[field] = fallback
    notes.push({ pointer, message: `"${field}" is required and was missing: taken from the default mapping` })
  }

  const name = typeof subscription.name === 'string' && subscription.name !== '' ? subscription.name : `${partnerAction} (imported)`
  return {
    name,
    subscribe: subscription.trigger,
    partnerAction,
    ...(subscription.enabled === false ? { enabled: false } : {}),
    mapping
  }
}

/** Terraform holds settings as a JSON string, the Public API as an object. */
function settingsOf(settings: unknown): Record<string, unknown> | undefined {
  if (settings === undefined || settings === null) return {}
  if (typeof settings === 'string') {
    try {
      return settingsOf(JSON.parse(settings))
    } catch {
      return undefined
    }
  }
  return isRecord(settings) ? settings : undefined
}

type Inferred = { inferred: PartnerAction; because: string }

/** The slug as given, or (Terraform's state often lacks action_slug) the Koala action its fields or trigger show. */
function partnerActionOf(slug: unknown, trigger: string, settings: Record<string, unknown>): string | Inferred | undefined {
  if (typeof slug === 'string' && slug !== '') return slug
  if (Object.hasOwn(settings, 'event')) return { inferred: 'track', because: 'as it has an "event" field; check it' }
  const types = [...trigger.matchAll(/\btype\s*=\s*"(\w+)"/g)].map((match) => match[1])
  if (types.length > 0 && types.every((type) => type === 'identify')) return { inferred: 'identify', because: 'as its trigger takes identify calls; check it' }
  if (types.length > 0 && types.every((type) => type === 'track')) return { inferred: 'track', because: 'as its trigger takes track calls; check it' }
  return undefined
}

type SchemaNode = { _zod: { def: Record<string, unknown> & { type: string } } }

/** The mapping fields of a partner action, read from the schema (so new fields come over unchanged), and whether each is required. */
function partnerActionFields(action: PartnerAction): Map<string, boolean> {
  const options = (Subscription as unknown as SchemaNode)._zod.def.options as SchemaNode[]
  for (const option of options) {
    const shape = option._zod.def.shape as Record<string, SchemaNode>
    if (!(shape.partnerAction._zod.def.values as unknown[]).includes(action)) continue
    const fields = shape.mapping._zod.def.shape as Record<string, SchemaNode>
    return new Map(Object.entries(fields).map(([name, schema]) => [name, schema._zod.def.type !== 'optional']))
  }
  return new Map()
}

function defaultField(base: Record<string, unknown>, action: PartnerAction, field: string): unknown {
  const subscriptions = Array.isArray(base.subscriptions) ? base.subscriptions : []
  const match = subscriptions.find((subscription: unknown) => isRecord(subscription) && subscription.partnerAction === action) as
    | { mapping?: Record<string, unknown> }
    | undefined
  return match?.mapping?.[field]
}

function describeName(name: unknown): string {
  return typeof name === 'string' && name !== '' ? JSON.stringify(name) : '(unnamed)'
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
