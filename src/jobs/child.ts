// The background job process (bundled to dist/jobChild.js), forked by src/jobs/client.ts with
// `serialization: 'advanced'`. It runs the pure core and answers each request with a result or a typed
// error. Cancellation is a SIGKILL from the parent, so nothing here needs to be interruptible.
// No vscode import: it runs in a plain Node process.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatBytes } from '../onnx/format';
import { inspectFile } from '../onnx/inspect';
import { warmUpDecoder } from '../onnx/load';
import { assertNever } from '../protocol/common';
import {
  JOB_PROTOCOL_VERSION,
  isJobRequest,
  type ChildMessage,
  type InspectRequest,
  type JobProgressMessage,
  type JobRequest,
} from '../protocol/jobs';
import { toErrorData } from './errors';

function send(message: ChildMessage): void {
  if (!process.send || !process.connected) return;
  process.send(message, (err: Error | null) => {
    // The parent went away; 'disconnect' below ends this process.
    if (err) process.exitCode = 1;
  });
}

function progress(id: number, stage: JobProgressMessage['stage'], message: string, fraction?: number): void {
  send(fraction === undefined ? { type: 'progress', id, stage, message } : { type: 'progress', id, stage, message, fraction });
}

async function runInspect(request: InspectRequest): Promise<void> {
  const name = path.basename(request.path);
  let size = '';
  try {
    size = ` (${formatBytes((await fs.promises.stat(request.path)).size)})`;
  } catch {
    // The core reports a missing or unreadable file with its own error.
  }
  progress(request.id, 'reading', `Reading ${name}${size}`, 0);
  const report = await inspectFile(request.path, { largest: request.largest, stats: request.stats, bins: request.bins });
  progress(request.id, 'finishing', `Read ${name}: ${report.nodeCount} nodes`, 1);
  send({ type: 'result', id: request.id, kind: 'inspect', result: report });
}

async function handle(request: JobRequest): Promise<void> {
  try {
    switch (request.type) {
      case 'inspect':
        await runInspect(request);
        return;
      default:
        assertNever(request.type, 'job request');
    }
  } catch (err) {
    const error = toErrorData(err);
    if (error.file === undefined && 'path' in request) error.file = request.path;
    send({ type: 'error', id: request.id, error });
  }
}

function main(): void {
  if (!process.send) {
    process.stderr.write('jobChild.js is the background process of ONNX Quantization Studio; it must be forked with an IPC channel.\n');
    process.exit(2);
  }
  process.on('message', (message: unknown) => {
    if (!isJobRequest(message)) {
      send({ type: 'log', level: 'warn', message: `Ignored a request that is not in the job protocol: ${String((message as { type?: unknown } | null)?.type)}` });
      return;
    }
    void handle(message);
  });
  // The parent closed the channel (shut down, or died): nothing left to answer.
  process.on('disconnect', () => process.exit(0));
  process.on('unhandledRejection', (reason) => {
    send({ type: 'log', level: 'error', message: `Unhandled rejection in the job process: ${toErrorData(reason).message}` });
  });
  send({ type: 'ready', pid: process.pid, protocol: JOB_PROTOCOL_VERSION, node: process.version });
  // While the extension has nothing for us yet: the first model then opens at warm speed.
  setImmediate(warmUpDecoder);
}

main();
