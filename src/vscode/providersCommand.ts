// onnxqs.chooseProviders: every execution provider onnxruntime-node offers on this platform, tried here
// (in the job process), with the reason each that cannot start gives; the ones picked become
// `onnxqs.runtime.executionProviders`, GPU providers before the CPU (they are tried in that order).
import * as vscode from 'vscode';
import { loggedError } from '../jobs/errors';
import type { Provider, ProviderStatus } from '../protocol/compare';
import type { Services } from './services';
import { runtimeSettings, SECTION } from './settings';

export const CHOOSE_PROVIDERS_COMMAND = 'onnxqs.chooseProviders';

/** Tried first to last: accelerators, then the CPU. */
const ORDER: Provider[] = ['tensorrt', 'cuda', 'dml', 'coreml', 'webgpu', 'cpu'];

export async function chooseProvidersCommand(services: Services): Promise<Provider[] | undefined> {
  let list: ProviderStatus[];
  try {
    list = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Trying the execution providers of onnxruntime-node…' }, () => services.quantizer.providers());
  } catch (err) {
    void vscode.window.showErrorMessage(`Could not try the execution providers: ${loggedError(err, (l) => services.log.error(l), 'Could not try the execution providers').message}`);
    return undefined;
  }
  const current = new Set(runtimeSettings().providers);
  const items = [...list].sort((a, b) => ORDER.indexOf(a.name) - ORDER.indexOf(b.name)).map((p) => ({
    label: p.name, provider: p.name, picked: current.has(p.name),
    description: p.available ? 'starts here' : 'cannot start here',
    detail: p.reason ?? undefined,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Execution providers for Compare (tried in this order)', canPickMany: true, matchOnDetail: true,
    placeHolder: 'Pick the providers to use; one that cannot start is skipped with its reason',
  });
  if (!picked) return undefined;
  const providers = picked.map((p) => p.provider);
  await vscode.workspace.getConfiguration(SECTION).update('runtime.executionProviders', providers.length ? providers : ['cpu'], vscode.ConfigurationTarget.Global);
  const unavailable = picked.filter((p) => list.find((s) => s.name === p.provider)?.available === false).map((p) => p.provider);
  if (unavailable.length) {
    void vscode.window.showWarningMessage(`${unavailable.join(', ')} cannot start on this machine; runs will skip ${unavailable.length === 1 ? 'it' : 'them'}${runtimeSettings().allowCpuFallback ? ' and fall back to the CPU' : ''}.`);
  }
  return providers;
}
