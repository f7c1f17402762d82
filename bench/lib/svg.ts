/**
 * Horizontal bar charts as standalone SVG, so docs/benchmarks.md carries plots without a plotting dependency.
 */
export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Text drawn after the bar; defaults to the value. */
  readonly note?: string;
  /** Highlights the bars of this library against its peers. */
  readonly ours?: boolean;
}

export interface BarChartOptions {
  readonly title: string;
  readonly unit: string;
  /** A vertical reference line (the ideal, the oracle, the baseline), with its label. */
  readonly reference?: { readonly value: number; readonly label: string };
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function barChart(bars: readonly Bar[], options: BarChartOptions): string {
  const width = 760;
  const labelWidth = 250;
  const noteWidth = 150;
  const barHeight = 22;
  const gap = 8;
  const top = 40;
  const plotWidth = width - labelWidth - noteWidth - 20;
  const max = Math.max(options.reference?.value ?? 0, ...bars.map((b) => b.value)) || 1;
  const x = (v: number) => labelWidth + (plotWidth * v) / max;
  const height = top + bars.length * (barHeight + gap) + 36;
  const parts: string[] = [
    `<text x="10" y="22" font-weight="bold">${escape(options.title)}</text>`,
  ];
  bars.forEach((bar, i) => {
    const y = top + i * (barHeight + gap);
    const w = Math.max(1, x(bar.value) - labelWidth);
    parts.push(`<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escape(bar.label)}</text>`);
    parts.push(
      `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${bar.ours ? '#1b7f3b' : '#9ecae1'}"><title>${escape(bar.label)}: ${escape(bar.note ?? String(bar.value))}</title></rect>`,
    );
    parts.push(`<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 15}">${escape(bar.note ?? String(bar.value))}</text>`);
  });
  const axisY = top + bars.length * (barHeight + gap);
  parts.push(`<line x1="${labelWidth}" x2="${labelWidth + plotWidth}" y1="${axisY}" y2="${axisY}" stroke="#999"/>`);
  parts.push(`<text x="${labelWidth + plotWidth}" y="${axisY + 16}" text-anchor="end" fill="#555">${escape(options.unit)}</text>`);
  if (options.reference) {
    const rx = x(options.reference.value).toFixed(1);
    parts.push(`<line x1="${rx}" x2="${rx}" y1="${top - 6}" y2="${axisY}" stroke="#d62728" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${rx}" y="${axisY + 30}" text-anchor="middle" fill="#d62728">${escape(options.reference.label)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">\n${parts.join('\n')}\n</svg>\n`;
}
