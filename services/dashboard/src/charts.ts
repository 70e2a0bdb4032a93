// Apache ECharts from its core with only the charts and components used here,
// so the bundle carries bars, lines and candlesticks, not the whole library.
import { BarChart, CandlestickChart, LineChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import { init, use } from 'echarts/core';
import type { EChartsCoreOption, EChartsType } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { h } from './dom.js';

use([BarChart, LineChart, CandlestickChart, ScatterChart, GridComponent, LegendComponent, TooltipComponent, MarkLineComponent, CanvasRenderer]);

export const PALETTE = ['#2563eb', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#06b6d4', '#84cc16', '#ec4899'];

const live = new Set<EChartsType>();
addEventListener('resize', () => {
  for (const chart of live) chart.resize();
});

/**
 * A chart in a box of the given height. Charts are disposed when the view
 * changes (`disposeCharts`), or each visit would leak a canvas and a listener.
 */
export function chart(option: EChartsCoreOption, height = 280, label = 'chart'): HTMLElement {
  const box = h('div', { class: 'chart', role: 'img', 'aria-label': label, style: `height:${height}px` });
  // ECharts measures its box: initialise once the box is in the document
  requestAnimationFrame(() => {
    if (!box.isConnected) return;
    const instance = init(box, undefined, { renderer: 'canvas' });
    instance.setOption({ color: PALETTE, animation: false, textStyle: { fontFamily: 'inherit' }, ...option });
    live.add(instance);
  });
  return box;
}

export function disposeCharts(): void {
  for (const chart of live) chart.dispose();
  live.clear();
}
