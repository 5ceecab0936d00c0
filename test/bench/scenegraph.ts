/**
 * Test helper: renders a Vega-Lite specification with Vega (headless) and walks the scenegraph, to
 * tell whether a chart shows its data: every data mark with a positive extent, the texts it shows.
 */
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

/** What a rendered chart shows. */
export interface ChartScene {
  /** Data marks drawn (bars, line points, symbols), by mark type. */
  readonly marks: Readonly<Record<string, number>>;
  /** Every data mark that shows nothing: zero or invalid width or height, a line of fewer than two distinct points. */
  readonly empty: readonly string[];
  /** Every text in the chart (titles, axis labels and titles, headers, legend labels, labels on marks). */
  readonly texts: readonly string[];
  /** Axis titles, by orientation. */
  readonly axisTitles: Readonly<Record<string, readonly string[]>>;
}

interface SceneItem {
  readonly x?: number;
  readonly y?: number;
  readonly width?: number;
  readonly height?: number;
  readonly size?: number;
  readonly text?: string | string[];
  readonly orient?: string;
  readonly items?: readonly SceneMark[];
  readonly datum?: unknown;
}

interface SceneMark {
  readonly marktype: string;
  readonly role: string;
  readonly name?: string;
  readonly items: readonly SceneItem[];
}

const finite = (v: number | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Compiles, renders and inspects `spec`. */
export async function inspectChart(spec: Record<string, unknown>): Promise<ChartScene> {
  const logger = vega.logger(vega.None);
  const view = new vega.View(vega.parse(vegaLite.compile(spec as never, { logger }).spec), { renderer: 'none', logger });
  await view.runAsync();
  const marks: Record<string, number> = {};
  const empty: string[] = [];
  const texts: string[] = [];
  const axisTitles: Record<string, string[]> = {};
  const walk = (mark: SceneMark, axisOrient: string | undefined): void => {
    if (mark.role === 'mark' && mark.marktype === 'line') {
      marks['line'] = (marks['line'] ?? 0) + 1;
      const points = new Set(mark.items.filter((i) => finite(i.x) && finite(i.y)).map((i) => `${i.x},${i.y}`));
      if (points.size < 2) empty.push(`line ${mark.name ?? ''} with ${points.size} distinct point(s)`);
    }
    for (const item of mark.items) {
      if (mark.marktype === 'group') {
        const orient = mark.role === 'axis' ? item.orient : axisOrient;
        for (const child of item.items ?? []) walk(child, orient);
        continue;
      }
      if (mark.marktype === 'text' && item.text !== undefined) {
        const t = Array.isArray(item.text) ? item.text.join(' ') : item.text;
        texts.push(t);
        if (mark.role === 'axis-title' && axisOrient !== undefined) (axisTitles[axisOrient] ??= []).push(t);
      }
      if (mark.role !== 'mark') continue;
      if (mark.marktype === 'rect') {
        marks['rect'] = (marks['rect'] ?? 0) + 1;
        if (!finite(item.width) || !finite(item.height) || item.width <= 0 || item.height <= 0 || !finite(item.x) || !finite(item.y)) {
          empty.push(`rect ${mark.name ?? ''} at (${item.x}, ${item.y}) of ${item.width} x ${item.height} for ${JSON.stringify(item.datum)}`);
        }
      } else if (mark.marktype === 'symbol') {
        marks['symbol'] = (marks['symbol'] ?? 0) + 1;
        if (!finite(item.x) || !finite(item.y) || !((item.size ?? 64) > 0)) empty.push(`symbol ${mark.name ?? ''} at (${item.x}, ${item.y})`);
      }
    }
  };
  walk((view.scenegraph() as unknown as { root: SceneMark }).root, undefined);
  view.finalize();
  return { marks, empty, texts, axisTitles };
}
