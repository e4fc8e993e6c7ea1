import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import v8 from 'node:v8';

let compiled: Promise<WebAssembly.Module> | undefined;

/**
 * PGlite's PostgreSQL as a compiled module, compiled once per process and kept with Liftoff code only.
 *
 * WHY: V8 first compiles wasm with its baseline compiler (Liftoff) and later recompiles hot functions
 * with TurboFan; for this 9 MB module that second copy of the code costs about 70 MiB of RSS (measured
 * with bench/measure-store.ts: 100 → 58 MiB after open, 163 → 92 MiB after 3000 inserts), which is
 * most of the store's memory budget. A control-plane database runs small queries, where baseline code
 * is fast enough. The flag is read when a module is compiled, so it is set only around this compile
 * and other wasm in the process (undici's HTTP parser) still tiers up as usual.
 */
export function pgliteModule(): Promise<WebAssembly.Module> {
  compiled ??= compile().catch((err: unknown) => {
    compiled = undefined;
    throw err;
  });
  return compiled;
}

async function compile(): Promise<WebAssembly.Module> {
  const bytes = await readFile(createRequire(import.meta.url).resolve('@electric-sql/pglite/pglite.wasm'));
  // Someone who started node with the flag themselves keeps it.
  const preset = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('liftoff-only'));
  if (!preset) v8.setFlagsFromString('--liftoff-only');
  try {
    // Synchronous on purpose: the flag applies to every module compiled while it is set, and start-up
    // runs this beside other work (an upstream's first connection compiles undici's HTTP parser). An
    // async compile would leave the flag set across turns of the event loop; this one yields none.
    return new WebAssembly.Module(bytes);
  } finally {
    if (!preset) v8.setFlagsFromString('--no-liftoff-only');
  }
}
