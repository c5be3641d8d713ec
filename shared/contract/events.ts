// The streamed-event envelope. Every event a client sees is { v: 1, runId, seq, time, kind, data }:
// `runId` names the stream (a run id, or "dataset:<id>" / "job:<id>"), `seq` is gap-free per stream and equals
// the event's 1-based line in the stream's events.jsonl (the truth for replay), `kind` says what `data` is.
//
// `data` of a training kind is the TrainingEvent of shared/training-events.ts, unchanged. Its shape is owned by
// that file; here it is checked only for being an object whose `type` is a known kind and equals `kind`, so the
// union grows by editing training-events.ts alone (no second copy of the type here).
import { z } from 'zod';
import { TRAINING_EVENT_TYPES, type TrainingEvent, type TrainingEventType } from '../training-events';
import { IsoTime, JobId, JobKind, JobState, RunId, Seq, StreamId, ApiErrorShape } from './common';

export const EVENT_SCHEMA_VERSION = 1;

/** What the supervisor itself reports on a stream (not produced by the core): a job changed state. */
export const JobStateData = z.object({
  jobId: JobId,
  kind: JobKind,
  state: JobState,
  runId: RunId.nullable(),
  /** Set when state is failed / interrupted: why (worker exit code, signal, out of memory, CoreError). */
  error: ApiErrorShape.nullable(),
});
export type JobStateData = z.infer<typeof JobStateData>;

/** Kinds the supervisor adds to the training kinds. Extend here (schema + SupervisorEventData entry). */
export const SUPERVISOR_EVENT_KINDS = ['job'] as const;
export type SupervisorEventKind = (typeof SUPERVISOR_EVENT_KINDS)[number];
interface SupervisorEventData {
  job: JobStateData;
}

export type EventKind = TrainingEventType | SupervisorEventKind;
export const EVENT_KINDS: readonly EventKind[] = [...TRAINING_EVENT_TYPES, ...SUPERVISOR_EVENT_KINDS];

interface EnvelopeBase {
  v: typeof EVENT_SCHEMA_VERSION;
  runId: string;
  seq: number;
  /** ISO 8601; for training kinds the same as data.time. */
  time: string;
}

/** A distributive union: narrowing on `kind` narrows `data` (e.kind === 'step' → e.data.loss). */
export type ServiceEvent =
  | {
      [K in TrainingEventType]: EnvelopeBase & { kind: K; data: Extract<TrainingEvent, { type: K }> };
    }[TrainingEventType]
  | { [K in SupervisorEventKind]: EnvelopeBase & { kind: K; data: SupervisorEventData[K] } }[SupervisorEventKind];

const trainingData = z.custom<TrainingEvent>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    (TRAINING_EVENT_TYPES as readonly unknown[]).includes((v as { type?: unknown }).type),
  { message: 'a training event (an object whose "type" is a known event type)' },
);

const envelopeBase = { v: z.literal(EVENT_SCHEMA_VERSION), runId: StreamId, seq: Seq, time: IsoTime };

const trainingEnvelope = z
  .object({
    ...envelopeBase,
    kind: z.enum(TRAINING_EVENT_TYPES as [TrainingEventType, ...TrainingEventType[]]),
    data: trainingData,
  })
  .refine((e) => e.data.type === e.kind, { message: 'kind must equal data.type', path: ['kind'] });
const jobEnvelope = z.object({ ...envelopeBase, kind: z.literal('job'), data: JobStateData });

export const ServiceEventSchema: z.ZodType<ServiceEvent> = z.union([
  jobEnvelope,
  trainingEnvelope,
]) as unknown as z.ZodType<ServiceEvent>;

/** Wraps a core event for the wire. The supervisor assigns seq (the event's line number in events.jsonl). */
export function wrapTrainingEvent(runId: string, seq: number, event: TrainingEvent): ServiceEvent {
  return { v: EVENT_SCHEMA_VERSION, runId, seq, time: event.time, kind: event.type, data: event } as ServiceEvent;
}

/** A delivery: every event since the previous batch of the same subscription, in seq order per stream. */
export const EventBatch = z.object({
  events: z.array(ServiceEventSchema),
  /** true while the subscription is still replaying history (events that were already in events.jsonl). */
  replay: z.boolean(),
});
export type EventBatch = z.infer<typeof EventBatch>;

/**
 * events.subscribe: one stream (`runId`) from `sinceSeq` on (events with seq > sinceSeq; 0 = the whole
 * history), or every stream ('*') — live only, unless `sinceSeqByRun` asks for the history after a seq per run.
 */
export const SubscribeRequest = z.union([
  z.strictObject({ runId: StreamId, sinceSeq: Seq.optional() }),
  z.strictObject({ runId: z.literal('*'), sinceSeqByRun: z.record(StreamId, Seq).optional() }),
]);
export type SubscribeRequest = z.input<typeof SubscribeRequest>;
