import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** How long a message is kept, acknowledged or not, seconds. */
  maxAgeSeconds: number;
  /** How long the server remembers a `Nats-Msg-Id` to drop a message published again, seconds. */
  duplicateWindowSeconds: number;
  /** Default: limits (messages kept until they are too old, whoever read them). */
  retention?: RetentionPolicy;
  /** Default: file. */
  storage?: StorageType;
  /** Default: 1. */
  replicas?: number;
}

export function isNotFound(err: unknown, code: JetStreamApiCodes): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

/**
 * The stream as `spec` says: created if missing; if it exists with other subjects, limits or replicas,
 * updated to them. Several instances may call it at once: the server answers all of them the same
 * stream.
 */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<void> {
  const wanted: Partial<StreamConfig> & { name: string } = {
    name: spec.name,
    subjects: spec.subjects,
    max_age: nanos(spec.maxAgeSeconds * 1000),
    duplicate_window: nanos(spec.duplicateWindowSeconds * 1000),
    retention: spec.retention ?? RetentionPolicy.Limits,
    storage: spec.storage ?? StorageType.File,
    num_replicas: spec.replicas ?? 1,
  };
  let current: StreamConfig;
  try {
    current = (await jsm.streams.info(spec.name)).config;
  } catch (err) {
    if (!isNotFound(err, JetStreamApiCodes.StreamNotFound)) throw err;
    await jsm.streams.add(wanted);
    return;
  }
  const sameSubjects =
    current.subjects.length === spec.subjects.length &&
    spec.subjects.every((s) => current.subjects.includes(s));
  if (
    sameSubjects &&
    current.max_age === wanted.max_age &&
    current.duplicate_window === wanted.duplicate_window &&
    current.retention === wanted.retention &&
    current.storage === wanted.storage &&
    current.num_replicas === wanted.num_replicas
  ) {
    return;
  }
  // Retention and storage are fixed at creation: a stream made otherwise is the operator's to recreate.
  if (current.retention !== wanted.retention || current.storage !== wanted.storage) {
    throw new Error(
      `JetStream stream ${spec.name} has retention ${current.retention} and storage ${current.storage}, not ${wanted.retention} and ${wanted.storage}: delete it or give another stream name`,
    );
  }
  await jsm.streams.update(spec.name, {
    subjects: spec.subjects,
    max_age: wanted.max_age,
    duplicate_window: wanted.duplicate_window,
    num_replicas: wanted.num_replicas,
  });
}
