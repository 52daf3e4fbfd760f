// Checks that onnxruntime-node accepts a model: a session with graph optimization "all", created from the
// path (onnxruntime loads from a path at about 1.25x the file size, from a buffer at 2.5x). Optionally
// dumps the optimized graph to see which fusions onnxruntime applied.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../onnx/load';
import { makeTempDir } from '../quantize/tempDir';
import { ModelSession, RuntimeError } from './session';

export class SessionCheckError extends Error {
  /** As the runtime's RuntimeError names a model onnxruntime refuses. */
  readonly code = 'model-rejected';
  constructor(message: string, readonly file: string) {
    super(message);
    this.name = 'SessionCheckError';
  }
}

/**
 * Creates (and releases) a session on `file` with optimization "all"; throws SessionCheckError naming the
 * cause. `role` says which model the message is about: the quantizer checks its source before any work, so
 * that a model onnxruntime cannot run at all is not reported as a failed quantization.
 */
export async function checkSession(file: string, role: 'output' | 'source' = 'output'): Promise<void> {
  let session: ModelSession | undefined;
  try {
    session = await ModelSession.open(file, { optimization: 'all' });
  } catch (e) {
    const msg = e instanceof RuntimeError ? e.message.replace(`${file}: `, '').replace(/^onnxruntime cannot load the model: /, '') : (e as Error).message;
    throw new SessionCheckError(role === 'source'
      ? `onnxruntime cannot load the model itself, before any quantization: ${msg}; quantizing cannot fix that: export the model again in a form onnxruntime runs`
      : `onnxruntime cannot load the quantized model: ${msg}`, file);
  } finally {
    await session?.release();
  }
}

/**
 * Op types (with counts, `domain:op` outside the default domain) of the graph onnxruntime runs after
 * optimization "all": shows whether e.g. DynamicQuantizeMatMul or MatMulNBits kernels were chosen.
 */
export async function optimizedOpCounts(file: string): Promise<Record<string, number>> {
  const dir = makeTempDir('opt');
  try {
    const out = path.join(dir, 'optimized.onnx');
    const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', optimizedModelFilePath: out, logSeverityLevel: 3 });
    await session.release();
    const counts: Record<string, number> = {};
    for (const { node } of loadModel(out).nodes()) {
      const key = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}:${node.op_type}` : node.op_type ?? '';
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
