/**
 * `npm run bench:http`: the query service of examples/http under autocannon: unbatched, batched (createBatcher),
 * and with a DataLoader per batch (examples/http/dataloader.ts, DataLoader as people write it: a tick's loads in
 * one call, its cache as dedup within the batch), all on the same backend model.
 *
 * Each configuration runs in its own child process (so the load generator does not share the server's event
 * loop) on 127.0.0.1, at a few connection counts, for a bounded time. The backend costs 20 ms per call and serves
 * 4 calls at once, whatever their size. Prints every run, then the best throughput of each mode among runs whose
 * p99 stays within the bound (default: the best p99 the unbatched service reaches, times 1.5, at least 100 ms).
 *
 * Options: --duration <s> (default 5), --connections 8,32,128,256, --p99 <ms> to fix the bound, --modes
 * direct,batched,dataloader. A full run (default options) also writes its tables to bench/results/http.md, which
 * `npm run bench` puts into docs/benchmarks.md (bench/httpRecorded.bench.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

type Mode = 'direct' | 'batched' | 'dataloader';
const MODE_NAMES: Record<Mode, string> = { direct: 'without batching', batched: 'createBatcher', dataloader: 'DataLoader per batch' };

interface Run {
  mode: Mode;
  connections: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
}

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const durationS = Number(option('duration') ?? 5);
const connectionCounts = (option('connections') ?? '8,32,128,256').split(',').map(Number);
const fixedBound = option('p99') === undefined ? undefined : Number(option('p99'));
const modes = (option('modes') ?? 'direct,batched,dataloader').split(',') as Mode[];
const fullRun = args.length === 0;
const serverMain = fileURLToPath(new URL('../examples/http/main.ts', import.meta.url));
const dataLoaderMain = fileURLToPath(new URL('../examples/http/dataloader.ts', import.meta.url));
const resultsFile = fileURLToPath(new URL('results/http.md', import.meta.url));

/** Starts the example service in a child process on an ephemeral port. */
async function startServer(mode: Mode): Promise<{ port: number; child: ChildProcess }> {
  const script =
    mode === 'dataloader' ? [dataLoaderMain] : [serverMain, ...(mode === 'direct' ? ['--no-batching'] : [])];
  const child = spawn(process.execPath, ['--import', 'tsx', ...script, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
  return { port, child };
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** One of 5,000 questions at random: in a busy second some repeat, so dedup helps a little. */
function randomQuery(): string {
  return JSON.stringify({ q: `question ${Math.floor(Math.random() * 5_000)}` });
}

async function load(mode: Mode, connections: number): Promise<Run> {
  const { port, child } = await startServer(mode);
  try {
    // A short warm-up: JIT, connection setup, the first windows.
    await autocannon({ url: `http://127.0.0.1:${port}`, connections, duration: 1, requests: [request()] });
    const result = await autocannon({
      url: `http://127.0.0.1:${port}`,
      connections,
      duration: durationS,
      timeout: 10,
      requests: [request()],
    });
    return {
      mode,
      connections,
      requestsPerSecond: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      ok: result['2xx'],
      failed: result.non2xx + result.errors + result.timeouts,
    };
  } finally {
    await stopServer(child);
  }
}

function request() {
  return {
    method: 'POST',
    path: '/api/query',
    headers: { 'content-type': 'application/json' },
    setupRequest: (req: { body?: string }) => ({ ...req, body: randomQuery() }),
  };
}

function pad(value: string | number, width: number): string {
  return String(value).padStart(width);
}

async function main(): Promise<void> {
  const header =
    `node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()[0]!.toFixed(1)} at the start; ${durationS} s per run; ` +
    'backend: 20 ms per call, 4 calls at once; batcher: windowMs 5, maxSize 64, concurrency 4; DataLoader: a new one per batch, maxBatchSize 64, cache on';
  console.log(`bench:http  ${header}`);
  const runs: Run[] = [];
  for (const connections of connectionCounts) {
    for (const mode of modes) {
      const run = await load(mode, connections);
      runs.push(run);
      console.log(
        `${pad(mode, 10)} ${pad(connections, 4)} conn: ${pad(run.requestsPerSecond.toFixed(0), 6)} req/s, ` +
          `p50 ${pad(run.p50, 4)} ms, p99 ${pad(run.p99, 5)} ms, ${run.ok} ok, ${run.failed} failed`,
      );
    }
  }

  const lines: string[] = [];
  lines.push(`| connections | ${modes.map((m) => `${MODE_NAMES[m]}: req/s | p50 ms | p99 ms`).join(' | ')} |`);
  lines.push(`|---:|${modes.map(() => '---:|---:|---:').join('|')}|`);
  for (const connections of connectionCounts) {
    const cells = modes.map((mode) => {
      const run = runs.find((r) => r.mode === mode && r.connections === connections)!;
      return `${run.requestsPerSecond.toFixed(0)}${run.failed > 0 ? ` (${run.failed} failed)` : ''} | ${run.p50} | ${run.p99}`;
    });
    lines.push(`| ${connections} | ${cells.join(' | ')} |`);
  }

  const directP99s = runs.filter((r) => r.mode === 'direct').map((r) => r.p99);
  const bound = fixedBound ?? Math.max(100, Math.ceil((directP99s.length > 0 ? Math.min(...directP99s) : 0) * 1.5));
  const best = (mode: Mode) =>
    runs
      .filter((r) => r.mode === mode && r.p99 <= bound && r.failed === 0)
      .sort((a, b) => b.requestsPerSecond - a.requestsPerSecond)[0];
  lines.push('', `Best throughput with p99 <= ${bound} ms and no failed request:`, '');
  lines.push('| mode | connections | req/s | p50 ms | p99 ms |', '|---|---:|---:|---:|---:|');
  for (const mode of modes) {
    const run = best(mode);
    lines.push(run ? `| ${MODE_NAMES[mode]} | ${run.connections} | ${run.requestsPerSecond.toFixed(0)} | ${run.p50} | ${run.p99} |` : `| ${MODE_NAMES[mode]} | - | - | - | - |`);
  }
  const [direct, batched, dataLoader] = [best('direct'), best('batched'), best('dataloader')];
  const ratio = (a: Run | undefined, b: Run | undefined) => (a && b ? `${(a.requestsPerSecond / b.requestsPerSecond).toFixed(1)}x` : '-');
  // The peak of each mode whatever its latency: on a loaded machine no batched run may stay within the bound.
  const peak = (mode: Mode) => runs.filter((r) => r.mode === mode && r.failed === 0).sort((a, b) => b.requestsPerSecond - a.requestsPerSecond)[0];
  const describe = (run: Run | undefined) => (run ? `${run.requestsPerSecond.toFixed(0)} req/s (${run.connections} conn, p99 ${run.p99} ms)` : '-');
  // A mode with no run within the bound has no ratio: say so rather than print a dash where a figure belongs.
  const within = (mode: Mode) => (best(mode) ? undefined : `${MODE_NAMES[mode]}: no run within the bound`);
  const missing = modes.map(within).filter((s) => s !== undefined);
  const ratios =
    missing.length > 0
      ? missing.join(', ')
      : `createBatcher ${ratio(batched, direct)} the unbatched throughput and ${ratio(batched, dataLoader)} DataLoader per batch's`;
  const verdict =
    `bench:http: at p99 <= ${bound} ms ${ratios}; ` +
    `peaks: createBatcher ${describe(peak('batched'))}, DataLoader per batch ${describe(peak('dataloader'))}, unbatched ${describe(peak('direct'))}`;
  console.log(`\n${lines.join('\n')}\n\n${verdict}`);
  if (fullRun) {
    mkdirSync(fileURLToPath(new URL('results/', import.meta.url)), { recursive: true });
    const date = new Date().toISOString().slice(0, 10);
    writeFileSync(resultsFile, [`Recorded ${date} by \`npm run bench:http\` (${header}).`, '', ...lines, '', verdict, ''].join('\n'));
    console.log(`wrote ${resultsFile}`);
  }
}

await main();
