// Where a derived model goes by default: beside its source, never over an existing file. Pure (no vscode).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** `<dir>/<name>.<suffix>.onnx`, or `<name>.<suffix>-2.onnx`, ... when that exists. */
export function defaultOutput(source: string, suffix: string): string {
  const dir = path.dirname(source);
  const stem = path.basename(source).replace(/\.onnx$/i, '');
  for (let i = 1; ; i++) {
    const candidate = path.join(dir, `${stem}.${suffix}${i === 1 ? '' : `-${i}`}.onnx`);
    if (!fs.existsSync(candidate)) return candidate;
  }
}
