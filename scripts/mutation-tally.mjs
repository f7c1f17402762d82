// @ts-check
/**
 * The whole core's mutation score from docs/testing.md's "Scores (stop N ...)" tables (stop 17 on): for each file
 * its latest complete run, or the sum of its complete pieces (rows whose file cell names line ranges, or whose run
 * says partial) where it has none; a run marked "repeat" is not counted. Figures are each run's, before the kills
 * that followed it, so the score is if anything low.
 *
 *   node scripts/mutation-tally.mjs              # per file, and the total
 *   node scripts/mutation-tally.mjs --md --folders   # the tables docs/testing.md shows
 */
import { readFileSync } from 'node:fs';
const text = readFileSync('docs/testing.md', 'utf8');
const sections = text.split(/\n## /).filter((s) => /^Scores \(stop (\d+)/.test(s));
const rows = [];
for (const s of sections) {
  const stop = Number(/^Scores \(stop (\d+)/.exec(s)[1]);
  if (stop < 17) continue;
  let header;
  for (const line of s.split('\n')) {
    if (!line.startsWith('|')) { header = header && line.trim() === '' ? header : header; continue; }
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (!cells[0].startsWith('src/') && !cells[0].startsWith('**') && !/^-+:?$/.test(cells[0])) { header = cells[0] === 'file' ? cells : undefined; continue; }
    if (!header || !cells[0].startsWith('src/')) continue;
    const col = (name) => { const i = header.indexOf(name); return i < 0 ? 0 : Number((cells[i] || '0').replace(/,/g, '')) || 0; };
    const file = /^(src\/\S+\.ts)/.exec(cells[0])?.[1];
    if (!file) continue;
    const run = header.includes('run') ? cells[header.indexOf('run')] : header.includes('run (commit)') ? cells[header.indexOf('run (commit)')] : '';
    const partial = /partial|of its mutants|:\d+-\d+|mutants\)/.test(cells[0] + ' ' + run) && !/complete range|complete \(/.test(run) ? true : /partial/.test(run + cells[0]);
    const range = /:(\d+)-(\d+)/.test(cells[0]) && /complete range/.test(run);
    const killed = col('killed'), timeout = col('timeout'), survived = col('survived'), nocov = col('no coverage');
    if (killed + timeout + survived + nocov === 0 || /repeat/.test(run)) continue;
    rows.push({ stop, file, partial: partial || range, detected: killed + timeout, counted: killed + timeout + survived + nocov, label: cells[0] + ' | ' + run });
  }
}
const byFile = new Map();
for (const r of rows) (byFile.get(r.file) ?? byFile.set(r.file, []).get(r.file)).push(r);
let detected = 0, counted = 0;
const out = [];
for (const [file, rs] of [...byFile].sort()) {
  const complete = rs.filter((r) => !r.partial).sort((a, b) => b.stop - a.stop);
  const used = complete.length ? [complete[0]] : rs.filter((r) => r.partial);
  const d = used.reduce((s, r) => s + r.detected, 0), c = used.reduce((s, r) => s + r.counted, 0);
  detected += d; counted += c;
  out.push(`${(100 * d / c).toFixed(1).padStart(5)} % ${String(d).padStart(4)}/${String(c).padEnd(4)} ${complete.length ? 'complete' : 'PARTIAL '} s${used.map((r) => r.stop).join('+')} ${file}`);
}
console.log(out.join('\n'));
console.log(`whole core: ${detected} / ${counted} = ${(100 * detected / counted).toFixed(1)} % over ${byFile.size} files`);
if (process.argv.includes('--md')) {
  console.log('\n| file | from | detected | counted | score |\n|---|---|---:|---:|---:|');
  for (const [file, rs] of [...byFile].sort()) {
    const complete = rs.filter((r) => !r.partial).sort((a, b) => b.stop - a.stop);
    const used = complete.length ? [complete[0]] : rs.filter((r) => r.partial);
    const d = used.reduce((s, r) => s + r.detected, 0), c = used.reduce((s, r) => s + r.counted, 0);
    console.log(`| ${file} | ${complete.length ? `stop ${used[0].stop}, complete` : `pieces of stops ${[...new Set(used.map((r) => r.stop))].join(', ')}`} | ${d} | ${c} | ${(100 * d / c).toFixed(1)} % |`);
  }
  console.log(`| **whole core** | | **${detected.toLocaleString('en')}** | **${counted.toLocaleString('en')}** | **${(100 * detected / counted).toFixed(1)} %** |`);
}
if (process.argv.includes('--folders')) {
  const folders = new Map();
  for (const [file, rs] of byFile) {
    const complete = rs.filter((r) => !r.partial).sort((a, b) => b.stop - a.stop);
    const used = complete.length ? [complete[0]] : rs.filter((r) => r.partial);
    const folder = file.split('/').length > 2 ? file.split('/').slice(0, 2).join('/') : file;
    const f = folders.get(folder) ?? { d: 0, c: 0, n: 0 };
    f.d += used.reduce((s, r) => s + r.detected, 0); f.c += used.reduce((s, r) => s + r.counted, 0); f.n++;
    folders.set(folder, f);
  }
  console.log('\n| folder | files | detected | counted | score |\n|---|---:|---:|---:|---:|');
  for (const [folder, f] of [...folders].sort()) console.log(`| ${folder} | ${f.n} | ${f.d.toLocaleString('en')} | ${f.c.toLocaleString('en')} | ${(100 * f.d / f.c).toFixed(1)} % |`);
}
