// Modules that scripts/build.mjs provides to the webview bundle.

/** `inline-worker:./file`: the bundled source of a web worker entry, as a string (started from a blob: URL). */
declare module 'inline-worker:*' {
  const source: string;
  export default source;
}
