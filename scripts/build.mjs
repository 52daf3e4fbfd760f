// One esbuild script, one build per bundle.
//   node scripts/build.mjs                 development: sourcemaps, no minification
//   node scripts/build.mjs --production    minified, no sourcemaps (vscode:prepublish)
//   node scripts/build.mjs --watch         rebuild on change (combine with --production if wanted)
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
for (const arg of args) {
  if (!['--production', '--watch'].includes(arg)) {
    console.error(`build.mjs: unknown option ${arg} (use --production and/or --watch)`);
    process.exit(2);
  }
}
const production = args.has('--production');
const watch = args.has('--watch');

/** Options every bundle shares. */
const common = {
  absWorkingDir: root,
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  sourcesContent: false,
  legalComments: production ? 'none' : 'inline',
  logLevel: 'warning',
  metafile: true,
  define: { 'process.env.NODE_ENV': JSON.stringify(production ? 'production' : 'development') },
};

/** Node bundles: the native addon stays a real `require` (it is shipped in node_modules). */
const node = {
  ...common,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Error class names are part of messages and of `instanceof`-free checks; keep them when minified.
  keepNames: true,
  external: ['onnxruntime-node'],
};

const CLI = 'dist/cli.js';

/**
 * `import source from 'inline-worker:./file'` in the webview: bundles that file on its own (a web worker
 * entry) and gives its code as a string, which the webview starts from a blob: URL (a webview cannot load
 * a worker from its resource URIs). Rebuilt, with the importer, when any of its inputs changes.
 */
const inlineWorker = {
  name: 'inline-worker',
  setup(build) {
    build.onResolve({ filter: /^inline-worker:/ }, (args) => {
      const rel = args.path.slice('inline-worker:'.length);
      let file = path.resolve(args.resolveDir, rel);
      if (!fs.existsSync(file)) file = `${file}.ts`;
      return { path: file, namespace: 'inline-worker' };
    });
    build.onLoad({ filter: /.*/, namespace: 'inline-worker' }, async (args) => {
      const result = await esbuild.build({
        absWorkingDir: root,
        entryPoints: [args.path],
        bundle: true,
        write: false,
        format: 'iife',
        platform: 'browser',
        target: ['chrome120'],
        minify: production,
        sourcemap: production ? false : 'inline',
        sourcesContent: false,
        legalComments: 'none',
        metafile: true,
        logLevel: 'silent',
      });
      const code = result.outputFiles[0].text;
      return {
        contents: `export default ${JSON.stringify(code)};`,
        loader: 'js',
        watchFiles: Object.keys(result.metafile.inputs).map((f) => path.resolve(root, f)),
        errors: result.errors,
        warnings: result.warnings,
      };
    });
  },
};

/** Copies the codicon font and its stylesheet next to the webview bundle (the webview can read media/dist only). */
const codicons = {
  name: 'codicons',
  setup(build) {
    build.onEnd((result) => {
      if (result.errors.length > 0) return;
      const from = path.join(root, 'node_modules', '@vscode', 'codicons', 'dist');
      const to = path.join(root, 'media', 'dist');
      fs.mkdirSync(to, { recursive: true });
      for (const file of ['codicon.css', 'codicon.ttf']) fs.copyFileSync(path.join(from, file), path.join(to, file));
    });
  },
};

/** @type {{ name: string, options: import('esbuild').BuildOptions }[]} */
const bundles = [
  {
    name: 'extension',
    options: { ...node, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode', 'onnxruntime-node'] },
  },
  {
    name: 'job child',
    options: { ...node, entryPoints: ['src/jobs/child.ts'], outfile: 'dist/jobChild.js' },
  },
  {
    name: 'bench worker',
    options: { ...node, entryPoints: ['src/runtime/bench/worker.ts'], outfile: 'dist/benchWorker.js' },
  },
  {
    name: 'cli',
    options: { ...node, entryPoints: ['src/cli.ts'], outfile: CLI, banner: { js: '#!/usr/bin/env node' } },
  },
  {
    name: 'webview',
    options: {
      ...common,
      entryPoints: ['webview/main.ts'],
      outfile: 'media/dist/webview.js',
      platform: 'browser',
      format: 'iife',
      target: ['chrome120'],
      plugins: [inlineWorker, codicons],
    },
  },
  {
    name: 'results view',
    options: {
      ...common,
      entryPoints: ['webview/results/main.ts'],
      outfile: 'media/dist/results.js',
      platform: 'browser',
      format: 'iife',
      target: ['chrome120'],
    },
  },
  {
    name: 'webview css',
    options: { ...common, entryPoints: ['webview/style.css'], outfile: 'media/dist/webview.css', target: ['chrome120'] },
  },
];

/** Reports each (re)build; makes the CLI executable after every build of it. */
function reporter(name, outfile) {
  return {
    name: 'report',
    setup(build) {
      let started = 0;
      build.onStart(() => {
        started = performance.now();
      });
      build.onEnd((result) => {
        const ms = Math.round(performance.now() - started);
        if (result.errors.length > 0) {
          console.error(`✗ ${name}: ${result.errors.length} error(s)`);
          return;
        }
        if (outfile === CLI) fs.chmodSync(path.join(root, CLI), 0o755);
        const bytes = Object.entries(result.metafile?.outputs ?? {})
          .filter(([file]) => !file.endsWith('.map'))
          .reduce((sum, [, output]) => sum + output.bytes, 0);
        console.log(`✓ ${name.padEnd(12)} ${outfile.padEnd(24)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB  ${ms} ms`);
      });
    },
  };
}

const configs = bundles.map(({ name, options }) => ({
  ...options,
  plugins: [...(options.plugins ?? []), reporter(name, options.outfile)],
}));

// A production build writes no sourcemaps: drop those a development build left next to its outputs.
if (production) {
  for (const { options } of bundles) fs.rmSync(path.join(root, `${options.outfile}.map`), { force: true });
}

const started = performance.now();
if (watch) {
  const contexts = await Promise.all(configs.map((options) => esbuild.context(options)));
  await Promise.all(contexts.map((ctx) => ctx.watch()));
  console.log(`watching ${contexts.length} bundles${production ? ' (production)' : ''}; Ctrl+C to stop`);
  const stop = async () => {
    await Promise.all(contexts.map((ctx) => ctx.dispose()));
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} else {
  const results = await Promise.allSettled(configs.map((options) => esbuild.build(options)));
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length > 0) {
    console.error(`build failed: ${failed.length} of ${configs.length} bundles`);
    process.exit(1);
  }
  console.log(`built ${configs.length} bundles${production ? ' (production)' : ''} in ${Math.round(performance.now() - started)} ms`);
}
