import { z } from 'zod'
import { SEGMENT_EVENT_TYPES } from '../segment/event-schema'

/**
 * The mapping file format (one per workspace, `mappings/<workspace>.json`). The type
 * comes from the schema, and `mappings/schema.json` is generated from it, so the
 * three never drift.
 */

export const SecretRef = z
  .strictObject({
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .describe('Name of the environment variable that holds the secret')
  }, {
    error: (issue) =>
      issue.code === 'invalid_type'
        ? 'a secret must be an { "env": "NAME" } reference; put the value itself in that environment variable'
        : undefined
  })
  .describe('A secret, read from the environment at start-up; secrets never sit in the file')
export type SecretRef = z.infer<typeof SecretRef>

const candidatePaths = z
  .array(z.string().min(1))
  .min(1)
  .describe('Paths tried in order, Segment style ("$.traits.email"); the first usable value wins')

export const IdentityConfig = z.strictObject({
  email: z
    .strictObject({
      paths: candidatePaths,
      transform: z
        .array(z.enum(['trim', 'lowercase']))
        .default(['trim', 'lowercase'])
        .describe('Applied in order to the value found')
    })
    .describe('Where the person\'s email lives'),
  profile_id: z
    .strictObject({
      paths: candidatePaths,
      format: z.literal('uuid').default('uuid').describe('Values that are not UUIDs count as missing')
    })
    .describe('Where the Koala profile_id (the ko_id cookie) lives')
})
export type IdentityConfig = z.infer<typeof IdentityConfig>

/** A mapping-kit value: a directive object, or any JSON value (checked when compiled). */
const MappingValue = z.unknown().describe('A mapping-kit value: a directive (@path, @template, @if, ...) or a literal')

const entryFields = {
  sent_at: MappingValue.optional(),
  message_id: MappingValue.optional()
}
// Koala's account identifies carry no context: a group mapping has no such field.
const commonFields = { ...entryFields, context: MappingValue.optional() }
// The fields of Segment's Koala (Cloud) actions that every person's call takes, with Segment's meaning.
const personFields = {
  email: MappingValue.optional().describe('Overrides the workspace identity for this subscription'),
  profile_id: MappingValue.optional().describe('Overrides the workspace identity for this subscription'),
  device_ip: MappingValue.optional().describe('The device IP (Segment: $.context.ip); sent as the entry\'s device_ip and, failing an ip in properties or traits, as the request\'s ip')
}
const eventTraits = MappingValue.optional().describe('The person\'s traits (Segment: $.context.traits); sent on the entry and as the request\'s traits')

/** The fields each partner action reads from its mapping; anything else is a typo. */
const ActionMappings = {
  track: z.strictObject({ ...commonFields, ...personFields, event: MappingValue, properties: MappingValue.optional(), traits: eventTraits }),
  identify: z.strictObject({ ...commonFields, ...personFields, traits: MappingValue.optional() }),
  page: z.strictObject({
    ...commonFields,
    ...personFields,
    name: MappingValue.optional(),
    properties: MappingValue.optional(),
    traits: eventTraits
  }),
  group: z.strictObject({
    ...entryFields,
    domain: MappingValue.optional().describe('Company domain; a URL is reduced to its host'),
    account_id: MappingValue.optional(),
    group_id: MappingValue.optional().describe('Sent as traits.group_id to tell tenants of one domain apart'),
    traits: MappingValue.optional()
  })
} as const
export type PartnerAction = keyof typeof ActionMappings

const subscriptionCommon = {
  name: z.string().min(1).describe('Shown in --explain and logs'),
  subscribe: z.string().describe('Segment FQL, e.g. type = "track"'),
  enabled: z.boolean().default(true)
}

export const Subscription = z.discriminatedUnion('partnerAction', [
  z.strictObject({ ...subscriptionCommon, partnerAction: z.literal('track'), mapping: ActionMappings.track }),
  z.strictObject({ ...subscriptionCommon, partnerAction: z.literal('identify'), mapping: ActionMappings.identify }),
  z.strictObject({ ...subscriptionCommon, partnerAction: z.literal('page'), mapping: ActionMappings.page }),
  z.strictObject({ ...subscriptionCommon, partnerAction: z.literal('group'), mapping: ActionMappings.group })
])
export type Subscription = z.infer<typeof Subscription>

export const MappingFile = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1),
  koala: z.strictObject({
    publicApiKey: SecretRef.describe('Koala public API key (Settings > Install)'),
    baseUrl: z.url().optional().describe('Overrides KOALA_BASE_URL for this workspace')
  }),
  auth: z
    .strictObject({
      sharedSecret: z
        .union([SecretRef, z.array(SecretRef).min(1).max(2)])
        .optional()
        .describe('Webhook X-Signature secret; two during a rotation'),
      writeKeys: z.array(SecretRef).optional().describe('Segment write keys that select this workspace'),
      tokens: z
        .array(SecretRef)
        .min(1)
        .max(2)
        .optional()
        .describe(
          'Webhook bearer tokens (two during a rotation): a request with "Authorization: Bearer <token>" is authenticated whole, batches included. Set the header in the Webhooks (Actions) destination\'s Headers field'
        ),
      trustSignedFirstEvent: z
        .boolean()
        .default(false)
        .describe(
          'Accept an Actions batch authenticated only by X-Signature. RISK: Segment signs only the first event of a batch, so whoever captured one signed request can append any events to it'
        )
    })
    .optional(),
  identity: IdentityConfig,
  skip: z
    .strictObject({
      libraries: z.array(z.string()).default([]).describe('context.library.name values whose events are dropped'),
      types: z
        .array(z.enum(SEGMENT_EVENT_TYPES))
        .default(['track', 'page', 'screen'])
        .describe(
          'Which calls of those libraries are dropped. Default: track, page, screen (what the Koala pixel sees); identifies and groups still go, as duplicates of them are harmless and missing ones lose a person'
        )
    })
    .optional(),
  subscriptions: z.array(Subscription).min(1)
})
export type MappingFile = z.infer<typeof MappingFile>
