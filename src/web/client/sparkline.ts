// A 24 h sparkline on a small canvas: a line with breaks where no poll succeeded, scaled 0-100 %.

/** Draws `values` (percentages, null = gap) across the canvas. */
export function drawSparkline(canvas: HTMLCanvasElement, values: readonly (number | null)[]): void {
  const ctx = canvas.getContext('2d');
  if (ctx === null || values.length === 0) return;
  const { width, height } = canvas;
  const color = getComputedStyle(canvas).color || '#2f6fdf';
  ctx.clearRect(0, 0, width, height);
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  const dx = width / Math.max(1, values.length - 1);
  const y = (v: number): number => height - 1 - (Math.min(100, Math.max(0, v)) / 100) * (height - 2);
  ctx.beginPath();
  let drawing = false;
  values.forEach((v, i) => {
    if (v === null) {
      drawing = false;
      return;
    }
    if (drawing) ctx.lineTo(i * dx, y(v));
    else ctx.moveTo(i * dx, y(v));
    drawing = true;
  });
  ctx.stroke();
}
