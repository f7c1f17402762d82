import os from 'node:os';

/** The machine a run happened on, for docs/benchmarks.md: figures only mean something next to it. */
export function describeMachine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  return [
    `${model}, ${cpus.length} logical cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `${os.type()} ${os.release()} (${os.arch()}), Node ${process.version}, V8 ${process.versions.v8}`,
  ].join('; ');
}
