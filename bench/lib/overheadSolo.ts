/**
 * One contender of bench/overhead.bench.ts, alone in this process: `node --import tsx bench/lib/overheadSolo.ts
 * <contender name> <N>` prints `{"requestsPerSecond":..,"rme":..}` on its last line.
 *
 * Why a process each: measured in one process, contenders change each other's figures through the heap and the
 * JIT they share (DataLoader with its cache on, N = 1024, ran at a third of its own speed beside the others,
 * which put our dedup ratio at 1.46x where, alone, it is about 0.6x). A user's service runs one batcher, not
 * eleven: each contender is measured in a fresh V8.
 */
import { Bench } from 'tinybench';
import { contenders as benched, prototypes, SOLO_TIME_MS } from '../overhead.bench.js';

const contenders = [...benched, ...prototypes];

const [name, sizeText] = process.argv.slice(2);
const size = Number(sizeText);
const contender = contenders.find((c) => c.name === name);
if (!contender || !Number.isInteger(size) || size < 1) {
  console.error(`usage: overheadSolo.ts <contender> <N>; contenders: ${contenders.map((c) => c.name).join(', ')}`);
  process.exit(2);
}
const keys = Array.from({ length: size }, (_, i) => `q${i}`);
const round = contender.setup(keys);
const bench = new Bench({ time: SOLO_TIME_MS, warmupTime: 250 });
bench.add(contender.name, round.run);
await bench.run();
await round.dispose();
const result = bench.tasks[0]!.result;
if (result.state !== 'completed') throw new Error(`${contender.name}: ${result.state}`);
console.log(JSON.stringify({ requestsPerSecond: result.throughput.mean * size, rme: result.throughput.rme }));
process.exit(0);
