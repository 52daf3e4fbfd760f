// The one module that knows about @vscode/webview-ui-toolkit. The toolkit is no longer maintained
// upstream: everything else builds its controls through these functions, so swapping it (for plain
// elements styled with the same theme variables, or another component set) touches this file only.
//
// Every label passed here is set as text or as an attribute value (never parsed as HTML).
import {
  provideVSCodeDesignSystem,
  vsCodeBadge,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeLink,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodeProgressRing,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';
import { icon } from './dom';

let registered = false;

/** Registers the components once (they are custom elements: the first call defines them). */
export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeBadge(),
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeLink(),
    vsCodeOption(),
    vsCodePanels(),
    vsCodePanelTab(),
    vsCodePanelView(),
    vsCodeProgressRing(),
    vsCodeTextField(),
  );
}

/** An element the toolkit defines, with the properties we use. */
export interface ValueElement extends HTMLElement {
  value: string;
}
export interface CheckElement extends HTMLElement {
  checked: boolean;
}
export interface PanelsElement extends HTMLElement {
  activeid: string;
}

export interface ButtonOptions {
  appearance?: 'primary' | 'secondary';
  title?: string;
  icon?: string;
  id?: string;
  onClick: (event: MouseEvent) => void;
}

/** A text button (optionally with a leading codicon). */
export function button(label: string, options: ButtonOptions): HTMLElement {
  const b = document.createElement('vscode-button');
  b.setAttribute('appearance', options.appearance ?? 'secondary');
  if (options.title) b.setAttribute('title', options.title);
  if (options.id) b.id = options.id;
  if (options.icon) {
    const i = icon(options.icon);
    i.setAttribute('slot', 'start');
    b.append(i);
  }
  b.append(label);
  b.addEventListener('click', options.onClick);
  return b;
}

/** A square icon button; `label` is its accessible name and tooltip. */
export function iconButton(codicon: string, label: string, onClick: (event: MouseEvent) => void, id?: string): HTMLElement {
  const b = document.createElement('vscode-button');
  b.setAttribute('appearance', 'icon');
  b.setAttribute('aria-label', label);
  b.setAttribute('title', label);
  if (id) b.id = id;
  b.append(icon(codicon));
  b.addEventListener('click', onClick);
  return b;
}

/** Disables or enables a button made here. */
export function setDisabled(element: HTMLElement, disabled: boolean): void {
  element.toggleAttribute('disabled', disabled);
}

export interface TextFieldOptions {
  placeholder?: string;
  label: string;
  value?: string;
  icon?: string;
  id?: string;
  onInput: (value: string) => void;
}

/** A one-line text input. */
export function textField(options: TextFieldOptions): ValueElement {
  const f = document.createElement('vscode-text-field') as ValueElement;
  if (options.placeholder) f.setAttribute('placeholder', options.placeholder);
  f.setAttribute('aria-label', options.label);
  if (options.id) f.id = options.id;
  if (options.value) f.setAttribute('value', options.value);
  if (options.icon) {
    const i = icon(options.icon);
    i.setAttribute('slot', 'start');
    f.append(i);
  }
  f.addEventListener('input', () => options.onInput(f.value));
  return f;
}

/** Moves keyboard focus into a text field made here (its input lives in a shadow root). */
export function focusField(field: HTMLElement, select = true): void {
  field.focus();
  const input = field.shadowRoot?.querySelector('input');
  if (input) {
    input.focus();
    if (select) input.select();
  }
}

export interface DropdownOptions {
  label: string;
  options: { value: string; label: string }[];
  value: string;
  id?: string;
  onChange: (value: string) => void;
}

/** A select box. */
export function dropdown(options: DropdownOptions): ValueElement {
  const d = document.createElement('vscode-dropdown') as ValueElement;
  d.setAttribute('aria-label', options.label);
  d.setAttribute('title', options.label);
  if (options.id) d.id = options.id;
  for (const o of options.options) {
    const opt = document.createElement('vscode-option');
    opt.setAttribute('value', o.value);
    if (o.value === options.value) opt.setAttribute('selected', '');
    opt.textContent = o.label;
    d.append(opt);
  }
  d.addEventListener('change', () => options.onChange(d.value));
  return d;
}

/** Sets a dropdown made here to `value` without firing its change handler. */
export function setDropdownValue(d: ValueElement, value: string): void {
  d.value = value;
}

export interface CheckboxOptions {
  label: string;
  checked: boolean;
  id?: string;
  title?: string;
  onChange: (checked: boolean) => void;
}

export function checkbox(options: CheckboxOptions): CheckElement {
  const c = document.createElement('vscode-checkbox') as CheckElement;
  if (options.id) c.id = options.id;
  if (options.title) c.setAttribute('title', options.title);
  if (options.checked) c.setAttribute('checked', '');
  c.textContent = options.label;
  c.addEventListener('change', () => options.onChange(c.checked));
  return c;
}

/** A small count badge. */
export function badge(text: string, label?: string): HTMLElement {
  const b = document.createElement('vscode-badge');
  b.textContent = text;
  if (label) b.setAttribute('aria-label', label);
  return b;
}

/** A spinner; `label` is read by screen readers. */
export function progressRing(label: string): HTMLElement {
  const p = document.createElement('vscode-progress-ring');
  p.setAttribute('aria-label', label);
  return p;
}

/** A link to a web page (VS Code opens it in the browser). */
export function link(text: string, href: string, title?: string): HTMLElement {
  const a = document.createElement('vscode-link');
  a.setAttribute('href', href);
  if (title) a.setAttribute('title', title);
  a.textContent = text;
  return a;
}

export function divider(): HTMLElement {
  const d = document.createElement('vscode-divider');
  d.setAttribute('role', 'presentation');
  return d;
}

export interface TabSpec {
  id: string;
  label: string;
  panel: HTMLElement;
}

/** Tabs with their panels; `onChange` gets the id of the tab the user picked. */
export function tabs(specs: TabSpec[], active: string, onChange: (id: string) => void): PanelsElement {
  const panels = document.createElement('vscode-panels') as PanelsElement;
  panels.setAttribute('aria-label', 'Model views');
  panels.setAttribute('activeid', `tab-${active}`);
  for (const spec of specs) {
    const tab = document.createElement('vscode-panel-tab');
    tab.id = `tab-${spec.id}`;
    tab.textContent = spec.label;
    panels.append(tab);
  }
  for (const spec of specs) {
    const view = document.createElement('vscode-panel-view');
    view.id = `view-${spec.id}`;
    view.append(spec.panel);
    panels.append(view);
  }
  panels.addEventListener('change', (event) => {
    if (event.target !== panels) return; // change events of controls inside the panels bubble here too
    const id = panels.activeid?.replace(/^tab-/, '');
    if (id) onChange(id);
  });
  return panels;
}

/** Selects a tab of `tabs()` from code. */
export function selectTab(panels: PanelsElement, id: string): void {
  panels.activeid = `tab-${id}`;
}
