#!/usr/bin/env node
// Times one ONNX model in ONNX Runtime (CPU, all graph optimisations, sequential execution), the baseline of
// bench/ort_comparison_bench. Inputs are synthetic, filled as conveyor's synthetic_inputs fills them
// (float i -> ((i * 7919) % 200 - 100) / 100, every other dtype 0), so both engines run the same data.
//   node bench/ort/run_model.js MODEL.onnx [--threads T] [--warmup W] [--runs N] [--dim NAME=SIZE ...]
// Prints one JSON object: {"ms": [each timed run], "threads": T, "ort": version}. Needs
// scripts/setup_ort_bench.sh (or CONVEYOR_ORT_DIR pointing at its install folder).
'use strict';
const os = require('os');
const path = require('path');

function usage(message) {
  process.stderr.write(`run_model.js: ${message}\n` +
      'usage: run_model.js MODEL.onnx [--threads T] [--warmup W] [--runs N] [--dim NAME=SIZE ...]\n');
  process.exit(2);
}

function parse(argv) {
  const options = {threads: 1, warmup: 5, runs: 20, dims: {}};
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${arg} needs a value`));
    if (arg === '--threads') options.threads = Number(value());
    else if (arg === '--warmup') options.warmup = Number(value());
    else if (arg === '--runs') options.runs = Number(value());
    else if (arg === '--dim') {
      const [name, size] = value().split('=');
      if (!name || !(Number(size) >= 1)) usage(`--dim expects NAME=SIZE, got '${argv[i]}'`);
      options.dims[name] = Number(size);
    } else if (arg.startsWith('--')) usage(`unknown option ${arg}`);
    else options.model = arg;
  }
  if (!options.model) usage('no model given');
  for (const key of ['threads', 'runs']) if (!(options[key] >= 1)) usage(`--${key} must be >= 1`);
  return options;
}

function loadOrt() {
  const dir = process.env.CONVEYOR_ORT_DIR ||
      path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'conveyor', 'onnxruntime-node');
  try {
    return require(path.join(dir, 'node_modules', 'onnxruntime-node'));
  } catch (e) {
    process.stderr.write(`run_model.js: onnxruntime-node is not installed in ${dir}: run scripts/setup_ort_bench.sh\n`);
    process.exit(1);
  }
}

const kArrays = {
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array, int8: Int8Array,
  uint8: Uint8Array, bool: Uint8Array,
};

function syntheticInput(ort, meta, dims) {
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : dims[d] || 1));
  const count = shape.reduce((a, b) => a * b, 1);
  const Array = kArrays[meta.type];
  if (!Array) throw new Error(`input '${meta.name}' has type ${meta.type}, which this script does not fill`);
  const data = new Array(count);
  if (meta.type === 'float32' || meta.type === 'float64')
    for (let i = 0; i < count; ++i) data[i] = (((i * 7919) % 200) - 100) / 100;
  return new ort.Tensor(meta.type, data, shape);
}

async function main() {
  const options = parse(process.argv.slice(2));
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(options.model, {
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const feeds = {};
  for (const meta of session.inputMetadata) feeds[meta.name] = syntheticInput(ort, meta, options.dims);
  for (let i = 0; i < options.warmup; ++i) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < options.runs; ++i) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  process.stdout.write(JSON.stringify({ms, threads: options.threads, ort: ort.env.versions.common}) + '\n');
}

main().catch((e) => {
  process.stderr.write(`run_model.js: ${e.message}\n`);
  process.exit(1);
});
