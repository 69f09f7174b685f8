// The overview's heatmap: one row per host (in the table's order and filter), one column per step,
// coloured green (0 %) to red (100 %), grey where no poll succeeded.
import type { HeatmapData } from '../shapes.js';

// 101 colours, one per whole percent.
const COLOURS = Array.from({ length: 101 }, (_, v) => `hsl(${Math.round(120 - 1.2 * v)}, 70%, 45%)`);
const GAP = 'rgba(128, 128, 128, 0.35)';

function geometry(heat: HeatmapData, rows: number, canvas: HTMLCanvasElement): { cellW: number; rowH: number; cols: number } {
  const cols = heat.values[0]?.length ?? 0;
  const avail = canvas.parentElement?.clientWidth ?? 800;
  return { cols, cellW: Math.max(1, Math.floor(avail / Math.max(1, cols))), rowH: Math.max(1, Math.min(14, Math.floor(600 / Math.max(1, rows)))) };
}

/** Draws the rows of `hosts` (by name) onto the canvas. */
export function drawHeatmap(heat: HeatmapData, hosts: readonly { host: string }[], canvas: HTMLCanvasElement): void {
  const { cols, cellW, rowH } = geometry(heat, hosts.length, canvas);
  canvas.width = Math.max(1, cols * cellW);
  canvas.height = Math.max(1, hosts.length * rowH);
  const ctx = canvas.getContext('2d');
  if (ctx === null) return;
  const index = new Map(heat.hosts.map((h, i) => [h, i]));
  hosts.forEach((h, r) => {
    const row = heat.values[index.get(h.host) ?? -1];
    for (let c = 0; c < cols; c += 1) {
      const v = row?.[c] ?? null;
      ctx.fillStyle = v === null ? GAP : (COLOURS[Math.max(0, Math.min(100, v))] as string);
      ctx.fillRect(c * cellW, r * rowH, cellW, rowH);
    }
  });
}

/** The host, time and value under a mouse event, or null outside the cells. */
export function heatmapAt(heat: HeatmapData, hosts: readonly { host: string }[], canvas: HTMLCanvasElement, e: MouseEvent): { host: string; time: number; value: number | null } | null {
  const { cols, cellW, rowH } = geometry(heat, hosts.length, canvas);
  const box = canvas.getBoundingClientRect();
  const scale = canvas.width / Math.max(1, box.width);
  const c = Math.floor(((e.clientX - box.left) * scale) / cellW);
  const r = Math.floor(((e.clientY - box.top) * (canvas.height / Math.max(1, box.height))) / rowH);
  const h = hosts[r];
  if (h === undefined || c < 0 || c >= cols) return null;
  const row = heat.values[heat.hosts.indexOf(h.host)];
  return { host: h.host, time: heat.first + c * heat.stepSec, value: row?.[c] ?? null };
}
