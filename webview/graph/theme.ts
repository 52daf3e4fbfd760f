// Colours of the graph view, read from VS Code's theme variables (so light, dark and high-contrast
// themes all work) and read again when the theme changes. Canvas drawing cannot use var(): the values
// are resolved through getComputedStyle.
import type { OpCategory } from '../../src/protocol/graph';

export type BoxCategory = OpCategory | 'input' | 'output' | 'outer';

/** Which theme variable colours each op category (first one the theme defines wins). */
const CATEGORY_VARS: Record<BoxCategory, string[]> = {
  conv: ['--vscode-charts-blue', '--vscode-terminal-ansiBlue'],
  matmul: ['--vscode-charts-purple', '--vscode-terminal-ansiMagenta'],
  activation: ['--vscode-charts-red', '--vscode-terminal-ansiRed'],
  normalization: ['--vscode-charts-green', '--vscode-terminal-ansiGreen'],
  pool: ['--vscode-terminal-ansiCyan', '--vscode-charts-blue'],
  elementwise: ['--vscode-terminal-ansiBrightBlack', '--vscode-charts-lines'],
  reduce: ['--vscode-terminal-ansiBrightMagenta', '--vscode-charts-purple'],
  shape: ['--vscode-charts-lines', '--vscode-descriptionForeground'],
  quantization: ['--vscode-charts-yellow', '--vscode-terminal-ansiYellow'],
  control: ['--vscode-charts-orange', '--vscode-terminal-ansiBrightRed'],
  recurrent: ['--vscode-terminal-ansiBrightCyan', '--vscode-charts-green'],
  constant: ['--vscode-disabledForeground', '--vscode-descriptionForeground'],
  other: ['--vscode-foreground'],
  input: ['--vscode-charts-green', '--vscode-terminal-ansiGreen'],
  output: ['--vscode-charts-orange', '--vscode-terminal-ansiYellow'],
  outer: ['--vscode-descriptionForeground'],
};

/** What each colour family means, for the legend. */
export const CATEGORY_LABELS: Record<BoxCategory, string> = {
  conv: 'Convolution',
  matmul: 'MatMul / Gemm / attention',
  activation: 'Activation',
  normalization: 'Normalization',
  pool: 'Pooling',
  elementwise: 'Elementwise',
  reduce: 'Reduction',
  shape: 'Shape and layout',
  quantization: 'Quantization (Q/DQ, QLinear*, integer ops)',
  control: 'Control flow (If, Loop, Scan)',
  recurrent: 'Recurrent (LSTM, GRU, RNN)',
  constant: 'Constant',
  other: 'Other',
  input: 'Graph input',
  output: 'Graph output',
  outer: 'Value from the enclosing graph',
};

const FALLBACK: Partial<Record<BoxCategory, string>> = {
  conv: '#3794ff',
  matmul: '#b180d7',
  activation: '#f14c4c',
  normalization: '#89d185',
  pool: '#29b8db',
  elementwise: '#8b949e',
  reduce: '#d670d6',
  shape: '#808080',
  quantization: '#cca700',
  control: '#d18616',
  recurrent: '#29b8db',
  constant: '#808080',
  other: '#808080',
  input: '#89d185',
  output: '#d18616',
  outer: '#808080',
};

export interface Palette {
  background: string;
  foreground: string;
  muted: string;
  nodeFill: string;
  border: string;
  /** An expanded layer's panel: the foreground faintly over the background. */
  frame: string;
  edge: string;
  edgeHighlight: string;
  selection: string;
  findMatch: string;
  findCurrent: string;
  label: string;
  highContrast: boolean;
  category: Record<BoxCategory, string>;
  /** The category colour mixed into the node fill (a tint readable under text). */
  tint: Record<BoxCategory, string>;
  font: string;
  monoFont: string;
}

export function readPalette(): Palette {
  const style = getComputedStyle(document.documentElement);
  const body = getComputedStyle(document.body);
  const v = (name: string): string => style.getPropertyValue(name).trim() || body.getPropertyValue(name).trim();
  const first = (names: string[], fallback: string): string => {
    for (const n of names) {
      const value = v(n);
      if (value) return value;
    }
    return fallback;
  };
  const highContrast = document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light');
  const background = first(['--vscode-editor-background'], '#1e1e1e');
  const foreground = first(['--vscode-editor-foreground', '--vscode-foreground'], '#cccccc');
  const category = {} as Record<BoxCategory, string>;
  const tint = {} as Record<BoxCategory, string>;
  for (const key of Object.keys(CATEGORY_VARS) as BoxCategory[]) {
    category[key] = first(CATEGORY_VARS[key], FALLBACK[key] ?? foreground);
    tint[key] = highContrast ? background : mix(category[key], background, 0.16);
  }
  return {
    background,
    foreground,
    muted: first(['--vscode-descriptionForeground'], '#9d9d9d'),
    nodeFill: first(['--vscode-editorWidget-background', '--vscode-editor-background'], '#252526'),
    border: first(['--vscode-contrastBorder', '--vscode-editorWidget-border', '--vscode-widget-border', '--vscode-panel-border'], '#454545'),
    frame: highContrast ? background : mix(foreground, background, 0.04),
    edge: first(['--vscode-editorLineNumber-foreground', '--vscode-descriptionForeground'], '#858585'),
    edgeHighlight: first(['--vscode-focusBorder'], '#007fd4'),
    selection: first(['--vscode-focusBorder'], '#007fd4'),
    findMatch: first(['--vscode-editor-findMatchHighlightBackground'], 'rgba(234, 92, 0, 0.33)'),
    findCurrent: first(['--vscode-editor-findMatchBorder', '--vscode-editor-findMatchBackground', '--vscode-charts-orange'], '#d18616'),
    label: first(['--vscode-descriptionForeground'], '#9d9d9d'),
    highContrast,
    category,
    tint,
    font: first(['--vscode-font-family'], 'system-ui, sans-serif'),
    monoFont: first(['--vscode-editor-font-family'], 'monospace'),
  };
}

/** `a` over `b` with opacity `alpha`, as an rgb() string (both any CSS colour the canvas understands). */
export function mix(a: string, b: string, alpha: number): string {
  const ca = parseColor(a);
  const cb = parseColor(b);
  if (!ca || !cb) return b;
  const c = (i: number) => Math.round(ca[i] * alpha + cb[i] * (1 - alpha));
  return `rgb(${c(0)}, ${c(1)}, ${c(2)})`;
}

let probe: CanvasRenderingContext2D | null = null;

/** [r, g, b] of any CSS colour (through a 1x1 canvas, which normalises it). */
export function parseColor(color: string): [number, number, number] | undefined {
  probe ??= document.createElement('canvas').getContext('2d');
  if (!probe) return undefined;
  probe.fillStyle = '#000000';
  probe.fillStyle = color;
  const s = String(probe.fillStyle);
  if (s.startsWith('#')) {
    const n = parseInt(s.slice(1, 7), 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const m = /rgba?\(([^)]+)\)/.exec(s);
  if (!m) return undefined;
  const parts = m[1].split(',').map((x) => Number(x.trim()));
  return [parts[0], parts[1], parts[2]];
}
