// The quantizer's notes speak of command-line flags; in the editor they speak of the editor's choices.
// Pure (no vscode import): a table of the phrases the core writes, each with its editor form.
const PHRASES: [RegExp, string][] = [
  [/; add Conv to --op-types to quantize them for size/, '; Static int8 (Quantize Model…) quantizes Conv layers into fast int8 kernels'],
  [/; calibrate with --calib-data/, '; calibrate on a folder of real samples (Quantize Model… → Choose a folder of samples)'],
  [/ by --max-float-nodes/, ''],
  [/; 16-bit activations \(--activation-type uint16\) or better calibration data may help/, '; calibration on a folder of real samples may help, or 16-bit activations (onnxq quantize --activation-type uint16)'],
  [/: keep them in float \(--exclude [^)]*\) if this output matters/, ': keep them in float if this output matters (Quantize again with them in float, below)'],
  // A kind that finds nothing names the kinds that would, as Quantize Model… lists them (it has no dynamic Conv).
  [/; --mode dynamic --op-types Conv,MatMul,Gemm would quantize [^;.]*/, ''],
  [/--mode static would quantize/, 'Static int8 (QDQ) would quantize'],
  [/--mode dynamic would quantize/, 'Dynamic int8 would quantize'],
  [/--mode weight-only would quantize/, 'Weight-only int4 would quantize'],
];

/** `note` as an editor user reads it. */
export function editorWording(note: string): string {
  let out = note;
  for (const [re, text] of PHRASES) out = out.replace(re, text);
  return out;
}
