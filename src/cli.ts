// `onnxq`: the core from a terminal. Commands: inspect (more come with the quantizer and runtime).
import { parseArgs } from 'node:util';
import { OnnxError } from './onnx/errors';
import { inspectFileSync } from './onnx/inspect';
import { formatInspectReport } from './onnx/reportText';

const USAGE = `Usage: onnxq <command> [options]

Commands:
  inspect MODEL [--json] [--stats] [--largest N] [--bins N]
      IR and opset versions, producer, inputs and outputs, op counts, parameters by dtype,
      the largest tensors (with statistics under --stats) and external data files.

Options:
  --json         print one JSON object instead of text
  --stats        add statistics (min, max, mean, std, sparsity, histogram) to the listed tensors
  --largest N    how many of the largest tensors to list (default 20)
  --bins N       histogram bins for --stats (default 64)
  -h, --help     this help
`;

/** A usage mistake: exit code 2 and the usage text, as command-line tools do. */
class UsageError extends Error {}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} needs a positive integer, got "${value}"`);
  return n;
}

export function main(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        json: { type: 'boolean' }, stats: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
        largest: { type: 'string' }, bins: { type: 'string' },
      },
    });
  } catch (e) {
    process.stderr.write(`onnxq: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    (command ? process.stdout : process.stderr).write(USAGE);
    return values.help ? 0 : 2;
  }
  try {
    switch (command) {
      case 'inspect': {
        if (rest.length !== 1) throw new UsageError('inspect takes exactly one model path');
        const report = inspectFileSync(rest[0], {
          stats: !!values.stats, largest: positiveInt(values.largest, '--largest', 20), bins: positiveInt(values.bins, '--bins', 64),
        });
        process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspectReport(report));
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`onnxq: ${e.message}\n\n${USAGE}`); return 2; }
    if (e instanceof OnnxError) { process.stderr.write(`onnxq: ${e.message}\n`); return 1; }
    process.stderr.write(`onnxq: unexpected error: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
