// What to feed a model: one spec shared by calibration, compare and the benchmark, in the CLI (the flags
// --dims, --value, --range, --inputs, --samples, --seed) and in VS Code (asked once per model, remembered
// in the workspace). Plain data: it crosses the job-process boundary and is stored as JSON.

export interface InputSpec {
  /** Sizes of symbolic or unknown dims, by dim name (`batch`) or by `input:axis` (`x:0`). Others default to 1. */
  dims?: Record<string, number>;
  /** A fixed value per input name: the value of a scalar input (a sample rate), or a fill value. */
  values?: Record<string, number>;
  /** The range [lo, hi) of random values per input name (integers: lo to hi - 1). */
  ranges?: Record<string, [number, number]>;
  /** A sample file (.npz, .npy, .pb, .json) or a folder of samples (test_data_set_N/input_M.pb, ...). */
  inputs?: string;
  /** How many samples: seeded random ones, or at most this many of the files. */
  samples?: number;
  /** The seed of the first random sample (the next ones take seed + 1, ...). Default 1. */
  seed?: number;
}
