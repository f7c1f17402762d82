/**
 * Generates src/dedup/columnScanWasm.ts: the bytes of a small WebAssembly module (SIMD) with one function,
 * `scan`, the first checks of the semantic leader search (src/dedup/vectorLeaders.ts, `LeaderColumns`), four
 * leaders at a time. Written out by hand here, opcode by opcode, so the project needs no WebAssembly toolchain:
 *
 *   node scripts/gen-column-scan.mjs      # rewrites src/dedup/columnScanWasm.ts
 *
 * scan(cols, width, stride, count, from, first, second) -> the first leader j >= from whose checks pass, or -1.
 *   Memory at 0: the candidate's TOP = 8 largest coordinates over its norm (f32), at 32: the byte offsets of their
 *   columns in a block (i32, dimension * width * 4). Leaders are in blocks of `width` (a multiple of 4) from byte
 *   `cols`, `stride` bytes apart; leader j's coordinate in dimension d is the f32 at
 *   cols + (j / width) * stride + d * width * 4 + (j % width) * 4.
 *   Four leaders at a time: half = sum of the first 4 products; lanes with half < first are refused; for the others
 *   full = half + the next 4 products; lanes with full < second are refused. A NaN is never refused (`<` is false).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const uleb = (n) => {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};
const sleb = (n) => {
  const out = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
};
const vec = (items) => [...uleb(items.length), ...items.flat()];
const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
const name = (s) => vec([...s].map((c) => c.charCodeAt(0)));

const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b, VOID = 0x40;
// Core opcodes.
const get = (i) => [0x20, ...uleb(i)];
const set = (i) => [0x21, ...uleb(i)];
const tee = (i) => [0x22, ...uleb(i)];
const i32 = (n) => [0x41, ...sleb(n)];
const op = {
  add: [0x6a], sub: [0x6b], mul: [0x6c], divU: [0x6e], and: [0x71], xor: [0x73], shl: [0x74], ctz: [0x68],
  geS: [0x4e], ltS: [0x48], select: [0x1b], ret: [0x0f], end: [0x0b],
};
const f32load = (offset) => [0x2a, 2, ...uleb(offset)];
const i32load = (offset) => [0x28, 2, ...uleb(offset)];
const block = [0x02, VOID], loop = [0x03, VOID], iff = [0x04, VOID];
const br = (depth) => [0x0c, ...uleb(depth)];
const brIf = (depth) => [0x0d, ...uleb(depth)];
// SIMD opcodes (prefix 0xfd, then the opcode as a LEB128 u32).
const simd = (code) => [0xfd, ...uleb(code)];
const v128load = [...simd(0x00), 4, 0];
const f32x4 = { splat: simd(0x13), lt: simd(0x43), add: simd(0xe4), mul: simd(0xe6) };
const bitmask = simd(0xa4);

// Locals: parameters, then i32s, then v128s.
const [COLS, WIDTH, STRIDE, COUNT, FROM, FIRST, SECOND] = [0, 1, 2, 3, 4, 5, 6];
const [START, KK, END, P, M, LO, B, BLOCK_ADDR] = [7, 8, 9, 10, 11, 12, 13, 14];
const O = (t) => 15 + t; // 15..22: column offsets
const I32_LOCALS = 16; // 7..22
const U = (t) => 23 + t; // 23..30
const [F1, F2, H] = [31, 32, 33];
const V128_LOCALS = 11; // 23..33

/** u_t times the 4 leaders' coordinates in the column of t, at address p. */
const term = (t) => [...get(U(t)), ...get(P), ...get(O(t)), ...op.add, ...v128load, ...f32x4.mul];

const body = [
  ...vec([
    [...uleb(I32_LOCALS), I32],
    [...uleb(V128_LOCALS), V128],
  ]),
  // The candidate's coordinates and column offsets, from memory at 0 and 32.
  ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((t) => [...i32(0), ...f32load(4 * t), ...f32x4.splat, ...set(U(t)), ...i32(0), ...i32load(32 + 4 * t), ...set(O(t))]),
  ...get(FIRST), ...f32x4.splat, ...set(F1),
  ...get(SECOND), ...f32x4.splat, ...set(F2),
  // b = from / width; start = b * width; kk = (from - start) & ~3; lo = (from - start) & 3.
  ...get(FROM), ...get(WIDTH), ...op.divU, ...set(B),
  ...get(B), ...get(WIDTH), ...op.mul, ...set(START),
  ...get(FROM), ...get(START), ...op.sub, ...tee(LO), ...i32(-4), ...op.and, ...set(KK),
  ...get(LO), ...i32(3), ...op.and, ...set(LO),
  ...get(COLS), ...get(B), ...get(STRIDE), ...op.mul, ...op.add, ...set(BLOCK_ADDR),
  ...block, // $done
  ...loop, // $blocks
  ...get(START), ...get(COUNT), ...op.geS, ...brIf(1),
  // end = min(width, count - start)
  ...get(COUNT), ...get(START), ...op.sub, ...set(END),
  ...get(END), ...get(WIDTH), ...get(END), ...get(WIDTH), ...op.ltS, ...op.select, ...set(END),
  ...block, // $nextBlock
  ...loop, // $lanes
  ...get(KK), ...get(END), ...op.geS, ...brIf(1),
  ...get(BLOCK_ADDR), ...get(KK), ...i32(2), ...op.shl, ...op.add, ...set(P),
  ...term(0), ...term(1), ...f32x4.add, ...term(2), ...term(3), ...f32x4.add, ...f32x4.add,
  ...tee(H), ...get(F1), ...f32x4.lt, ...bitmask, ...i32(15), ...op.xor, ...tee(M),
  ...iff,
  // Only lanes from `lo` on, and before `end`: m &= (-1 << lo) & (end - kk < 4 ? (1 << (end - kk)) - 1 : 15).
  ...get(M), ...i32(-1), ...get(LO), ...op.shl, ...op.and,
  ...i32(1), ...get(END), ...get(KK), ...op.sub, ...op.shl, ...i32(1), ...op.sub,
  ...i32(15),
  ...get(END), ...get(KK), ...op.sub, ...i32(4), ...op.ltS, ...op.select,
  ...op.and, ...tee(M),
  ...iff,
  ...get(H), ...term(4), ...term(5), ...f32x4.add, ...term(6), ...term(7), ...f32x4.add, ...f32x4.add, ...f32x4.add,
  ...get(F2), ...f32x4.lt, ...bitmask, ...i32(15), ...op.xor, ...get(M), ...op.and, ...tee(M),
  ...iff,
  ...get(START), ...get(KK), ...op.add, ...get(M), ...op.ctz, ...op.add, ...op.ret,
  ...op.end,
  ...op.end,
  ...op.end,
  ...i32(0), ...set(LO),
  ...get(KK), ...i32(4), ...op.add, ...set(KK),
  ...br(0),
  ...op.end, // $lanes
  ...op.end, // $nextBlock
  ...get(START), ...get(WIDTH), ...op.add, ...set(START),
  ...get(BLOCK_ADDR), ...get(STRIDE), ...op.add, ...set(BLOCK_ADDR),
  ...i32(0), ...set(KK),
  ...i32(0), ...set(LO),
  ...br(0),
  ...op.end, // $blocks
  ...op.end, // $done
  ...i32(-1),
  ...op.end,
];

const bytes = [
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...section(1, vec([[0x60, ...vec([I32, I32, I32, I32, I32, F32, F32]), ...vec([I32])]])),
  ...section(3, vec([[0]])),
  ...section(5, vec([[0x00, 1]])),
  ...section(7, vec([[...name('scan'), 0x00, 0], [...name('memory'), 0x02, 0]])),
  ...section(10, vec([[...uleb(body.length), ...body]])),
];

const lines = [];
for (let i = 0; i < bytes.length; i += 24) lines.push(`  ${bytes.slice(i, i + 24).join(', ')},`);
const source = `// Generated by scripts/gen-column-scan.mjs: do not edit (run \`node scripts/gen-column-scan.mjs\` instead).

/** The WebAssembly module of \`scan\`, the first checks of the leader search, four leaders at a time (see the script). */
export const COLUMN_SCAN_WASM = /* @__PURE__ */ new Uint8Array([
${lines.join('\n')}
]);
`;
writeFileSync(fileURLToPath(new URL('../src/dedup/columnScanWasm.ts', import.meta.url)), source);
console.log(`src/dedup/columnScanWasm.ts: ${bytes.length} bytes`);
