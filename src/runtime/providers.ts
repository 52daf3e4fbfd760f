// Execution providers: which ones onnxruntime-node has on this platform, and which of those can really
// start here. A provider is tried once, on a one-node model, in a child process: a GPU driver that prints
// to stderr (Dawn's "Couldn't load Vulkan") or crashes does so there, not in the editor or the terminal.
// The answer is cached for the life of the process, with the reason for each provider that cannot start.
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import { makeModel, node, valueInfo } from '../onnx/builder';
import { DataType } from '../onnx/dtype';
import { ModelProtoType } from '../onnx/proto';
import type { Provider, ProviderStatus } from '../protocol/compare';

export { isProvider, PROVIDERS, type Provider, type ProviderStatus } from '../protocol/compare';



/** What onnxruntime-node offers on `platform`/`arch` (its npm package's binaries; CUDA/TensorRT after their download). */
export function offeredProviders(platform: NodeJS.Platform = process.platform, arch: string = process.arch): Provider[] {
  if (platform === 'linux' && arch === 'x64') return ['cpu', 'webgpu', 'cuda', 'tensorrt'];
  if (platform === 'linux') return ['cpu'];
  if (platform === 'win32') return ['cpu', 'webgpu', 'dml'];
  if (platform === 'darwin') return ['cpu', 'webgpu', 'coreml'];
  return ['cpu'];
}

/** The reason a provider cannot start, from onnxruntime's message: one clean line with what to do. */
export function providerFailure(provider: Provider, message: string): string {
  const m = stripAnsi(message);
  if (/backend not found|no available backend/i.test(m)) {
    return `${provider} is not part of onnxruntime-node on ${os.platform()}-${os.arch()}; its providers here are ${offeredProviders().join(', ')}`;
  }
  if ((provider === 'cuda' || provider === 'tensorrt') && /Failed to load shared library|cannot open shared object|libcu|libnv/i.test(m)) {
    return `the ${provider === 'cuda' ? 'CUDA' : 'TensorRT'} libraries of onnxruntime-node are not installed (its install script downloads them; an install with ONNXRUNTIME_NODE_INSTALL=skip leaves them out). With an NVIDIA GPU and CUDA 12${provider === 'tensorrt' ? ' and TensorRT 10' : ''} on this machine, run: ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js`;
  }
  if (provider === 'webgpu' && /adapter/i.test(m)) {
    return 'no WebGPU adapter on this machine (no GPU, or no Vulkan/D3D12/Metal driver for it)';
  }
  return `${provider} could not start: ${firstLine(m)}`;
}

const ESC = String.fromCharCode(27);
const stripAnsi = (s: string) => s.split(ESC).map((part, i) => (i ? part.replace(/^\[[0-9;]*m/, '') : part)).join('');

/** onnxruntime's message as one line, without the source file, function and ANSI colours it carries. */
export function firstLine(s: string): string {
  const line = stripAnsi(s).split('\n').map((l) => l.trim()).find(Boolean) ?? '';
  return line
    .replace(/\/?onnxruntime_src\/\S+:\d+\s+(?:[\w:~<>]+\([^)]*\)(?:::<lambda\(\)>)?\s*)?/g, '')
    .replace(/\s+was false\.\s*/g, ': ')
    .trim();
}

/** A one-node model (Identity on a float [1]), as bytes. */
function tinyModel(): Uint8Array {
  const graph = { name: 'probe', node: [node('Identity', ['x'], ['y'])], input: [valueInfo('x', DataType.FLOAT, [1])], output: [valueInfo('y', DataType.FLOAT, [1])] };
  return ModelProtoType.encode(makeModel({ graph, opset: 13, irVersion: 7 }) as never).finish();
}

const PROBE = `
const ort = require(process.argv[1]);
ort.env.logLevel = 'fatal';
const model = Buffer.from(process.argv[2], 'base64');
ort.InferenceSession.create(model, { executionProviders: [process.argv[3]], logSeverityLevel: 4 })
  .then(async (s) => { await s.run({ x: new ort.Tensor('float32', Float32Array.of(1), [1]) }); await s.release(); process.stdout.write('OK\\n'); })
  .catch((e) => { process.stdout.write('ERR ' + JSON.stringify(String(e && e.message || e)) + '\\n'); });
`;

/** Tries `provider` in a child process; null when it starts, else onnxruntime's message. */
function probe(provider: Provider, timeoutMs: number): Promise<string | null> {
  const ortPath = require.resolve('onnxruntime-node');
  const env = { ...process.env };
  if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', PROBE, ortPath, Buffer.from(tinyModel()).toString('base64'), provider], { env, timeout: timeoutMs, windowsHide: true }, (err, stdout) => {
      const line = stdout.split('\n').find((l) => l.startsWith('OK') || l.startsWith('ERR '));
      if (line === 'OK') return resolve(null);
      if (line) return resolve(JSON.parse(line.slice(4)) as string);
      resolve(err ? `the probe process ended without an answer (${(err as NodeJS.ErrnoException & { signal?: string }).signal ?? err.message.split('\n')[0]})` : 'the probe process gave no answer');
    });
  });
}

const cache = new Map<Provider, Promise<ProviderStatus>>();

/** Whether `provider` can start here (tried once per process; the answer is cached). */
export function providerStatus(provider: Provider, timeoutMs = 60_000): Promise<ProviderStatus> {
  let p = cache.get(provider);
  if (!p) {
    const offered = offeredProviders().includes(provider);
    p = provider === 'cpu'
      ? Promise.resolve({ name: provider, offered, available: true, reason: null })
      : !offered
        ? Promise.resolve({ name: provider, offered, available: false, reason: providerFailure(provider, 'backend not found') })
        : probe(provider, timeoutMs).then((msg) => ({ name: provider, offered, available: msg === null, reason: msg === null ? null : providerFailure(provider, msg) }));
    cache.set(provider, p);
  }
  return p;
}

/** Every provider onnxruntime-node offers on this platform, and whether it can start. */
export function detectProviders(): Promise<ProviderStatus[]> {
  return Promise.all(offeredProviders().map((p) => providerStatus(p)));
}
