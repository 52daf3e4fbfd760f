// `onnxq`: the core from a terminal. Commands: inspect, quantize, compare, bench, providers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { internalErrorMessage, toErrorData } from './jobs/errors';
import { inspectModel } from './onnx/inspect';
import { loadModel } from './onnx/load';
import { formatInspectReport } from './onnx/reportText';
import { QuantizeError } from './quantize/errors';
import { INPUT_SPEC_FLAGS, INPUT_SPEC_USAGE, SpecFlagError, inputSpecFromFlags } from './runtime/inputSpec';
import type { Provider } from './runtime/providers';
import type { InputSpec } from './protocol/inputSpec';
import { formatQuantizeReport } from './quantize/format';
import { quantizeFile } from './quantize/index';
import {
  assertAvailable, resolveOptions, type ActivationType, type CalibrationMethod, type QuantFormat, type QuantizeOptions, type QuantMode, type WeightType,
} from './quantize/options';

const USAGE = `Usage: onnxq <command> [options]       onnxq <command> --help: that command's options
       onnxq --version

Commands:
  inspect MODEL      IR and opset versions, producer, inputs and outputs, op counts, parameters by dtype,
                     the largest tensors (with statistics under --stats) and external data files
  quantize IN -o OUT dynamic, static (calibrated) or weight-only quantization into a new file
  compare A B        runs both models on the same inputs and compares every output on its own
  bench MODEL...     latency, throughput, memory and size, and why a quantized model is not faster
  providers          the execution providers onnxruntime-node offers here, and whether each can start

Every command takes --verbose: an internal error then prints its stack trace.
Exit codes: 0 success, 1 error (the message says what and why), 2 usage mistake
(compare: 3 an output outside the tolerance; quantize: 4 nothing to quantize in the mode asked).
`;

const INSPECT_USAGE = `Usage: onnxq inspect MODEL [--json] [--stats] [--largest N] [--bins N] [--shapes [INPUTS]]

IR and opset versions, producer, inputs and outputs, op counts, parameters by dtype, the largest
tensors (with statistics under --stats) and external data files; with --shapes, every value of the
main graph with its dtype and shape.

Options (inspect):
  --json         print one JSON object instead of text
  --stats        add statistics (min, max, mean, std, sparsity, histogram) to the listed tensors
  --largest N    how many of the largest tensors to list (default 20)
  --bins N       histogram bins for --stats (default 64)
  --shapes       list every value of the main graph with its dtype and shape: the model's own value_info
                 where it gives one, else shape and type inference (symbolic dims by name; ? where the
                 shape depends on the data). With input flags (below), the shapes for the first sample
                 they describe; a shape that depends on the data is then taken from one run of that
                 sample and marked as seen
  -h, --help     this help

${INPUT_SPEC_USAGE}

Exit codes: 0 success, 1 error (the message says what and why), 2 usage mistake.
`;

const QUANTIZE_USAGE = `Usage: onnxq quantize IN -o OUT [--mode dynamic|static|weight-only] [--weight-type int8|uint8|int16|uint16|int4|uint4]
                              [--per-channel] [--symmetric-weights|--asymmetric-weights] [--reduce-range]
                              [--op-types LIST] [--include LIST] [--exclude LIST]
                              [--keep-first-layer] [--keep-last-layer]
                              [--block-size N] [--accuracy-level N] [--external-data] [--json]
                              static: [--format qdq|qoperator] [--activation-type uint8|int8|uint16|int16] [--symmetric-activations]
                              [--activations16 LIST]
                              [--calibration minmax|percentile|entropy] [--percentile P]
                              [--calib-data DIR | --calib-random N] [--calib-samples N] [--calib-dims LIST]
                              [--quantize-bias | --no-quantize-bias] [--no-equalize]
                              [--smooth-quant [ALPHA]] [--accuracy-target COSINE|OUTPUT=COSINE,... [--max-float-nodes N]]
                              [--check-samples N] [--dims ...] [--value ...] [--range ...] [--seed N]

      Quantizes IN and writes OUT (only when everything succeeded, after onnxruntime has loaded it).
      dynamic (default): MatMul/Gemm -> DynamicQuantizeLinear + MatMulInteger (int8 weights by
      default), LSTM -> com.microsoft DynamicQuantizeLSTM (int8 W and R, per-channel; GRU and RNN
      stay in float, with the reason); weights that the model computes from constants (Slice,
      Concat, Unsqueeze, ...) are folded first; with --op-types ...,Conv also Conv -> ConvInteger
      (uint8 per-channel weights; for size only: not faster than fp32 on onnxruntime CPU). weight-only: MatMul/Gemm -> com.microsoft
      MatMulNBits (int4 by default, block 32, accuracy level 4). static: calibrates activation
      ranges on --calib-data (a folder of .npz samples, .npy/.pb files for one-input models, or
      test_data_set_*/input_*.pb folders) or on --calib-random N seeded random samples (flagged as
      unrepresentative), then writes QDQ: QuantizeLinear/DequantizeLinear around Conv, MatMul and
      Gemm (int8 per-channel weights, int32 biases, Q/DQ on Conv/MatMul outputs so that onnxruntime
      fuses QLinearConv/QLinearMatMul/QGemm), ranges carried through data-movement ops, Relu/Clip
      folded into the range, BatchNormalization folded into Conv.
      --smooth-quant [ALPHA] (static): SmoothQuant on the inputs of MatMul/Gemm with constant weights
      (alpha default 0.5); 1/s folded into the producer where exact, else a Mul; the report gives the
      output cosine with and without it on the calibration samples.
      --accuracy-target COSINE (static): after calibration, compare the quantized model with the
      float model on the first 32 calibration samples, layer by layer (as compare --layers), and keep
      in float the layers that drop the SQNR most, in batches ranked again after each, until the
      cosine similarity of EVERY float output reaches COSINE (or each its own:
      --accuracy-target scores=0.99,boxes=0.999; a bare number there is for the outputs not named)
      or --max-float-nodes N are in float; then give back to int8 the nodes the target holds
      without. At most 40 models are compared; the report lists the nodes and each output's cosine.
      After writing, the new model is compared with the source per output on --check-samples N
      samples (default 4; 0: skip) that calibration did not use, for the report's "outputs".
      --no-equalize (static): do not equalize Conv -> depthwise Conv channel ranges.
      --format qoperator (static): the QDQ model rewritten into QLinearConv, QLinearMatMul and
      com.microsoft QGemm/QLinearAdd/QLinearMul/QLinearConcat/QLinearAveragePool/
      QLinearGlobalAveragePool/QLinearSigmoid/QLinearLeakyRelu (8-bit only); data-movement ops run on
      the quantized tensors; what does not match (e.g. Softmax) stays in QDQ form.

Options (quantize):
  -o, --output OUT        the quantized model (must differ from IN)
  --mode M                dynamic (default) | weight-only | static
  --format F              qoperator (default for dynamic, weight-only) | qdq (default for static)
  --weight-type T         int8 (default) | uint8 | int16 | uint16 (static) | int4 (default for weight-only) | uint4
  --per-channel           one scale per output channel (dynamic MatMul/Gemm; static, dynamic Conv and
                          LSTM have it by default)
  --per-tensor            one scale per weight (static; dynamic Conv; per direction for LSTM)
  --symmetric-weights     zero point in the middle of the range (default for int8/int4)
  --asymmetric-weights    zero point from the weights' range (default for uint8/uint4)
  --reduce-range          7-bit weights, for CPUs without VNNI (dynamic)
  --op-types LIST         comma-separated op types (default MatMul,Gemm; dynamic also LSTM, and takes Conv)
  --include LIST          quantize only nodes whose name matches (names or globs with * and ?)
  --exclude LIST          leave nodes whose name matches in float
  --activations16 LIST    static QDQ: 16-bit activations (uint16, int16 with int8) for the inputs and
                          outputs of nodes whose name matches, 8-bit for the rest: closer to float for
                          layers that lose much to 8 bits, at about their float speed (onnxruntime has no
                          16-bit kernel: it runs them in float between 16-bit Q/DQ)
  --keep-first-layer      leave the first quantizable node of each graph in float
  --keep-last-layer       leave the last quantizable node of each graph in float
  --block-size N          weight-only block size: 16, 32 (default), 64, 128 or 256
  --accuracy-level N      weight-only MatMulNBits accuracy_level 0-4 (default 4: int8 compute)
  --external-data         write tensors of 1 KiB or more to OUT.data
  --json                  print the report as one JSON object

Options (quantize --mode static):
  --activation-type T     uint8 (default) | int8 | uint16 | int16 (16-bit: QDQ for NPUs; CPU runs it in float)
  --symmetric-activations zero point in the middle of the activation range (no Relu folding)
  --calibration M         minmax (default) | percentile | entropy (KL divergence)
  --percentile P          percentile of --calibration percentile, in (90, 100] (default 99.999)
  --calib-data DIR        calibration samples: .npz files (arrays named after the inputs, or in input
                          order), .npy or .pb files (one-input models), or folders of them
                          (test_data_set_N/input_M.pb)
  --calib-random N        N seeded random samples instead (not representative: for trying the tool)
  --calib-samples N       use at most N samples
  --calib-dims LIST       the same as --dims
  --inputs PATH           the same as --calib-data (a folder, or one sample file)
  --samples N             the same as --calib-samples
  --dims, --value, --range, --seed: the input spec (below), for --calib-random samples
  --quantize-bias         int32 biases with scale x_scale * w_scale (the default)
  --no-quantize-bias      keep biases in float (onnxruntime then does not fuse Conv/Gemm)

  -h, --help              this help

${INPUT_SPEC_USAGE}

Exit codes: 0 success, 1 error (the message says what and why), 2 usage mistake, 4 nothing to quantize
in the mode asked (the message names a mode that would; no file is written).
`;

const PROVIDERS_USAGE = `Usage: onnxq providers [--json]

The execution providers onnxruntime-node offers on this platform, and whether each can start here
(tried on a one-node model), with the reason and what to do when it cannot.

Exit codes: 0 success, 1 error, 2 usage mistake.
`;

const COMPARE_USAGE = `Usage: onnxq compare A B [options]
       onnxq compare A --expected DIR [options]

Runs model A (the reference, e.g. FP32) and model B (e.g. its quantized copy) on the same inputs and
compares each output on its own: a small output that collapses beside a large one fails, it is not
hidden by it. Per output: cosine similarity, SQNR (dB), max abs, mean abs and RMS error, the worst
sample and the mean over samples (every sample with --json). Both models must have the same inputs and
outputs (names and types).

With --expected DIR, model A is run on the inputs of each test_data_set_N folder of DIR (or of DIR
itself) and checked against the saved output_M.pb files, with the ONNX backend tests' tolerance
(--rtol 1e-3 --atol 1e-7) unless given.

Tolerance (pass or fail per output; the worst output decides; without any, figures only):
  --min-cosine C          every sample of every output must have cosine similarity >= C
  --atol X                every value within X + rtol x |reference| (numpy.allclose); default 0 with --rtol
  --rtol X                relative part of that tolerance; default 0 with --atol
  --top-k OUTPUT=K        report how often the reference's top-1 class (last axis) is in B's top K;
                          repeatable; --top-k K alone for a model with one output

Per layer:
  --layers                also compare every intermediate tensor of B with the FP32 tensor of A it
                          stands for (matched by the QuantizeLinear that made it, or by name, as our
                          quantizer and onnxruntime's name them; integer tensors dequantized), on the
                          same samples: SQNR, cosine, max abs error, and the SQNR drop across the layer
                          (its inputs' SQNR less its own: the error it adds, not what it carries).
                          Worst first; tensors with no FP32 counterpart are listed with the reason

Runtime:
  --ep LIST               execution providers to try, in order (cpu, webgpu, cuda, tensorrt, dml,
                          coreml; default cpu). One that cannot start here is skipped with its reason
  --allow-cpu-fallback    run on the CPU when none of --ep can start (the report says so); without
                          it, that is an error
  --threads N             intra-op threads per session (default: onnxruntime's, one per core)
  --json                  print one JSON object: a, b (file, provider used and skipped), inputs
                          (source, samples, shapes, defaulted dims), outputs (per output name, type,
                          dims, samples[], worst, mean, pooled: {count, maxAbs, meanAbs, rmse, cosine,
                          sqnrDb, identical, nonFiniteMismatch}; topK; pass; failures[]), pass,
                          worstOutput; with --layers, layers: {layers: [{node, opType, tensor,
                          fp32Tensor, fp32Node, fp32OpType, match, dequantized, sqnrDb, sqnrDropDb,
                          cosine, maxAbs, inputs}], unmapped: [{tensor, node, opType, reason}],
                          samples, runs}. sqnrDb is null when infinite: identical outputs (identical:
                          true) or an all-zero reference
  -h, --help              this help

${INPUT_SPEC_USAGE}
Exit codes: 0 compared (and within the tolerance, if one was given), 1 error (a model that cannot
load or run, inputs that do not fit, a provider that cannot start), 2 usage mistake, 3 at least one
output outside the tolerance.
`;

const BENCH_USAGE = `Usage: onnxq bench MODEL... [options]

Runs each model on each execution provider in a child process of its own (its memory and caches its own),
on the same inputs (the input spec below, the same seed for all), and measures: session creation, the
first run, then warm runs in interleaved rounds (every model runs in each round, the order rotating, so
that a change in the machine's load hits them alike). Per model and provider: latency p50, p90, p99,
mean, min, max and standard deviation in ms (a coefficient of variation over 10% is flagged as noisy),
inferences per second (and samples per second when the batch is above 1), peak resident memory, and
size on disk. Every model after the first is compared with the first on the same provider: the ratio of
their p50 with a 95% confidence interval (a bootstrap over the rounds, both models' rounds drawn
together). When a quantized model is not faster, the diagnostics say why where it can be known: the
CPU's int8 instructions, the Q/DQ pairs onnxruntime fused into integer kernels and those it left in
float (and why), ConvInteger nodes, where the kernel time goes (onnxruntime's profile per op type and
per node, FP32 and quantized side by side), and nodes a GPU provider left to the CPU.

Options:
  --ep LIST               execution providers, each benchmarked on its own (cpu, webgpu, cuda, tensorrt,
                          dml, coreml; default cpu); one that cannot start here is an error
  --warmup N              untimed runs after the first (default 5; every sample runs at least once)
  --iterations N          timed runs per model (default 100; fewer, at least 10, for a model whose warm run
                          takes over 0.2 s, to keep each near 20 s)
  --duration S            instead: timed runs to fill S seconds per model
  --rounds N              interleaved rounds (default 10, at least 5)
  --threads N             intra-op threads per session (default: onnxruntime's, one per core)
  --no-profile            skip onnxruntime's profile and optimized graph (the "why" diagnostics)
  --json                  one JSON object: runs[] (label, file, sizeBytes, provider, sessionMs, firstRunMs,
                          iterations, latencyMs {p50, p90, p99, mean, min, max, stddev, cv}, throughput
                          {inferencesPerSec, batch, samplesPerSec}, peakRssMb, baseRssMb, roundsMs, noisy,
                          nonFinite, graph {fused, convInteger, matMulInteger, unfused[], qdqLeft}, profile
                          {byOpType[], byNode[], cpuNodes[]}), ratios[] {run, reference, p50, ci, verdict},
                          cpu, inputs, settings, diagnostics[]
  --csv                   one row per model and provider
  --md                    a Markdown report
  -h, --help              this help

${INPUT_SPEC_USAGE}
Exit codes: 0 measured, 1 error (a model that cannot load or run, a provider that cannot start), 2 usage mistake.
`;

/** A usage mistake: exit code 2, one line. */
class UsageError extends Error {}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} needs a positive integer, got "${value}"`);
  return n;
}

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) throw new UsageError(`${flag} needs an integer, got "${value}"`);
  return n;
}

function number(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag} needs a number, got "${value}"`);
  return n;
}

/** `0.99`, or per output `scores=0.99,boxes=0.999` (a bare number there: the outputs not named). */
function accuracyTarget(value: string): number | Record<string, number> {
  if (!value.includes('=')) return number(value, '--accuracy-target');
  const out: Record<string, number> = {};
  for (const part of value.split(',').map((x) => x.trim()).filter(Boolean)) {
    const eq = part.lastIndexOf('=');
    if (eq < 0) out['*'] = number(part, '--accuracy-target');
    else out[part.slice(0, eq).trim()] = number(part.slice(eq + 1), '--accuracy-target');
  }
  return out;
}

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim());
}

/** Taken by every command. */
const GLOBAL_OPTIONS = { verbose: { type: 'boolean' } } as const satisfies ParseArgsConfig['options'];

const INSPECT_OPTIONS = {
  json: { type: 'boolean' }, stats: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  largest: { type: 'string' }, bins: { type: 'string' }, shapes: { type: 'boolean' }, ...INPUT_SPEC_FLAGS,
} as const satisfies ParseArgsConfig['options'];

const QUANTIZE_OPTIONS = {
  json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, output: { type: 'string', short: 'o' },
  mode: { type: 'string' }, format: { type: 'string' }, 'weight-type': { type: 'string' }, 'activation-type': { type: 'string' },
  'per-channel': { type: 'boolean' }, 'symmetric-weights': { type: 'boolean' }, 'asymmetric-weights': { type: 'boolean' },
  'symmetric-activations': { type: 'boolean' }, 'reduce-range': { type: 'boolean' },
  'op-types': { type: 'string' }, include: { type: 'string' }, exclude: { type: 'string' }, 'activations16': { type: 'string' },
  'keep-first-layer': { type: 'boolean' }, 'keep-last-layer': { type: 'boolean' },
  'block-size': { type: 'string' }, 'accuracy-level': { type: 'string' }, 'external-data': { type: 'boolean' },
  calibration: { type: 'string' }, 'calib-data': { type: 'string' }, 'calib-random': { type: 'string' },
  percentile: { type: 'string' }, 'smooth-quant': { type: 'string' }, 'quantize-bias': { type: 'boolean' },
  'no-quantize-bias': { type: 'boolean' }, 'calib-samples': { type: 'string' }, 'calib-dims': { type: 'string' },
  'per-tensor': { type: 'boolean' }, 'accuracy-target': { type: 'string' }, 'max-float-nodes': { type: 'string' },
  'no-equalize': { type: 'boolean' }, 'check-samples': { type: 'string' }, ...INPUT_SPEC_FLAGS,
} as const satisfies ParseArgsConfig['options'];

const BENCH_OPTIONS = {
  json: { type: 'boolean' }, csv: { type: 'boolean' }, md: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  ep: { type: 'string' }, warmup: { type: 'string' }, iterations: { type: 'string' }, duration: { type: 'string' }, rounds: { type: 'string' },
  threads: { type: 'string' }, 'no-profile': { type: 'boolean' }, ...INPUT_SPEC_FLAGS,
} as const satisfies ParseArgsConfig['options'];

const PROVIDERS_OPTIONS = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const satisfies ParseArgsConfig['options'];

const COMPARE_OPTIONS = {
  json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, expected: { type: 'string' },
  'min-cosine': { type: 'string' }, atol: { type: 'string' }, rtol: { type: 'string' }, 'top-k': { type: 'string', multiple: true }, layers: { type: 'boolean' },
  ep: { type: 'string' }, 'allow-cpu-fallback': { type: 'boolean' }, threads: { type: 'string' }, ...INPUT_SPEC_FLAGS,
} as const satisfies ParseArgsConfig['options'];

/** `--smooth-quant` takes an optional alpha: without a number after it, it means the default 0.5. */
function expandOptionalValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--smooth-quant') {
      const next = argv[i + 1];
      if (next !== undefined && /^[0-9.]+$/.test(next)) { out.push(`--smooth-quant=${next}`); i++; } else out.push('--smooth-quant=0.5');
    } else out.push(argv[i]);
  }
  return out;
}

const USAGES: Record<string, string> = { inspect: INSPECT_USAGE, quantize: QUANTIZE_USAGE, compare: COMPARE_USAGE, bench: BENCH_USAGE, providers: PROVIDERS_USAGE };
const OPTIONS: Record<string, ParseArgsConfig['options']> = { inspect: INSPECT_OPTIONS, quantize: QUANTIZE_OPTIONS, compare: COMPARE_OPTIONS, bench: BENCH_OPTIONS, providers: PROVIDERS_OPTIONS };

/** A usage mistake is one line, and where to read more: the whole help would bury the line. */
function usageMistake(message: string, command: string | undefined): number {
  const more = command && USAGES[command] ? `onnxq ${command} --help` : 'onnxq --help';
  process.stderr.write(`onnxq: ${message.replace(/\.?$/, '')} (see ${more})\n`);
  return 2;
}

/** The version of the package this CLI came with (dist/cli.js and src/cli.ts both sit one folder below it). */
function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch { return 'unknown'; }
}

const EXIT_NOTHING_TO_QUANTIZE = 4;

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) { process.stdout.write(`onnxq ${version()}\n`); return 0; }
  const command = argv.find((a) => !a.startsWith('-'));
  if (command !== undefined && !USAGES[command]) return usageMistake(`unknown command "${command}"; the commands are ${Object.keys(USAGES).join(', ')}`, undefined);
  let parsed;
  try {
    const args = command === 'quantize' ? expandOptionalValues(argv) : argv;
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { ...(OPTIONS[command ?? ''] ?? { help: { type: 'boolean', short: 'h' } }), ...GLOBAL_OPTIONS } });
  } catch (e) {
    // parseArgs' own wording carries a hint about '--' and an unbalanced quote: the first sentence is the mistake.
    return usageMistake((e as Error).message.split('. ')[0], command);
  }
  const { positionals } = parsed;
  const values = parsed.values as Record<string, string | boolean | string[] | undefined> & { help?: boolean; verbose?: boolean };
  const [, ...rest] = positionals;
  const verbose = !!values.verbose;
  if (values.help || !command) {
    (values.help ? process.stdout : process.stderr).write(command ? USAGES[command] : USAGE);
    return values.help ? 0 : 2;
  }
  try {
    switch (command) {
      case 'inspect': {
        const v = values as { json?: boolean; stats?: boolean; largest?: string; bins?: string; shapes?: boolean } & Parameters<typeof inputSpecFromFlags>[0];
        if (rest.length !== 1) throw new UsageError('inspect takes exactly one model path');
        const given = (['dims', 'value', 'range', 'inputs', 'samples', 'seed'] as const).filter((k) => v[k] !== undefined);
        if (given.length && !v.shapes) throw new UsageError(`--${given.join(', --')} describe${given.length === 1 ? 's' : ''} the inputs for --shapes; add --shapes`);
        const spec = given.length ? inputSpecFromFlags(v) : undefined;
        const model = loadModel(rest[0]);
        const report = inspectModel(model, {
          stats: !!v.stats, largest: positiveInt(v.largest, '--largest', 20), bins: positiveInt(v.bins, '--bins', 64), shapes: !!v.shapes && !spec,
        });
        if (spec) report.valueInfo = await (await import('./runtime/observedShapes.js')).shapesOnSample(model, spec);
        process.stdout.write(v.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspectReport(report));
        return 0;
      }
      case 'quantize':
        return await quantizeCommand(values as unknown as QuantizeValues, rest);
      case 'compare':
        return await compareCommand(values as unknown as CompareValues, rest);
      case 'bench':
        return await benchCommand(values as unknown as BenchValues, rest);
      default: {
        if (rest.length) throw new UsageError('providers takes no arguments');
        const { detectProviders } = await import('./runtime/providers.js');
        const list = await detectProviders();
        process.stdout.write((values as { json?: boolean }).json
          ? `${JSON.stringify(list, null, 2)}\n`
          : `${list.map((p) => `${p.name.padEnd(9)} ${p.available ? 'available' : `cannot start: ${p.reason}`}`).join('\n')}\n`);
        return 0;
      }
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof SpecFlagError) return usageMistake(e.message, command);
    if (e instanceof QuantizeError && e.code === 'nothing-to-quantize') { process.stderr.write(`onnxq: ${e.message}\n`); return EXIT_NOTHING_TO_QUANTIZE; }
    if ((e as Error).name === 'SessionCheckError') { process.stderr.write(`onnxq: ${(e as Error).message}; nothing was written\n`); return 1; }
    const data = toErrorData(e);
    if (data.code !== 'internal') { process.stderr.write(`onnxq: ${data.message}\n`); return 1; }
    process.stderr.write(`onnxq: ${internalErrorMessage(e, verbose ? 'its trace follows' : 'run the same command again with --verbose for the trace')}\n`);
    if (verbose) process.stderr.write(`${data.trace ?? String(e)}\n`);
    return 1;
  }
}

type Values<O extends ParseArgsConfig['options']> = { -readonly [K in keyof O]?: O[K] extends { multiple: true } ? string[] : O[K] extends { type: 'boolean' } ? boolean : string };
type QuantizeValues = Values<typeof QUANTIZE_OPTIONS>;
type CompareValues = Values<typeof COMPARE_OPTIONS>;
type BenchValues = Values<typeof BENCH_OPTIONS>;

async function quantizeCommand(v: QuantizeValues, rest: string[]): Promise<number> {
  if (rest.length !== 1) throw new UsageError('quantize takes exactly one input model: onnxq quantize IN -o OUT');
  if (!v.output) throw new UsageError('quantize needs an output file: -o OUT');
  if (v['symmetric-weights'] && v['asymmetric-weights']) throw new UsageError('--symmetric-weights and --asymmetric-weights exclude each other');
  if (v['quantize-bias'] && v['no-quantize-bias']) throw new UsageError('--quantize-bias and --no-quantize-bias exclude each other');
  if (v['per-channel'] && v['per-tensor']) throw new UsageError('--per-channel and --per-tensor exclude each other');
  const alias = (a: keyof QuantizeValues, b: keyof QuantizeValues) => {
    if (v[a] !== undefined && v[b] !== undefined && v[a] !== v[b]) throw new UsageError(`--${a} and --${b} are the same option; give one`);
    return (v[a] ?? v[b]) as string | undefined;
  };
  v['calib-data'] = alias('calib-data', 'inputs');
  v['calib-samples'] = alias('calib-samples', 'samples');
  const spec: InputSpec = inputSpecFromFlags({ dims: alias('dims', 'calib-dims'), value: v.value, range: v.range, seed: v.seed });
  const calibration = v.calibration !== undefined || v['calib-data'] !== undefined || v['calib-random'] !== undefined || v.percentile !== undefined || v['calib-samples'] !== undefined
    ? {
      method: v.calibration as CalibrationMethod | undefined,
      dataDir: v['calib-data'],
      randomSamples: v['calib-random'] !== undefined ? positiveInt(v['calib-random'], '--calib-random', 1) : undefined,
      maxSamples: v['calib-samples'] !== undefined ? positiveInt(v['calib-samples'], '--calib-samples', 1) : undefined,
      percentile: v.percentile !== undefined ? number(v.percentile, '--percentile') : undefined,
    }
    : undefined;
  const options: QuantizeOptions = {
    mode: v.mode as QuantMode | undefined,
    format: v.format as QuantFormat | undefined,
    weightType: v['weight-type'] as WeightType | undefined,
    activationType: v['activation-type'] as ActivationType | undefined,
    perChannel: v['per-channel'] ? true : v['per-tensor'] ? false : undefined,
    symmetricWeights: v['symmetric-weights'] ? true : v['asymmetric-weights'] ? false : undefined,
    symmetricActivations: v['symmetric-activations'],
    reduceRange: v['reduce-range'],
    opTypes: list(v['op-types']),
    include: list(v.include),
    exclude: list(v.exclude),
    activations16: list(v['activations16']),
    keepFirstLayer: v['keep-first-layer'],
    keepLastLayer: v['keep-last-layer'],
    blockSize: integer(v['block-size'], '--block-size'),
    accuracyLevel: integer(v['accuracy-level'], '--accuracy-level'),
    quantizeBias: v['quantize-bias'] ? true : v['no-quantize-bias'] ? false : undefined,
    calibration,
    smoothQuant: v['smooth-quant'] !== undefined ? Number(v['smooth-quant']) : undefined,
    equalize: v['no-equalize'] ? false : undefined,
    accuracyTarget: v['accuracy-target'] !== undefined ? accuracyTarget(v['accuracy-target']) : undefined,
    maxFloatNodes: integer(v['max-float-nodes'], '--max-float-nodes'),
  };
  for (const k of Object.keys(options) as (keyof QuantizeOptions)[]) if (options[k] === undefined) delete options[k];
  if (calibration) for (const k of Object.keys(calibration) as (keyof typeof calibration)[]) if (calibration[k] === undefined) delete calibration[k];

  // Options are checked (and unavailable modes refused) before the model is even read.
  // A bad value (--mode turbo) or options that exclude each other are usage mistakes: nothing was read yet.
  let resolved;
  try { resolved = resolveOptions(options); } catch (e) {
    throw e instanceof QuantizeError && e.code === 'invalid-options' ? new UsageError(e.message) : e;
  }
  assertAvailable(resolved);
  if (resolved.mode === 'static' && resolved.calibration.dataDir === undefined && resolved.calibration.randomSamples === undefined) {
    throw new UsageError('static quantization needs calibration samples: give --calib-data DIR (.npz/.npy/.pb samples) or --calib-random N');
  }
  // The input spec's names are checked against the model before any work (an unknown dim is an error).
  if (spec.dims || spec.values || spec.ranges) {
    const [{ resolveInputSpec }, { modelInputs }] = await Promise.all([import('./runtime/inputSpec.js'), import('./runtime/modelIo.js')]);
    resolveInputSpec(spec, modelInputs(loadModel(rest[0])));
  }
  // onnxruntime's native addon is loaded only by the commands that run models.
  const { checkSession } = await import('./runtime/check.js');
  const calibrationRun = resolved.mode === 'static' ? (await import('./runtime/calibration.js')).calibrationFor(resolved, spec) : undefined;
  const checkSamples = v['check-samples'] !== undefined ? integer(v['check-samples'], '--check-samples')! : undefined;
  if (checkSamples !== undefined && checkSamples < 0) throw new UsageError(`--check-samples cannot be negative, got ${checkSamples}`);
  const { outputCheck } = await import('./runtime/quantizeCheck.js');
  const report = await quantizeFile(rest[0], v.output, resolved, {
    externalData: !!v['external-data'], verify: checkSession, calibration: calibrationRun,
    ...(checkSamples !== 0 ? { checkOutputs: outputCheck(resolved, spec, checkSamples) } : {}),
  });
  process.stdout.write(v.json ? `${JSON.stringify(report, null, 2)}\n` : formatQuantizeReport(report, rest[0], v.output));
  return 0;
}

async function compareCommand(v: CompareValues, rest: string[]): Promise<number> {
  if (v.expected !== undefined ? rest.length !== 1 : rest.length !== 2) {
    throw new UsageError(v.expected !== undefined ? 'compare --expected DIR takes one model: onnxq compare MODEL --expected DIR' : 'compare takes two models: onnxq compare A B (or one with --expected DIR)');
  }
  const nonNegative = (x: string | undefined, flag: string) => {
    if (x === undefined) return undefined;
    const n = number(x, flag);
    if (n < 0) throw new UsageError(`${flag} cannot be negative, got ${x}`);
    return n;
  };
  const atol = nonNegative(v.atol, '--atol'), rtol = nonNegative(v.rtol, '--rtol');
  const minCosine = v['min-cosine'] !== undefined ? number(v['min-cosine'], '--min-cosine') : undefined;
  if (minCosine !== undefined && !(minCosine > -1 && minCosine <= 1)) throw new UsageError(`--min-cosine is a cosine similarity in (-1, 1], got ${v['min-cosine']}`);
  const topK: Record<string, number> = {};
  for (const t of v['top-k'] ?? []) {
    const m = /^(?:(.+)=)?(\d+)$/.exec(t.trim());
    if (!m || Number(m[2]) < 1) throw new UsageError(`--top-k takes OUTPUT=K (or K for a model with one output); got "${t}"`);
    topK[m[1] ?? ''] = Number(m[2]);
  }
  const providers = await parseProviders(v.ep);
  const spec = inputSpecFromFlags(v);
  const given = (['dims', 'value', 'range', 'inputs', 'samples', 'seed'] as const).filter((k) => v[k] !== undefined);
  if (v.expected !== undefined && v.layers) throw new UsageError('--layers compares two models layer by layer; with --expected there is one');
  if (v.expected !== undefined && given.length) throw new UsageError(`--expected runs the inputs saved beside the outputs; --${given.join(', --')} do not apply`);
  const random = (['value', 'range', 'seed'] as const).filter((k) => v[k] !== undefined);
  if (v.inputs !== undefined && random.length) throw new UsageError(`--${random.join(', --')} shape random samples; with --inputs the samples are the files`);
  const { compareModels, compareWithExpected, EXIT_OUTSIDE_TOLERANCE } = await import('./runtime/compareModels.js');
  const { formatCompareText } = await import('./runtime/compareReport.js');
  if (topK['']) {
    const outs = loadModel(rest[0]).proto.graph?.output ?? [];
    if (outs.length !== 1) throw new UsageError(`--top-k ${topK['']} without an output name needs a model with one output; this one has ${outs.length}: name it, --top-k OUTPUT=K`);
    topK[outs[0].name ?? ''] = topK[''];
    delete topK[''];
  }
  const options = {
    spec, providers, layers: !!v.layers,
    allowCpuFallback: !!v['allow-cpu-fallback'], threads: v.threads !== undefined ? positiveInt(v.threads, '--threads', 1) : undefined,
    policy: {
      ...(atol !== undefined || rtol !== undefined ? { tolerance: { atol: atol ?? 0, rtol: rtol ?? 0 } } : {}),
      ...(minCosine !== undefined ? { minCosine } : {}),
      ...(Object.keys(topK).length ? { topK } : {}),
    },
  };
  const result = v.expected !== undefined ? await compareWithExpected(rest[0], v.expected, options) : await compareModels(rest[0], rest[1], options);
  process.stdout.write(v.json ? `${JSON.stringify(result, null, 2)}\n` : formatCompareText(result));
  return result.pass === false ? EXIT_OUTSIDE_TOLERANCE : 0;
}

async function parseProviders(ep: string | undefined): Promise<Provider[] | undefined> {
  const providers = list(ep)?.filter(Boolean);
  const { isProvider, PROVIDERS } = await import('./runtime/providers.js');
  for (const p of providers ?? []) if (!isProvider(p)) throw new UsageError(`--ep: unknown execution provider "${p}"; onnxruntime-node's are ${PROVIDERS.join(', ')}`);
  return providers as Provider[] | undefined;
}

/** The speed-up's interval is a bootstrap over rounds: with fewer than 5 it has too few distinct resamples to mean anything. */
const MIN_ROUNDS = 5;
function minRounds(n: number): number {
  if (n < MIN_ROUNDS) throw new UsageError(`--rounds needs ${MIN_ROUNDS} or more (the speed-up's interval is a bootstrap over rounds), got ${n}`);
  return n;
}

async function benchCommand(v: BenchValues, rest: string[]): Promise<number> {
  if (!rest.length) throw new UsageError('bench takes one or more models: onnxq bench MODEL...');
  const formats = (['json', 'csv', 'md'] as const).filter((k) => v[k]);
  if (formats.length > 1) throw new UsageError(`--${formats.join(' and --')} exclude each other; give one`);
  if (v.iterations !== undefined && v.duration !== undefined) throw new UsageError('--iterations and --duration exclude each other; give one');
  const duration = v.duration !== undefined ? number(v.duration, '--duration') : undefined;
  if (duration !== undefined && duration <= 0) throw new UsageError(`--duration needs a positive number of seconds, got ${v.duration}`);
  const warmup = integer(v.warmup, '--warmup');
  if (warmup !== undefined && warmup < 0) throw new UsageError(`--warmup cannot be negative, got ${v.warmup}`);
  const random = (['value', 'range', 'seed'] as const).filter((k) => v[k] !== undefined);
  if (v.inputs !== undefined && random.length) throw new UsageError(`--${random.join(', --')} shape random samples; with --inputs the samples are the files`);
  const options = {
    spec: inputSpecFromFlags(v), providers: await parseProviders(v.ep), warmup, durationS: duration,
    iterations: v.iterations !== undefined ? positiveInt(v.iterations, '--iterations', 1) : undefined,
    rounds: v.rounds !== undefined ? minRounds(positiveInt(v.rounds, '--rounds', 1)) : undefined,
    threads: v.threads !== undefined ? positiveInt(v.threads, '--threads', 1) : undefined,
    profile: !v['no-profile'],
  };
  const [{ benchmark }, report] = await Promise.all([import('./runtime/bench/runner.js'), import('./runtime/bench/report.js')]);
  const tty = process.stderr.isTTY;
  // Ctrl+C: the workers are killed and the temporary folder removed before the CLI exits.
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const result = await benchmark(rest, {
    ...options, signal: stop.signal,
    onProgress: tty ? (p) => {
      const line = p.phase === 'rounds' ? `round ${p.round}/${p.rounds}, ${(p.elapsedMs / 1000).toFixed(0)} s of about ${(p.estimateMs / 1000).toFixed(0)} s`
        : `${p.phase === 'open' ? 'opening' : 'profiling'} ${p.label} (${p.done + 1}/${p.total})`;
      process.stderr.write(`\r\x1b[K${line}`);
    } : undefined,
  });
  process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  if (tty) process.stderr.write('\r\x1b[K');
  process.stdout.write(v.json ? `${JSON.stringify(result, null, 2)}\n` : v.csv ? report.formatBenchCsv(result) : v.md ? report.formatBenchMarkdown(result) : report.formatBenchText(result));
  return 0;
}

if (require.main === module) main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
