/**
 * Generates src/dedup/columnScanWasm.ts: the bytes of a small WebAssembly module (SIMD) with one function,
 * `scan`, the first checks of the semantic leader search (src/dedup/vectorLeaders.ts, `LeaderColumns`), eight
 * leaders at a time. Written out by hand here, opcode by opcode, so the project needs no WebAssembly toolchain:
 *
 *   node scripts/gen-column-scan.mjs      # rewrites src/dedup/columnScanWasm.ts
 *
 * scan(cols, width, stride, count, from, first, second, third) -> the first leader j in [from, count) whose
 *   checks pass, or -1. Everything is an integer (16-bit coordinates, exact 32-bit sums), so this scan and the JavaScript one
 *   agree to the bit.
 *   Memory at 0: the candidate's TOP = 16 largest coordinates over its norm, scaled to 16 bits, in pairs: word k
 *   (i32) holds coordinate 2k in its low half and 2k + 1 in its high half; at 32: the byte offsets of their
 *   columns in a block (i32, dimension * width * 2). Leaders are in blocks of `width` (a multiple of 8) from byte `cols`,
 *   `stride` bytes apart; leader j's coordinate in dimension d is the i16 at
 *   cols + (j / width) * stride + d * width * 2 + (j % width) * 2.
 *   Eight leaders at a time: the columns of two coordinates are interleaved (i8x16.shuffle) and multiplied by
 *   their pair of candidate coordinates with i32x4.dot_i16x8_s, four leaders per vector; half = sum over the first
 *   4 coordinates; lanes with half < first are refused; for the others, the sum over 8 coordinates; lanes with
 *   it < second are refused; for the others, the sum over 16; lanes with it < third are refused.
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

const I32 = 0x7f, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b, VOID = 0x40;
// Core opcodes.
const get = (i) => [0x20, ...uleb(i)];
const set = (i) => [0x21, ...uleb(i)];
const tee = (i) => [0x22, ...uleb(i)];
const i32 = (n) => [0x41, ...sleb(n)];
const op = {
  add: [0x6a], sub: [0x6b], mul: [0x6c], divU: [0x6e], and: [0x71], xor: [0x73], shl: [0x74], ctz: [0x68],
  geS: [0x4e], ltS: [0x48], select: [0x1b], ret: [0x0f], end: [0x0b], eqz: [0x45], shrU: [0x76], geU: [0x4f],
};
const f32load = (offset) => [0x2a, 2, ...uleb(offset)];
const i32store = (offset) => [0x36, 2, ...uleb(offset)];
const i32store16 = (offset) => [0x3b, 1, ...uleb(offset)];
const f64promote = [0xbb];
const f64mul = [0xa2];
const i32truncSatF64S = [0xfc, 0x02];
const i32load = (offset) => [0x28, 2, ...uleb(offset)];
const block = [0x02, VOID], loop = [0x03, VOID], iff = [0x04, VOID];
const br = (depth) => [0x0c, ...uleb(depth)];
const brIf = (depth) => [0x0d, ...uleb(depth)];
// SIMD opcodes (prefix 0xfd, then the opcode as a LEB128 u32).
const simd = (code) => [0xfd, ...uleb(code)];
const v128load = [...simd(0x00), 4, 0];
const shuffle = (lanes) => [...simd(0x0d), ...lanes];
/** The low four 16-bit lanes of a and b, interleaved: a0 b0 a1 b1 a2 b2 a3 b3 (bytes of a: 0-15, of b: 16-31). */
const interleaveLow = shuffle([0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23]);
/** The high four: a4 b4 ... a7 b7. */
const interleaveHigh = shuffle([8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31]);
const i32x4 = { splat: simd(0x11), ltS: simd(0x39), add: simd(0xae), dotI16x8S: simd(0xba) };
const i16x8 = { narrowI32x4S: simd(0x85), bitmask: simd(0x84) };

// Locals: parameters, then i32s, then v128s.
const [COLS, WIDTH, STRIDE, COUNT, FROM, FIRST, SECOND, THIRD] = [0, 1, 2, 3, 4, 5, 6, 7];
const [START, KK, END, P, M, LO, B, BLOCK_ADDR] = [8, 9, 10, 11, 12, 13, 14, 15];
const O = (t) => 16 + t; // 16..31: column offsets
const I32_LOCALS = 24; // 8..31
const W = (k) => 32 + k; // 32..39: the candidate's coordinates 2k and 2k + 1, in every 32-bit lane
const [F1, F2, F3, SL, SH, X, Y] = [40, 41, 42, 43, 44, 45, 46];
const V128_LOCALS = 15; // 32..46

/**
 * Adds the products of the pair k of coordinates (dimensions 2k and 2k + 1 of the candidate's TOP) for the
 * eight leaders at p to SL (leaders 0-3) and SH (leaders 4-7); with `first`, sets them instead.
 */
const pair = (k, first) => [
  ...get(P), ...get(O(2 * k)), ...op.add, ...v128load, ...set(X),
  ...get(P), ...get(O(2 * k + 1)), ...op.add, ...v128load, ...set(Y),
  ...(first ? [] : get(SL)), ...get(X), ...get(Y), ...interleaveLow, ...get(W(k)), ...i32x4.dotI16x8S, ...(first ? [] : i32x4.add), ...set(SL),
  ...(first ? [] : get(SH)), ...get(X), ...get(Y), ...interleaveHigh, ...get(W(k)), ...i32x4.dotI16x8S, ...(first ? [] : i32x4.add), ...set(SH),
];
/** The lanes of SL, SH not below `limit` (a v128 local), as 8 bits: 1 for a leader not refused. */
const passing = (limit) => [
  ...get(SL), ...get(limit), ...i32x4.ltS, ...get(SH), ...get(limit), ...i32x4.ltS, ...i16x8.narrowI32x4S, ...i16x8.bitmask,
  ...i32(255), ...op.xor,
];

const body = [
  ...vec([
    [...uleb(I32_LOCALS), I32],
    [...uleb(V128_LOCALS), V128],
  ]),
  // The candidate's pairs of coordinates and its column offsets, from memory at 0 and 32.
  ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((k) => [...i32(0), ...i32load(4 * k), ...i32x4.splat, ...set(W(k))]),
  ...Array.from({ length: 16 }, (_, t) => [...i32(0), ...i32load(32 + 4 * t), ...set(O(t))]).flat(),
  ...get(FIRST), ...i32x4.splat, ...set(F1),
  ...get(SECOND), ...i32x4.splat, ...set(F2),
  ...get(THIRD), ...i32x4.splat, ...set(F3),
  // b = from / width; start = b * width; kk = (from - start) & ~7; lo = (from - start) & 7.
  ...get(FROM), ...get(WIDTH), ...op.divU, ...set(B),
  ...get(B), ...get(WIDTH), ...op.mul, ...set(START),
  ...get(FROM), ...get(START), ...op.sub, ...tee(LO), ...i32(-8), ...op.and, ...set(KK),
  ...get(LO), ...i32(7), ...op.and, ...set(LO),
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
  ...get(BLOCK_ADDR), ...get(KK), ...i32(1), ...op.shl, ...op.add, ...set(P),
  ...pair(0, true), ...pair(1, false),
  ...passing(F1), ...tee(M),
  ...iff,
  // Only lanes from `lo` on, and before `end`: m &= (-1 << lo) & (end - kk < 8 ? (1 << (end - kk)) - 1 : 255).
  ...get(M), ...i32(-1), ...get(LO), ...op.shl, ...op.and,
  ...i32(1), ...get(END), ...get(KK), ...op.sub, ...op.shl, ...i32(1), ...op.sub,
  ...i32(255),
  ...get(END), ...get(KK), ...op.sub, ...i32(8), ...op.ltS, ...op.select,
  ...op.and, ...tee(M),
  ...iff,
  ...pair(2, false), ...pair(3, false),
  ...passing(F2), ...get(M), ...op.and, ...tee(M),
  ...iff,
  ...pair(4, false), ...pair(5, false), ...pair(6, false), ...pair(7, false),
  ...passing(F3), ...get(M), ...op.and, ...tee(M),
  ...iff,
  ...get(START), ...get(KK), ...op.add, ...get(M), ...op.ctz, ...op.add, ...op.ret,
  ...op.end,
  ...op.end,
  ...op.end,
  ...op.end,
  ...i32(0), ...set(LO),
  ...get(KK), ...i32(8), ...op.add, ...set(KK),
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

/**
 * pick(row, n, floor, out, max) -> found: the indexes k < n (n a multiple of 4) of the f32 row at `row` whose
 * square (in 32 bits) is at least `floor`, in order, written as i32 from `out`, at most `max` of them. Rounding
 * makes the choice approximate, which is all it has to be: any coordinates give a valid bound (vectorLeaders.ts).
 */
const [ROW, N, FLOOR, OUT, MAX] = [0, 1, 2, 3, 4];
const [K, FOUND, BITS] = [5, 6, 7];
const [FL, X_PICK] = [8, 9];
const f32x4 = { mul: simd(0xe6), ge: simd(0x46), splat: simd(0x13) };
const i32x4bitmask = simd(0xa4);
const pickBody = [
  ...vec([
    [3, I32],
    [2, V128],
  ]),
  ...get(FLOOR), ...f32x4.splat, ...set(FL),
  ...block, // $done
  ...loop, // $coordinates
  ...get(K), ...get(N), ...i32(2), ...op.shl, ...op.geS, ...brIf(1),
  ...get(ROW), ...get(K), ...op.add, ...v128load, ...tee(X_PICK), ...get(X_PICK), ...f32x4.mul, ...get(FL), ...f32x4.ge, ...i32x4bitmask, ...set(BITS),
  ...block, // $bitsDone
  ...loop, // $bits
  ...get(BITS), ...op.eqz, ...brIf(1),
  ...get(OUT), ...get(FOUND), ...i32(2), ...op.shl, ...op.add,
  ...get(K), ...i32(2), ...op.shrU, ...get(BITS), ...op.ctz, ...op.add,
  ...i32store(0),
  ...get(FOUND), ...i32(1), ...op.add, ...tee(FOUND), ...get(MAX), ...op.geS, ...brIf(3),
  ...get(BITS), ...get(BITS), ...i32(1), ...op.sub, ...op.and, ...set(BITS),
  ...br(0),
  ...op.end, // $bits
  ...op.end, // $bitsDone
  ...get(K), ...i32(16), ...op.add, ...set(K),
  ...br(0),
  ...op.end, // $coordinates
  ...op.end, // $done
  ...get(FOUND),
  ...op.end,
];

/**
 * unit(row, n, scale, dst, step): for k < n, the i16 at dst + k * step = trunc(f64(row[k]) * scale), as the
 * JavaScript `data[at + k * width] = vector[k] * scale` does (an Int16Array store truncates toward 0): the same
 * integers.
 */
const [UROW, UN, USCALE, UDST, USTEP] = [0, 1, 2, 3, 4];
const UEND = 5;
const unitBody = [
  ...vec([[1, I32]]),
  ...get(UROW), ...get(UN), ...i32(2), ...op.shl, ...op.add, ...set(UEND),
  ...block, // $done
  ...loop, // $coordinates
  ...get(UROW), ...get(UEND), ...op.geU, ...brIf(1),
  ...get(UDST),
  ...get(UROW), ...f32load(0), ...f64promote, ...get(USCALE), ...f64mul, ...i32truncSatF64S,
  ...i32store16(0),
  ...get(UROW), ...i32(4), ...op.add, ...set(UROW),
  ...get(UDST), ...get(USTEP), ...op.add, ...set(UDST),
  ...br(0),
  ...op.end, // $coordinates
  ...op.end, // $done
  ...op.end,
];

const bytes = [
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...section(
    1,
    vec([
      [0x60, ...vec([I32, I32, I32, I32, I32, I32, I32, I32]), ...vec([I32])],
      [0x60, ...vec([I32, I32, F32, I32, I32]), ...vec([I32])],
      [0x60, ...vec([I32, I32, F64, I32, I32]), ...vec([])],
    ]),
  ),
  ...section(3, vec([[0], [1], [2]])),
  ...section(5, vec([[0x00, 1]])),
  ...section(7, vec([[...name('scan'), 0x00, 0], [...name('pick'), 0x00, 1], [...name('unit'), 0x00, 2], [...name('memory'), 0x02, 0]])),
  ...section(10, vec([[...uleb(body.length), ...body], [...uleb(pickBody.length), ...pickBody], [...uleb(unitBody.length), ...unitBody]])),
];

const lines = [];
for (let i = 0; i < bytes.length; i += 24) lines.push(`  ${bytes.slice(i, i + 24).join(', ')},`);
const source = `// Generated by scripts/gen-column-scan.mjs: do not edit (run \`node scripts/gen-column-scan.mjs\` instead).

/** The WebAssembly module of \`scan\`, the first checks of the leader search, eight leaders at a time (see the script). */
export const COLUMN_SCAN_WASM = /* @__PURE__ */ new Uint8Array([
${lines.join('\n')}
]);
`;
writeFileSync(fileURLToPath(new URL('../src/dedup/columnScanWasm.ts', import.meta.url)), source);
console.log(`src/dedup/columnScanWasm.ts: ${bytes.length} bytes`);
