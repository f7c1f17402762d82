/** A line of a chart: points with y in [0, 1] (or null where undefined, which breaks the line). */
export interface Series {
  readonly label: string;
  readonly color: string;
  readonly dashed?: boolean;
  readonly points: ReadonlyArray<readonly [number, number | null]>;
}

export interface Panel {
  readonly title: string;
  readonly series: readonly Series[];
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Side-by-side line charts sharing one x range and y in [0, 1], with a legend below. Plain SVG, no dependency:
 * the evaluation writes it next to docs/dedup-quality.md.
 */
export function lineCharts(panels: readonly Panel[], xRange: readonly [number, number], xLabel: string): string {
  const width = 420;
  const height = 260;
  const margin = { left: 44, right: 12, top: 28, bottom: 40 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const legend = panels[0]?.series ?? [];
  const legendRows = Math.ceil(legend.length / 2);
  const totalW = width * panels.length;
  const totalH = height + legendRows * 18 + 10;
  const x = (v: number) => margin.left + ((v - xRange[0]) / (xRange[1] - xRange[0])) * plotW;
  const y = (v: number) => margin.top + (1 - v) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalW}" height="${totalH}" viewBox="0 0 ${totalW} ${totalH}" font-family="sans-serif" font-size="11">`,
    `<rect width="${totalW}" height="${totalH}" fill="white"/>`,
  ];
  panels.forEach((panel, p) => {
    parts.push(`<g transform="translate(${p * width},0)">`);
    parts.push(`<text x="${margin.left + plotW / 2}" y="16" text-anchor="middle" font-size="13">${escape(panel.title)}</text>`);
    for (let t = 0; t <= 5; t++) {
      const v = t / 5;
      parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
      parts.push(`<text x="${margin.left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(1)}</text>`);
    }
    const steps = 4;
    for (let t = 0; t <= steps; t++) {
      const v = xRange[0] + ((xRange[1] - xRange[0]) * t) / steps;
      parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#eee"/>`);
      parts.push(`<text x="${x(v)}" y="${margin.top + plotH + 14}" text-anchor="middle">${v.toFixed(2)}</text>`);
    }
    parts.push(`<text x="${margin.left + plotW / 2}" y="${margin.top + plotH + 30}" text-anchor="middle">${escape(xLabel)}</text>`);
    parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
    for (const series of panel.series) {
      let path = '';
      let pen = false;
      for (const [px, py] of series.points) {
        if (py === null) {
          pen = false;
          continue;
        }
        path += `${pen ? 'L' : 'M'}${x(px).toFixed(1)},${y(py).toFixed(1)}`;
        pen = true;
      }
      const dash = series.dashed ? ' stroke-dasharray="5,3"' : '';
      parts.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="1.8"${dash}/>`);
    }
    parts.push('</g>');
  });
  legend.forEach((series, i) => {
    const lx = 20 + (i % 2) * (totalW / 2);
    const ly = height + 8 + Math.floor(i / 2) * 18;
    const dash = series.dashed ? ' stroke-dasharray="5,3"' : '';
    parts.push(`<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="${series.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${lx + 32}" y="${ly + 4}">${escape(series.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
