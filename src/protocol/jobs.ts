// The link between the extension (src/jobs/client.ts) and the background job process
// (src/jobs/child.ts, forked with `serialization: 'advanced'`). Both ends import this file.
//
// Parent -> child: requests, each with an id. Child -> parent: progress for a request, then exactly one
// reply for it (a result or a typed error). Cancellation does not travel as a message: the parent kills
// the child (SIGKILL) and forks a fresh one for the next request.
import type { InspectReport } from '../onnx/report';
import type { ErrorData } from './common';

export type { ErrorData } from './common';

/** Bumped when a message changes shape; the child reports it in `ready`. */
export const JOB_PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------------
// Parent -> child

/** Read a model and summarise it (`inspectFile` of the core). */
export interface InspectRequest {
  type: 'inspect';
  id: number;
  /** Absolute path of the .onnx file. */
  path: string;
  /** How many of the largest tensors to list. */
  largest: number;
  /** Compute statistics (and histograms) for the listed tensors. */
  stats: boolean;
  /** Histogram bins when `stats` is true. */
  bins: number;
}

export type JobRequest = InspectRequest;
export type JobKind = JobRequest['type'];
/** The fields of a request other than `type` and `id`. */
export type JobParams<K extends JobKind> = Omit<Extract<JobRequest, { type: K }>, 'type' | 'id'>;
/** What each kind of request answers with. */
export interface JobResults {
  inspect: InspectReport;
}

// ---------------------------------------------------------------------------------------------------
// Child -> parent

/** Sent once, when the child has loaded and listens. */
export interface ChildReadyMessage {
  type: 'ready';
  pid: number;
  protocol: number;
  node: string;
}

export type JobStage = 'reading' | 'statistics' | 'finishing';

export interface JobProgressMessage {
  type: 'progress';
  id: number;
  stage: JobStage;
  /** Short text for a progress notification, e.g. "Reading mnist.onnx (26 KB)". */
  message: string;
  /** 0..1 when known. */
  fraction?: number;
}

export interface JobResultMessage<K extends JobKind = JobKind> {
  type: 'result';
  id: number;
  kind: K;
  result: JobResults[K];
}

export interface JobErrorMessage {
  type: 'error';
  id: number;
  error: ErrorData;
}

/** Something the child wants written to the extension's log (never shown as a UI error by itself). */
export interface ChildLogMessage {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
}

export type ChildMessage = ChildReadyMessage | JobProgressMessage | JobResultMessage | JobErrorMessage | ChildLogMessage;

// ---------------------------------------------------------------------------------------------------
// Error codes that the job layer itself produces (the core adds its own, e.g. from OnnxError).

export type JobErrorCode =
  /** The caller aborted the request; the child was killed. */
  | 'cancelled'
  /** The request ran longer than its timeout; the child was killed. */
  | 'timeout'
  /** The child exited or was killed by a signal while requests were pending. */
  | 'crashed'
  /** The child could not be started (missing bundle, fork failure). */
  | 'spawn-failed'
  /** The client was disposed while the request was pending. */
  | 'disposed'
  /** The child sent something that does not fit this protocol. */
  | 'protocol'
  /** An unexpected exception in the child that is not a typed core error. */
  | 'internal';

/** Type guard for messages arriving from the child over IPC (untrusted shape). */
export function isChildMessage(value: unknown): value is ChildMessage {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'ready' || type === 'progress' || type === 'result' || type === 'error' || type === 'log';
}

/** Type guard for messages arriving at the child. */
export function isJobRequest(value: unknown): value is JobRequest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<InspectRequest>;
  return v.type === 'inspect' && typeof v.id === 'number' && typeof v.path === 'string';
}
