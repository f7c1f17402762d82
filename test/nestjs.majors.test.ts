/**
 * The packed package in a Nest 11 and a Nest 12 project, as a user installs and runs it: `npm pack`, then per
 * major a fresh project (test/fixtures/nest11, nest12) whose `npm install` takes the tarball from a file and
 * everything else from the npm registry, compiled by tsc with the project's own settings (decorators, metadata),
 * ESM and CommonJS, and run: the service and client of docs/nestjs.md (test/fixtures/nest-app) over TCP on
 * 127.0.0.1, then SIGTERM to the service.
 *
 * It needs the registry, so `npm test` skips it; `.ci/run` runs it with NEST_MAJORS=1 (about a minute).
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');
const fixtures = join(root, 'test/fixtures');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const exec = promisify(execFile);
const scratch: string[] = [];

/** The environment of a user's shell: no npm_* variables inherited from the npm that started the tests. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, ...extra };
}

async function run(command: string, args: string[], cwd: string, timeout = 240_000): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { cwd, env: userEnv(), timeout, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stderr ?? ''}\n${stdout ?? ''}`);
  }
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** Builds the package in a copy of the repository (so the repository's own dist is left alone) and packs it. */
async function packLibrary(): Promise<string> {
  const staging = tempDir('rxjs-batch-dedup-pack-');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
  for (const entry of new Set(['package.json', 'tsconfig.json', 'tsup.config.ts', 'src', ...pkg.files])) {
    if (entry !== 'dist' && existsSync(join(root, entry))) cpSync(join(root, entry), join(staging, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(staging, 'node_modules'), 'dir');
  await run(process.execPath, [join(root, 'node_modules/tsup/dist/cli-default.js'), '--silent'], staging);
  const packed = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', staging], staging)) as [{ filename: string }];
  return join(staging, packed[0].filename);
}

/** A fresh project of that Nest major, with the tarball and the docs' app, installed from the registry. */
async function installProject(major: number, tarball: string): Promise<string> {
  const project = tempDir(`nest${major}-consumer-`);
  const pkg = JSON.parse(readFileSync(join(fixtures, `nest${major}/package.json`), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  pkg.dependencies['rxjs-batch-dedup'] = `file:${tarball}`;
  writeFileSync(join(project, 'package.json'), JSON.stringify(pkg, null, 2));
  cpSync(join(fixtures, 'nest-app'), project, { recursive: true });
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], project);
  return project;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts the service; resolves once Nest says it listens. */
async function startService(script: string, cwd: string, port: number) {
  const child = spawn(process.execPath, [script], { cwd, env: userEnv({ PORT: String(port), NO_COLOR: '1' }) });
  let output = '';
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const listening = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Nest microservice successfully started/.test(output)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`service exited (${code}) before listening:\n${output}`)));
  });
  await listening;
  return { child, exited, output: () => output };
}

// Four copies of each number, side by side: duplicates that arrive together are merged.
const numbers = Array.from({ length: 100 }, (_, i) => Math.floor(i / 4) + 1);
const squares = numbers.map((n) => n * n);

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(process.env.NEST_MAJORS !== '1')('the packed package in Nest 11 and Nest 12 projects', () => {
  let tarball: string;

  beforeAll(async () => {
    tarball = await packLibrary();
  }, 240_000);

  // One major after the other: two installs at once would only compete for the same two cores and network.
  describe.each([11, 12])('Nest %i', (major) => {
    let installed: string | undefined;
    /** The installed project; the tests after the install test need it. */
    const project = (): string => {
      if (!installed) throw new Error(`the Nest ${major} project did not install: see the test above`);
      return installed;
    };

    it('npm install accepts the peer ranges, and the installed Nest is that major', async () => {
      const dir = await installProject(major, tarball);
      const nest = JSON.parse(readFileSync(join(dir, 'node_modules/@nestjs/core/package.json'), 'utf8')) as { version: string };
      expect(nest.version.split('.')[0]).toBe(String(major));
      installed = dir;
    }, 300_000);

    it('the docs app compiles with tsc, as ES modules and as CommonJS', async () => {
      const dir = project();
      await run(process.execPath, [tsc, '-p', 'tsconfig.esm.json'], dir);
      await run(process.execPath, [tsc, '-p', 'tsconfig.cjs.json'], dir);
      mkdirSync(join(dir, 'out/cjs'), { recursive: true });
      writeFileSync(join(dir, 'out/cjs/package.json'), '{ "type": "commonjs" }\n');
      expect(readFileSync(join(dir, 'out/cjs/square.service.js'), 'utf8')).toMatch(/require\("rxjs-batch-dedup\/nestjs"\)/);
      expect(readFileSync(join(dir, 'out/esm/square.service.js'), 'utf8')).toMatch(/from 'rxjs-batch-dedup\/nestjs'/);
    }, 120_000);

    it.each(['esm', 'cjs'])(
      '%s: the service batches and merges duplicates, the client batches too, SIGTERM drains and exits 0',
      async (format) => {
        const dir = project();
        const port = await freePort();
        const service = await startService(`out/${format}/square.service.js`, dir, port);
        try {
          const printed = await exec(process.execPath, [`out/${format}/square.client.js`, ...numbers.map(String)], {
            cwd: dir,
            env: userEnv({ PORT: String(port) }),
            timeout: 30_000,
          });
          const client = JSON.parse(printed.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
          expect(client.oneByOne).toEqual(squares); // each message its own answer, batched by the service
          expect(client.batchedHere).toEqual(squares); // batched by the client, `square.many` on the wire
          expect(client.totalRequests).toBe(numbers.length);
          expect(client.totalBatches as number).toBeLessThan(numbers.length);
          expect(client.deduplicated as number).toBeGreaterThan(0);
        } finally {
          service.child.kill('SIGTERM');
        }
        expect(await service.exited, service.output()).toBe(0);
        const [, messages, calls, merged] = /(\d+) messages, (\d+) backend calls, (\d+) duplicates merged/.exec(service.output()) ?? [];
        expect(Number(messages), service.output()).toBe(numbers.length);
        expect(Number(calls)).toBeLessThan(numbers.length);
        expect(Number(merged)).toBeGreaterThan(0);
      },
      60_000,
    );
  });
});
