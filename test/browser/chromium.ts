/**
 * Runs a page script in the machine's headless Chromium (Debian's `chromium` package; nothing is downloaded) and
 * returns what the page posted back.
 *
 * No DevTools protocol: the page and its script are served by a node:http server on 127.0.0.1, and the page
 * posts its report (or its error, including a script that fails to load or throws uncaught) to `/result` on the
 * same server. That needs no WebSocket client (Node 20 has none without a flag) and no puppeteer.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The Chromium binary: `$CHROMIUM_PATH`, else `chromium` (or `chromium-browser`) on the PATH; undefined if none. */
export function findChromium(): string | undefined {
  const candidates = process.env['CHROMIUM_PATH']
    ? [process.env['CHROMIUM_PATH']]
    : (process.env['PATH'] ?? '').split(delimiter).flatMap((dir) => [join(dir, 'chromium'), join(dir, 'chromium-browser')]);
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// Errors the page script cannot catch itself (it failed to load, or threw outside its own try) are posted too.
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>rxjs-batch-dedup browser smoke test</title>
<script>
  const report = (error) => fetch('/result', { method: 'POST', body: JSON.stringify({ error: String(error) }) });
  addEventListener('error', (event) => report(event.message + ' at ' + event.filename + ':' + event.lineno));
  addEventListener('unhandledrejection', (event) => report('unhandled rejection: ' + (event.reason && event.reason.stack || event.reason)));
</script>
<script type="module" src="/page.js"></script>
`;

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

/** Answers the page's GET requests to `/api/...` with the JSON of what it returns (the page's HTTP backend). */
export type ApiHandler = (url: URL) => unknown;

/**
 * Serves `script` in a page (and `api` under `/api/`), opens it in headless Chromium and resolves with the JSON the page posted to
 * `/result`. Rejects if the page posted `{ error }`, if Chromium exits first, or after `timeoutMs`, with the
 * tail of Chromium's log (which carries the page's console). Chromium and the server are stopped in every case.
 */
export async function runInChromium(chromium: string, script: string, timeoutMs: number, api?: ApiHandler): Promise<unknown> {
  let posted!: (body: string) => void;
  const result = new Promise<string>((resolve) => (posted = resolve));
  const server = createServer((request, response) => {
    if (request.method === 'POST' && request.url === '/result') {
      void readBody(request).then((body) => {
        response.writeHead(204).end();
        posted(body);
      });
    } else if (api !== undefined && request.url?.startsWith('/api/')) {
      const answer = api(new URL(request.url, 'http://127.0.0.1'));
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    } else if (request.url === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (request.url === '/page.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  // Its profile and its temporary files (shared memory, with --disable-dev-shm-usage) go in one scratch folder,
  // removed afterwards: a killed Chromium leaves its /tmp files behind.
  const scratch = mkdtempSync(join(tmpdir(), 'rxjs-batch-dedup-chromium-'));
  mkdirSync(join(scratch, 'tmp'));
  const browser = spawn(
    chromium,
    [
      '--headless=new',
      '--no-sandbox', // CI runs as root, where Chromium's sandbox refuses to start
      '--disable-gpu',
      '--disable-dev-shm-usage', // containers often have a tiny /dev/shm
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-extensions',
      '--enable-logging=stderr', // the page's console lands in the log, shown on failure
      `--user-data-dir=${join(scratch, 'profile')}`,
      `http://127.0.0.1:${port}/`,
    ],
    // Its own process group, so that stopping it stops the renderer and GPU processes it started too.
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: join(scratch, 'tmp') } },
  );
  let log = '';
  browser.stderr.setEncoding('utf8');
  browser.stderr.on('data', (chunk: string) => (log = (log + chunk).slice(-8000)));
  const exited = new Promise<void>((resolve) => browser.once('exit', () => resolve()));
  const failure = (why: string) => new Error(`${why}\n--- chromium log (tail) ---\n${log.slice(-4000)}`);

  let timer: NodeJS.Timeout | undefined;
  try {
    const body = await Promise.race([
      result,
      new Promise<never>((_, reject) => browser.once('error', (error) => reject(failure(`chromium did not start: ${error.message}`)))),
      exited.then(() => Promise.reject(failure(`chromium exited (code ${String(browser.exitCode)}) before the page reported`))),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(failure(`the page did not report within ${timeoutMs} ms`)), timeoutMs))),
    ]);
    const parsed = JSON.parse(body) as { error?: string };
    if (parsed.error !== undefined) throw failure(`the page failed: ${parsed.error}`);
    return parsed;
  } finally {
    clearTimeout(timer);
    await stop(browser.pid, exited);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Stops the browser's own process group: SIGTERM, then SIGKILL if it is still there after 3 s. */
async function stop(pid: number | undefined, exited: Promise<void>): Promise<void> {
  if (pid === undefined) return;
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const killed = await Promise.race([exited.then(() => true), new Promise((resolve) => setTimeout(resolve, 3000, false))]);
  if (!killed) signal('SIGKILL');
  // Children still in the group (a renderer slow to notice) get the group's SIGKILL too.
  signal('SIGKILL');
}
