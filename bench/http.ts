/**
 * `npm run bench:http`: the query service of examples/http under autocannon, with and without batching.
 *
 * Each configuration runs in its own child process (so the load generator does not share the server's event
 * loop) on 127.0.0.1, at a few connection counts, for a bounded time. The backend costs 20 ms per call and serves
 * 4 calls at once, whatever their size. Prints every run, then the best throughput of each mode among runs whose
 * p99 stays within the bound (default: the best p99 the unbatched service reaches, times 1.5, at least 100 ms).
 *
 * Options: --duration <s> (default 5), --connections 8,32,128,256, --p99 <ms> to fix the bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

interface Run {
  mode: 'batched' | 'direct';
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
const serverMain = fileURLToPath(new URL('../examples/http/main.ts', import.meta.url));

/** Starts the example service in a child process on an ephemeral port. */
async function startServer(batching: boolean): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', serverMain, '--port', '0', ...(batching ? [] : ['--no-batching'])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
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

async function load(mode: Run['mode'], connections: number): Promise<Run> {
  const { port, child } = await startServer(mode === 'batched');
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
  console.log(
    `bench:http  node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; ${durationS} s per run; ` +
      'backend: 20 ms per call, 4 calls at once; batcher: windowMs 5, maxSize 64, concurrency 4',
  );
  const runs: Run[] = [];
  for (const connections of connectionCounts) {
    for (const mode of ['direct', 'batched'] as const) {
      const run = await load(mode, connections);
      runs.push(run);
      console.log(
        `${pad(mode, 8)} ${pad(connections, 4)} conn: ${pad(run.requestsPerSecond.toFixed(0), 6)} req/s, ` +
          `p50 ${pad(run.p50, 4)} ms, p99 ${pad(run.p99, 5)} ms, ${run.ok} ok, ${run.failed} failed`,
      );
    }
  }

  console.log('\n| connections | direct req/s | direct p99 ms | batched req/s | batched p99 ms |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const connections of connectionCounts) {
    const direct = runs.find((r) => r.mode === 'direct' && r.connections === connections)!;
    const batched = runs.find((r) => r.mode === 'batched' && r.connections === connections)!;
    console.log(
      `| ${connections} | ${direct.requestsPerSecond.toFixed(0)} | ${direct.p99} | ` +
        `${batched.requestsPerSecond.toFixed(0)} | ${batched.p99} |`,
    );
  }

  const bestDirectP99 = Math.min(...runs.filter((r) => r.mode === 'direct').map((r) => r.p99));
  const bound = fixedBound ?? Math.max(100, Math.ceil(bestDirectP99 * 1.5));
  const best = (mode: Run['mode']) =>
    runs
      .filter((r) => r.mode === mode && r.p99 <= bound && r.failed === 0)
      .sort((a, b) => b.requestsPerSecond - a.requestsPerSecond)[0];
  const direct = best('direct');
  const batched = best('batched');
  console.log(`\nBest throughput with p99 <= ${bound} ms and no failed request:`);
  console.log('| mode | connections | req/s | p99 ms |');
  console.log('|---|---:|---:|---:|');
  for (const [name, run] of [['without batching', direct], ['with batching', batched]] as const) {
    console.log(run ? `| ${name} | ${run.connections} | ${run.requestsPerSecond.toFixed(0)} | ${run.p99} |` : `| ${name} | - | - | - |`);
  }
  if (direct && batched) {
    console.log(`\nbatching: ${(batched.requestsPerSecond / direct.requestsPerSecond).toFixed(1)}x the throughput at the same p99 bound`);
  }
}

await main();
