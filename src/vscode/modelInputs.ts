// What to feed a model, asked once per model and remembered in the workspace: the input spec in the
// same text form as the CLI flags (--dims, --value, --range, --inputs, --samples, --seed), prefilled
// from the model's inputs (every symbolic or unknown dim listed at 1, so the user sees what to set),
// checked against the model as it is typed. "ONNX: Edit Model Inputs…" asks again.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ValueInfo } from '../protocol/inspect';
import type { InputSpec } from '../protocol/inputSpec';
import { RuntimeError } from '../runtime/errors';
import { checkInputSpec, inputSpecFromText, inputSpecToText, SpecFlagError } from '../runtime/inputSpecCheck';
import type { Services } from './services';

const KEY = 'onnxqs.inputs:';

/** The spec remembered for `file` in this workspace, if any. */
export function rememberedInputs(services: Services, file: string): InputSpec | undefined {
  return services.workspaceState?.get<InputSpec>(KEY + path.resolve(file));
}

/** The first spec offered for a model: its symbolic and unknown dims at 1, named so they can be changed. */
export function proposedInputs(inputs: ValueInfo[]): InputSpec {
  const dims: Record<string, number> = {};
  for (const v of inputs) {
    (v.shape ?? []).forEach((d, axis) => {
      if (typeof d === 'string') dims[d] = 1;
      else if (d === null) dims[`${v.name}:${axis}`] = 1;
    });
  }
  return { ...(Object.keys(dims).length ? { dims } : {}), samples: 8, seed: 1 };
}

/** The message for a spec that does not fit the model, or undefined when it does. */
export function inputSpecProblem(text: string, inputs: ValueInfo[]): string | undefined {
  try {
    checkInputSpec(inputSpecFromText(text), inputs);
    return undefined;
  } catch (e) {
    if (e instanceof SpecFlagError || e instanceof RuntimeError) return e.message;
    throw e;
  }
}

/**
 * The spec for `file`: the remembered one, or (the first time, or when `ask`) the user's answer to a
 * prefilled prompt. Undefined when the user backs out.
 */
export async function inputsFor(services: Services, file: string, options: { ask?: boolean } = {}): Promise<InputSpec | undefined> {
  const known = rememberedInputs(services, file);
  if (known && !options.ask) return known;
  const report = await services.jobs.inspect({ path: file, largest: 1, stats: false, bins: 4 });
  const inputs = report.inputs;
  const shapes = inputs.map((v) => `${v.name}: ${v.dtype} [${(v.shape ?? []).map((d) => d ?? '?').join(', ')}]`).join('; ');
  const text = await vscode.window.showInputBox({
    title: `Inputs of ${path.basename(file)}`,
    value: inputSpecToText(known ?? proposedInputs(inputs)),
    prompt: `${shapes}. --dims NAME=SIZE or input:axis=SIZE, --value INPUT=NUMBER (e.g. a sample rate), --range INPUT=LO:HI, --inputs FILE|FOLDER, --samples N, --seed N`,
    placeHolder: '--dims batch=1 --samples 8',
    ignoreFocusOut: true,
    validateInput: (value) => inputSpecProblem(value, inputs),
  });
  if (text === undefined) return undefined;
  const spec = inputSpecFromText(text);
  await services.workspaceState?.update(KEY + path.resolve(file), spec);
  return spec;
}
