import { z } from 'zod'
import { JsonObject as jsonObject } from '../json/json-object'

/**
 * The Segment Spec calls, as zod schemas. Objects are loose: unknown fields pass
 * through untouched, because mappings may read any of them.
 */

const id = z.union([z.string(), z.number()]).nullable()
const timestamp = z.string()

const common = {
  // Segment sends a numeric messageId on as its decimal string.
  messageId: z.union([z.string(), z.number()]).optional(),
  userId: id.optional(),
  anonymousId: id.optional(),
  timestamp: timestamp.optional(),
  originalTimestamp: timestamp.optional(),
  sentAt: timestamp.optional(),
  receivedAt: timestamp.optional(),
  context: jsonObject.optional(),
  integrations: jsonObject.optional(),
  channel: z.string().optional(),
  version: z.union([z.string(), z.number()]).optional()
}

export const TrackEvent = z.looseObject({
  ...common,
  type: z.literal('track'),
  event: z.string().min(1, 'a track call needs a non-empty "event"'),
  properties: jsonObject.optional()
})
export const IdentifyEvent = z.looseObject({ ...common, type: z.literal('identify'), traits: jsonObject.optional() })
export const PageEvent = z.looseObject({
  ...common,
  type: z.literal('page'),
  name: z.string().nullable().optional(),
  category: z.string().nullable().optional(),
  properties: jsonObject.optional()
})
export const ScreenEvent = z.looseObject({
  ...common,
  type: z.literal('screen'),
  name: z.string().nullable().optional(),
  properties: jsonObject.optional()
})
export const GroupEvent = z.looseObject({
  ...common,
  type: z.literal('group'),
  groupId: z.union([z.string().min(1), z.number()]),
  traits: jsonObject.optional()
})
export const AliasEvent = z.looseObject({ ...common, type: z.literal('alias'), previousId: id.optional() })

export const SegmentEvent = z.discriminatedUnion('type', [
  TrackEvent,
  IdentifyEvent,
  PageEvent,
  ScreenEvent,
  GroupEvent,
  AliasEvent
])
export type SegmentEvent = z.infer<typeof SegmentEvent>
export type SegmentEventType = SegmentEvent['type']

/** The Spec's call types, in the order the Spec lists them. */
export const SEGMENT_EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const satisfies readonly SegmentEventType[]

/** The `/v1/batch` envelope of Segment's Tracking API. */
export const BatchEnvelope = z.looseObject({
  batch: z.array(z.unknown()),
  context: jsonObject.optional(),
  integrations: jsonObject.optional(),
  writeKey: z.string().optional(),
  sentAt: timestamp.optional()
})
export type BatchEnvelope = z.infer<typeof BatchEnvelope>
