/**
 * Adaptive window against fixed windows, on virtual time so every figure is exact and repeatable.
 *
 * Backend: `duration(n) = 20 ms + 0.5 ms * n`, concurrency 2. Arrivals: Poisson, stepping 50 -> 2000 -> 200
 * requests/s. For each configuration and phase: p95 latency (enqueue to result), throughput, and backend calls.
 * Run alone with `npx tsx bench/adaptive.bench.ts` or `npm run bench -- adaptive`. It prints the table shown in
 * docs/adaptive.md and writes that page's plot, docs/adaptive.svg (on virtual time, so the same on every run).
 */
import { writeFileSync } from 'node:fs';
import { Subject, timer } from 'rxjs';
import { map } from 'rxjs/operators';
import { batchDedup, type BatchResult } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { playArrivals } from './lib/arrivals.js';
import { seededRandom } from './lib/random.js';
import { consoleTable, markdownTable, type BenchSection } from './lib/report.js';

export const PHASES = [
  { name: 'light', ratePerSecond: 50, durationMs: 4000 },
  { name: 'heavy', ratePerSecond: 2000, durationMs: 4000 },
  { name: 'medium', ratePerSecond: 200, durationMs: 4000 },
] as const;
export const TARGET_LATENCY_MS = 100;
const CONCURRENCY = 2;
const MAX_SIZE = 128;
const duration = (n: number) => 20 + 0.5 * n;

export interface PhaseFigures {
  readonly phase: string;
  readonly p95Ms: number;
  readonly throughputPerSecond: number;
  readonly backendCalls: number;
  readonly meanBatch: number;
}

/** Arrival times (ms) of a Poisson process stepping through the phases. */
export function arrivals(seed = 7): number[] {
  const random = seededRandom(seed);
  const times: number[] = [];
  let start = 0;
  for (const phase of PHASES) {
    let t = start;
    for (;;) {
      t += -Math.log(1 - random()) * (1000 / phase.ratePerSecond);
      if (t >= start + phase.durationMs) break;
      times.push(t);
    }
    start += phase.durationMs;
  }
  return times;
}

function percentile95(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
}

export function simulate(window: { adaptive: true } | { windowMs: number }, times = arrivals()): PhaseFigures[] {
  return simulateScenario(STEPPED, window, times);
}

/** A load scenario: phases of Poisson arrivals, each with a backend cost factor (1: `duration(n)` as is). */
export interface Scenario {
  readonly phases: readonly { readonly name: string; readonly ratePerSecond: number; readonly durationMs: number; readonly costFactor?: number }[];
  readonly targetLatencyMs: number;
  readonly seed: number;
}

const STEPPED: Scenario = { phases: PHASES, targetLatencyMs: TARGET_LATENCY_MS, seed: 7 };

/** Arrival times (ms) of a Poisson process stepping through a scenario's phases. */
export function scenarioArrivals(scenario: Scenario, seed = scenario.seed): number[] {
  const random = seededRandom(seed);
  const times: number[] = [];
  let start = 0;
  for (const phase of scenario.phases) {
    let t = start;
    for (;;) {
      t += -Math.log(1 - random()) * (1000 / phase.ratePerSecond);
      if (t >= start + phase.durationMs) break;
      times.push(t);
    }
    start += phase.durationMs;
  }
  return times;
}

export interface ScenarioRun {
  readonly phases: PhaseFigures[];
  /** Every request: when it arrived and when its result came (virtual ms). */
  readonly results: readonly { readonly arrivedAt: number; readonly doneAt: number }[];
  /** Every backend call: when it started and how many items it carried. */
  readonly calls: readonly { readonly at: number; readonly n: number }[];
}

/**
 * Runs a scenario through `batchDedup` on virtual time. A call's cost is `duration(n)` times the cost factor of
 * the phase in which it starts.
 */
export function runScenario(scenario: Scenario, window: { adaptive: true } | { windowMs: number }, times = scenarioArrivals(scenario)): ScenarioRun {
  const clock = virtualClock();
  const scheduler = clock.scheduler;
  const calls: { at: number; n: number }[] = [];
  const results: { arrivedAt: number; doneAt: number }[] = [];
  const requests = new Subject<number>();
  const factorAt = (t: number) => {
    let end = 0;
    for (const phase of scenario.phases) if (t < (end += phase.durationMs)) return phase.costFactor ?? 1;
    return 1;
  };
  const options =
    'adaptive' in window
      ? { adaptive: true, targetLatencyMs: scenario.targetLatencyMs, minWindowMs: 0, maxWindowMs: 200, windowMs: 20 }
      : { windowMs: window.windowMs };
  requests
    .pipe(
      batchDedup<number, number>({
        ...options,
        maxSize: MAX_SIZE,
        concurrency: CONCURRENCY,
        enableDedup: false,
        scheduler,
        execute: (items) => {
          const at = scheduler.now();
          calls.push({ at, n: items.length });
          return timer(duration(items.length) * factorAt(at), scheduler).pipe(map(() => items));
        },
      }),
    )
    .subscribe((result: BatchResult<number, number>) => results.push({ arrivedAt: result.request, doneAt: scheduler.now() }));
  playArrivals(scheduler, times, (i) => requests.next(times[i]!));
  clock.runAll();
  requests.complete();
  clock.runAll();

  let start = 0;
  const phases = scenario.phases.map((phase) => {
    const end = start + phase.durationMs;
    const inPhase = results.filter((r) => r.arrivedAt >= start && r.arrivedAt < end);
    const completedInPhase = results.filter((r) => r.doneAt >= start && r.doneAt < end).length;
    const phaseCalls = calls.filter((c) => c.at >= start && c.at < end);
    start = end;
    return {
      phase: phase.name,
      p95Ms: percentile95(inPhase.map((r) => r.doneAt - r.arrivedAt)),
      throughputPerSecond: completedInPhase / (phase.durationMs / 1000),
      backendCalls: phaseCalls.length,
      meanBatch: phaseCalls.reduce((s, c) => s + c.n, 0) / Math.max(1, phaseCalls.length),
    };
  });
  return { phases, results, calls };
}

export function simulateScenario(scenario: Scenario, window: { adaptive: true } | { windowMs: number }, times = scenarioArrivals(scenario)): PhaseFigures[] {
  return runScenario(scenario, window, times).phases;
}

export const CONFIGURATIONS: { label: string; window: { adaptive: true } | { windowMs: number } }[] = [
  { label: 'adaptive', window: { adaptive: true } },
  { label: 'fixed 5 ms', window: { windowMs: 5 } },
  { label: 'fixed 20 ms', window: { windowMs: 20 } },
  { label: 'fixed 50 ms', window: { windowMs: 50 } },
  { label: 'fixed 200 ms', window: { windowMs: 200 } },
];

/**
 * The slowdown scenario (issue 15): steady Poisson arrivals at 400/s; for 3 s the backend's per-call cost
 * triples (`3 * duration(n)`: 60 ms + 1.5 ms/item); concurrency 2; target p95 150 ms. Under the slow backend
 * both slots are busy: the saturated case the model's lower bound is for.
 */
export const SLOWDOWN: Scenario = {
  phases: [
    { name: 'before', ratePerSecond: 400, durationMs: 4000 },
    { name: 'slow x3', ratePerSecond: 400, durationMs: 3000, costFactor: 3 },
    { name: 'after', ratePerSecond: 400, durationMs: 4000 },
  ],
  targetLatencyMs: 150,
  seed: 11,
};

/** The fixed windows adaptive is compared with in the slowdown scenario. */
export const SLOWDOWN_FIXED = [5, 10, 20, 30, 40, 50, 60, 75, 100, 150, 200];

export interface SlowdownVerdict {
  readonly phase: string;
  readonly adaptive: PhaseFigures;
  /** The fixed window with the fewest calls among those holding the target in this phase, if any does. */
  readonly cheapest: { readonly windowMs: number; readonly figures: PhaseFigures } | undefined;
  readonly holds: boolean;
  /** Adaptive's calls over the cheapest holding fixed window's (NaN when none holds). */
  readonly callRatio: number;
}

/**
 * How long after the backend speeds up (the end of the slow phase) requests still miss the target: the end of
 * the last 100 ms stretch of arrivals whose p95 is above it, from the speed-up (0 when none is).
 */
export function recoveryMs(run: ScenarioRun, scenario: Scenario, slowPhase = 1): number {
  let speedUp = 0;
  for (let p = 0; p <= slowPhase; p++) speedUp += scenario.phases[p]!.durationMs;
  let recovered = 0;
  for (let t = speedUp; t < speedUp + 3000; t += 100) {
    const latencies = run.results.filter((r) => r.arrivedAt >= t && r.arrivedAt < t + 100).map((r) => r.doneAt - r.arrivedAt);
    if (percentile95(latencies) > scenario.targetLatencyMs) recovered = t + 100 - speedUp;
  }
  return recovered;
}

/** Runs the slowdown scenario for adaptive and every fixed window, and judges adaptive phase by phase. */
export function slowdownVerdicts(
  scenario = SLOWDOWN,
  seed = scenario.seed,
): { verdicts: SlowdownVerdict[]; fixed: { windowMs: number; figures: PhaseFigures[] }[]; adaptive: ScenarioRun } {
  const times = scenarioArrivals(scenario, seed);
  const adaptive = runScenario(scenario, { adaptive: true }, times);
  const fixed = SLOWDOWN_FIXED.map((windowMs) => ({ windowMs, figures: simulateScenario(scenario, { windowMs }, times) }));
  const verdicts = scenario.phases.map((phase, p) => {
    const holding = fixed.filter((f) => f.figures[p]!.p95Ms <= scenario.targetLatencyMs);
    const cheapest = holding.sort((x, y) => x.figures[p]!.backendCalls - y.figures[p]!.backendCalls)[0];
    const mine = adaptive.phases[p]!;
    return {
      phase: phase.name,
      adaptive: mine,
      cheapest: cheapest && { windowMs: cheapest.windowMs, figures: cheapest.figures[p]! },
      holds: mine.p95Ms <= scenario.targetLatencyMs,
      callRatio: cheapest ? mine.backendCalls / cheapest.figures[p]!.backendCalls : Number.NaN,
    };
  });
  return { verdicts, fixed, adaptive };
}

/** The seeds the slowdown scenario is run on: its own (11, the table shown) and four more. */
export const SLOWDOWN_SEEDS = [11, 12, 13, 14, 15];

/** One seed's run of the slowdown scenario, judged. */
export interface SeedOutcome {
  readonly seed: number;
  readonly verdicts: SlowdownVerdict[];
  readonly recoveryMs: number;
  /** Adaptive holds the target in every phase where some fixed window holds it. */
  readonly holdsWhereFixedDoes: boolean;
}

/** The slowdown scenario on each seed: the verdicts per phase and the recovery after the speed-up. */
export function slowdownOutcomes(seeds = SLOWDOWN_SEEDS, scenario = SLOWDOWN): SeedOutcome[] {
  return seeds.map((seed) => {
    const { verdicts, adaptive } = slowdownVerdicts(scenario, seed);
    return {
      seed,
      verdicts,
      recoveryMs: recoveryMs(adaptive, scenario),
      holdsWhereFixedDoes: verdicts.every((v) => v.holds || v.cheapest === undefined),
    };
  });
}

/** Per phase, the worst case over seeds: highest adaptive p95, highest call ratio (over seeds where a fixed window holds). */
export interface PhaseWorst {
  readonly phase: string;
  readonly worstP95Ms: number;
  readonly worstP95Seed: number;
  /** Seeds on which some fixed window holds the target in this phase, and of those, on how many adaptive does. */
  readonly seedsWithHolder: number;
  readonly seedsHeld: number;
  /** NaN when no fixed window holds on any seed. */
  readonly worstCallRatio: number;
  readonly worstCallRatioSeed: number;
  /** The cheapest holding fixed windows over seeds (ms), e.g. [75, 100]. */
  readonly cheapestWindows: readonly number[];
}

export function worstOverSeeds(outcomes: readonly SeedOutcome[], scenario = SLOWDOWN): PhaseWorst[] {
  return scenario.phases.map((phase, p) => {
    let worstP95 = { value: -Infinity, seed: Number.NaN };
    let worstRatio = { value: Number.NaN, seed: Number.NaN };
    let seedsWithHolder = 0;
    let seedsHeld = 0;
    const cheapestWindows = new Set<number>();
    for (const outcome of outcomes) {
      const v = outcome.verdicts[p]!;
      if (v.adaptive.p95Ms > worstP95.value) worstP95 = { value: v.adaptive.p95Ms, seed: outcome.seed };
      if (v.cheapest === undefined) continue;
      seedsWithHolder++;
      if (v.holds) seedsHeld++;
      cheapestWindows.add(v.cheapest.windowMs);
      if (!(v.callRatio <= worstRatio.value)) worstRatio = { value: v.callRatio, seed: outcome.seed };
    }
    return {
      phase: phase.name,
      worstP95Ms: worstP95.value,
      worstP95Seed: worstP95.seed,
      seedsWithHolder,
      seedsHeld,
      worstCallRatio: worstRatio.value,
      worstCallRatioSeed: worstRatio.seed,
      cheapestWindows: [...cheapestWindows].sort((x, y) => x - y),
    };
  });
}

/** The line the bench ends with (what the lead quotes). */
export function slowdownLine(outcomes: readonly SeedOutcome[], worst: readonly PhaseWorst[]): string {
  const held = outcomes.filter((o) => o.holdsWhereFixedDoes).length;
  const ratio = Math.max(...worst.map((w) => (Number.isNaN(w.worstCallRatio) ? 0 : w.worstCallRatio)));
  const recovery = Math.max(...outcomes.map((o) => o.recoveryMs));
  return `adaptive under slowdown: holds target in every phase on ${held}/${outcomes.length} seeds, calls <= ${ratio.toFixed(2)}x cheapest fixed, recovery ${(recovery / 1000).toFixed(1)} s`;
}

export default async function adaptiveBench(): Promise<BenchSection> {
  const times = arrivals();
  console.log(`adaptive window vs fixed windows: backend 20 ms + 0.5 ms/item, concurrency ${CONCURRENCY}, maxSize ${MAX_SIZE}, target p95 ${TARGET_LATENCY_MS} ms`);
  console.log(`${times.length} Poisson arrivals: ${PHASES.map((p) => `${p.name} ${p.ratePerSecond}/s for ${p.durationMs / 1000} s`).join(', ')} (virtual time)\n`);
  const table: { label: string; figures: PhaseFigures[] }[] = [];
  for (const { label, window } of CONFIGURATIONS) table.push({ label, figures: simulate(window, times) });
  const header = ['configuration', ...PHASES.map((p) => `${p.name}: p95 ms | req/s | calls | batch`)];
  console.log(header.map((h, i) => (i === 0 ? h.padEnd(14) : h.padEnd(38))).join(''));
  for (const { label, figures } of table) {
    const cells = figures.map(
      (f) => `${f.p95Ms.toFixed(1).padStart(6)} | ${f.throughputPerSecond.toFixed(0).padStart(5)} | ${String(f.backendCalls).padStart(5)} | ${f.meanBatch.toFixed(1).padStart(5)}`,
    );
    console.log([label.padEnd(14), ...cells.map((c) => c.padEnd(38))].join(''));
  }
  writeFileSync(new URL('../docs/adaptive.svg', import.meta.url), plot(table));
  console.log('\nwrote docs/adaptive.svg\n');

  const stepped = markdownTable(
    ['configuration', ...PHASES.map((p) => `${p.name} ${p.ratePerSecond}/s: p95 / req/s / calls / mean batch`)],
    table.map(({ label, figures }) => [
      label === 'adaptive' ? '**adaptive**' : label,
      ...figures.map((f) => `${f.p95Ms.toFixed(1)} ms / ${f.throughputPerSecond.toFixed(0)} / ${f.backendCalls} / ${f.meanBatch.toFixed(1)}`),
    ]),
  );

  const { verdicts, fixed, adaptive } = slowdownVerdicts();
  const recovery = recoveryMs(adaptive, SLOWDOWN);
  console.log(`slowdown: 400 requests/s; backend 20 ms + 0.5 ms/item, x3 for 3 s; concurrency ${CONCURRENCY}; target p95 ${SLOWDOWN.targetLatencyMs} ms; seed ${SLOWDOWN.seed}`);
  const slowHeader = ['configuration', ...SLOWDOWN.phases.map((p) => `${p.name}: p95 ms / calls`)];
  const slowRows = [
    ['adaptive', ...adaptive.phases.map((f) => `${f.p95Ms.toFixed(1)} / ${f.backendCalls}`)],
    ...fixed.map(({ windowMs, figures }) => [`fixed ${windowMs} ms`, ...figures.map((f) => `${f.p95Ms.toFixed(1)} / ${f.backendCalls}`)]),
  ];
  console.log(consoleTable(slowHeader, slowRows));
  const lines = verdicts.map(
    (v) =>
      `${v.phase}: adaptive p95 ${v.adaptive.p95Ms.toFixed(1)} ms (${v.holds ? 'holds' : 'MISSES'}), ${v.adaptive.backendCalls} calls; cheapest fixed window holding the target: ${
        v.cheapest ? `${v.cheapest.windowMs} ms, ${v.cheapest.figures.backendCalls} calls (adaptive ${v.callRatio.toFixed(2)}x)` : 'none'
      }`,
  );
  for (const line of lines) console.log(line);
  const recovered = `recovery: ${recovery === 0 ? 'no 100 ms stretch of arrivals after the backend speeds up has a p95 over the target' : `requests meet the target again ${recovery} ms after the backend speeds up`}`;
  console.log(recovered);

  // The same scenario on every seed: per seed, adaptive's p95 / calls and its call ratio per phase; then the worst case.
  const outcomes = slowdownOutcomes();
  const seedHeader = ['seed', ...SLOWDOWN.phases.map((p) => `${p.name}: p95 ms / calls / ratio`), 'recovery ms'];
  const seedRows = outcomes.map((o) => [
    String(o.seed),
    ...o.verdicts.map((v) => `${v.adaptive.p95Ms.toFixed(1)}${v.holds || !v.cheapest ? '' : ' MISS'} / ${v.adaptive.backendCalls} / ${v.cheapest ? `${v.callRatio.toFixed(2)}x` : '-'}`),
    String(o.recoveryMs),
  ]);
  console.log(`\nslowdown on seeds ${SLOWDOWN_SEEDS.join(', ')} (ratio: adaptive's calls over the cheapest fixed window holding the target on that seed)`);
  console.log(consoleTable(seedHeader, seedRows));
  const worst = worstOverSeeds(outcomes);
  const worstHeader = ['phase', 'worst adaptive p95 ms (seed)', 'seeds held / with a fixed window holding', 'worst calls ratio (seed)', 'cheapest fixed windows'];
  const worstRows = worst.map((w) => [
    w.phase,
    `${w.worstP95Ms.toFixed(1)} (${w.worstP95Seed})`,
    `${w.seedsHeld} / ${w.seedsWithHolder}`,
    Number.isNaN(w.worstCallRatio) ? '-' : `${w.worstCallRatio.toFixed(2)}x (${w.worstCallRatioSeed})`,
    w.cheapestWindows.map((ms) => `${ms} ms`).join(', '),
  ]);
  console.log(`\nworst case over seeds, per phase (target p95 ${SLOWDOWN.targetLatencyMs} ms)`);
  console.log(consoleTable(worstHeader, worstRows));
  const last = slowdownLine(outcomes, worst);
  console.log(last);

  const markdown = [
    'On virtual time, so the figures are exact and the same on every run. Reproduce with `npm run bench -- adaptive`',
    '(docs/adaptive.md explains the controller).',
    '',
    `**Stepped load** (backend 20 ms + 0.5 ms/item, concurrency ${CONCURRENCY}, maxSize ${MAX_SIZE}, target p95 ${TARGET_LATENCY_MS} ms, Poisson arrivals):`,
    '',
    stepped,
    '',
    `**Slowdown** (400 requests/s; the backend's per-call cost triples for 3 s; concurrency ${CONCURRENCY}; target p95 ${SLOWDOWN.targetLatencyMs} ms; seed ${SLOWDOWN.seed}):`,
    '',
    markdownTable(slowHeader, slowRows.map((row, i) => (i === 0 ? [`**${row[0]}**`, ...row.slice(1)] : row))),
    '',
    ...lines.map((line) => `- ${line}`),
    `- ${recovered}`,
    '',
    `**Slowdown on seeds ${SLOWDOWN_SEEDS.join(', ')}** (ratio: adaptive's calls over the cheapest fixed window holding the target on that seed; MISS: over the target where a fixed window holds it):`,
    '',
    markdownTable(seedHeader, seedRows),
    '',
    'Worst case over those seeds, per phase:',
    '',
    markdownTable(worstHeader, worstRows),
    '',
    `\`${last}\``,
  ].join('\n');
  const slow = worst[1]!;
  return {
    title: 'Adaptive window',
    summary: `Adaptive window: holds the p95 target in every phase of the stepped load; under a backend slowed down x3 (5 seeds), ${last.replace('adaptive under slowdown: ', '')} (slow phase: worst p95 ${slow.worstP95Ms.toFixed(1)} ms against ${SLOWDOWN.targetLatencyMs}).`,
    markdown,
    lastLine: last,
  };
}

/** Grouped bars of p95 latency per phase and configuration, with the target as a line. */
function plot(table: { label: string; figures: PhaseFigures[] }[]): string {
  const width = 720;
  const height = 320;
  const left = 56;
  const bottom = 260;
  const top = 30;
  const maxY = Math.ceil(Math.max(TARGET_LATENCY_MS * 1.5, ...table.flatMap((row) => row.figures.map((f) => f.p95Ms))) / 50) * 50;
  const y = (v: number) => bottom - ((bottom - top) * v) / maxY;
  const colors = ['#1b7f3b', '#9ecae1', '#6baed6', '#3182bd', '#08519c'];
  const groupWidth = (width - left - 20) / PHASES.length;
  const barWidth = (groupWidth - 30) / table.length;
  const parts: string[] = [];
  for (let tick = 0; tick <= maxY; tick += 50) {
    parts.push(`<line x1="${left}" x2="${width - 20}" y1="${y(tick)}" y2="${y(tick)}" stroke="#eee"/>`);
    parts.push(`<text x="${left - 6}" y="${y(tick) + 4}" text-anchor="end">${tick}</text>`);
  }
  PHASES.forEach((phase, p) => {
    const x0 = left + p * groupWidth + 15;
    table.forEach((row, c) => {
      const v = row.figures[p]!.p95Ms;
      parts.push(`<rect x="${(x0 + c * barWidth).toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(bottom - y(v)).toFixed(1)}" fill="${colors[c % colors.length]}"><title>${row.label}, ${phase.name}: p95 ${v.toFixed(1)} ms</title></rect>`);
    });
    parts.push(`<text x="${(x0 + (groupWidth - 30) / 2).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${phase.name} (${phase.ratePerSecond}/s)</text>`);
  });
  parts.push(`<line x1="${left}" x2="${width - 20}" y1="${y(TARGET_LATENCY_MS)}" y2="${y(TARGET_LATENCY_MS)}" stroke="#d62728" stroke-dasharray="6 4"/>`);
  parts.push(`<text x="${width - 22}" y="${y(TARGET_LATENCY_MS) - 5}" text-anchor="end" fill="#d62728">target ${TARGET_LATENCY_MS} ms</text>`);
  table.forEach((row, c) => {
    parts.push(`<rect x="${left + c * 130}" y="${height - 22}" width="12" height="12" fill="${colors[c % colors.length]}"/>`);
    parts.push(`<text x="${left + c * 130 + 16}" y="${height - 12}">${row.label}</text>`);
  });
  parts.push(`<text x="${left}" y="18" font-weight="bold">p95 latency (ms) per phase: adaptive window vs fixed windows</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">\n${parts.join('\n')}\n</svg>\n`;
}

/**
 * Variants of the slowdown scenario, for checks on data the controller was not tuned on: the backend's cost x2
 * or x4 instead of x3, arrivals at 300/s or 500/s instead of 400/s. Run with `npx tsx bench/adaptive.bench.ts
 * --held-out` (seeds 16-60 of each, and of the bench's own scenario); not part of `npm run bench`.
 */
export const SLOWDOWN_VARIANTS: Record<string, Scenario> = {
  'slowdown x3 (the bench\'s)': SLOWDOWN,
  'cost x2': { ...SLOWDOWN, phases: SLOWDOWN.phases.map((p) => (p.costFactor ? { ...p, costFactor: 2 } : p)) },
  'cost x4': { ...SLOWDOWN, phases: SLOWDOWN.phases.map((p) => (p.costFactor ? { ...p, costFactor: 4 } : p)) },
  '300/s': { ...SLOWDOWN, phases: SLOWDOWN.phases.map((p) => ({ ...p, ratePerSecond: 300 })) },
  '500/s': { ...SLOWDOWN, phases: SLOWDOWN.phases.map((p) => ({ ...p, ratePerSecond: 500 })) },
};

/** Seeds 16-60: none of them was looked at while choosing the controller's constants. */
export const HELD_OUT_SEEDS = Array.from({ length: 45 }, (_, i) => 16 + i);

/**
 * One line per scenario: on how many seeds adaptive holds the target in every phase where a fixed window does,
 * and on how many it meets every criterion of issue 15 (also at most 1.2x the calls of the cheapest holding fixed
 * window in every phase, and recovery within 1 s); the worst call ratio per phase, and the seeds that miss.
 */
export function heldOutLine(name: string, scenario: Scenario, seeds = HELD_OUT_SEEDS): string {
  const outcomes = slowdownOutcomes(seeds, scenario);
  const worst = worstOverSeeds(outcomes, scenario);
  const latency = outcomes.filter((o) => o.holdsWhereFixedDoes);
  const every = latency.filter((o) => o.recoveryMs <= 1000 && o.verdicts.every((v) => !(v.callRatio > 1.2)));
  const misses = outcomes.filter((o) => !o.holdsWhereFixedDoes).map((o) => o.seed);
  const ratios = worst.map((w) => (Number.isNaN(w.worstCallRatio) ? '-' : `${w.worstCallRatio.toFixed(2)}x`)).join(' / ');
  return `${name}, seeds ${seeds[0]}-${seeds[seeds.length - 1]}: target held where a fixed window holds it on ${latency.length}/${seeds.length}${
    misses.length > 0 ? ` (misses: ${misses.join(', ')})` : ''
  }; every criterion on ${every.length}/${seeds.length}; worst calls ratio per phase ${ratios}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--held-out')) {
    for (const [name, scenario] of Object.entries(SLOWDOWN_VARIANTS)) console.log(heldOutLine(name, scenario));
  } else await adaptiveBench();
}
