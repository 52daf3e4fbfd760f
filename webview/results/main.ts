// A results panel: the comparison of two models (compareView.ts), the report of a quantization
// (quantizeView.ts), the history of keeping the worst layers in float (refineView.ts), a benchmark (benchView.ts), or the model summary (summaryView.ts). Protocol (src/protocol/results.ts): post `ready`; the extension answers with
// `show`; after painting, post `rendered` with what the DOM shows. Buttons post actions.
import { isExtensionToResults, type ResultsToExtensionMessage } from '../../src/protocol/results';
import { registerToolkit } from '../ui/toolkit';
import { renderBench } from './benchView';
import { renderCompare } from './compareView';
import { renderQuantize } from './quantizeView';
import { renderRefine } from './refineView';
import { renderSummary } from './summaryView';

interface VsCodeApi { postMessage(message: ResultsToExtensionMessage): void }
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();
const post = (m: ResultsToExtensionMessage) => vscode.postMessage(m);

registerToolkit();
document.body.classList.add('results-page');
const app = document.getElementById('app') ?? document.body.appendChild(document.createElement('main'));

window.addEventListener('message', (event: MessageEvent) => {
  if (!isExtensionToResults(event.data)) return;
  const { title, content } = event.data;
  const shown = content.kind === 'compare' ? renderCompare(app, title, content.result, post, content.actions)
    : content.kind === 'refine' ? renderRefine(app, title, content, post)
      : content.kind === 'bench' ? renderBench(app, title, content, post)
        : content.kind === 'summary' ? renderSummary(app, title, content, post) : renderQuantize(app, title, content, post);
  app.setAttribute('aria-busy', 'false');
  post({ type: 'rendered', kind: content.kind, ...shown });
});
post({ type: 'ready' });
