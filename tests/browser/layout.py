"""Layout checks run inside the page: the header laid out, charts' labels inside their charts,
bars as long as their numbers. Each returns the problems it finds, described well enough to fix
(an empty list when all is well)."""

# ruff: noqa: E501 (JavaScript run in the page, laid out as JavaScript)

from __future__ import annotations

#: The top bar and the page head: no item wrapped (a menu entry, a tab, the title, the user
#: box's links each on one line), none overlapping a sibling, no tab strip or title clipped.
HEADER_PROBLEMS = """() => {
  const problems = [];
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
    + ' "' + (e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 24) + '"';
  const lines = e => {  // a piece starting below the first line's bottom is on a second line
    const r = document.createRange(); r.selectNodeContents(e);
    const rects = [...r.getClientRects()].filter(x => x.width > 0);
    const first = Math.min(...rects.map(x => x.bottom));
    return rects.some(x => x.top >= first - 1) ? 2 : 1;
  };
  const overlap = (a, b) => {
    const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
    return Math.min(r.right, s.right) - Math.max(r.left, s.left) > 1
      && Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top) > 1;
  };
  const oneLine = [...document.querySelectorAll(
    '.topbar .mainnav a, .topbar .userbox > a, .topbar .userbox button, .topbar .brand,'
    + ' .pagehead > h1, .pagehead > div > h1, .pagehead .tabs a')].filter(shown);
  for (const e of oneLine) { if (lines(e) > 1) problems.push('wrapped: ' + name(e)); }
  const groups = [
    [...document.querySelectorAll('.topbar > *')],
    [...document.querySelectorAll('.topbar .mainnav > a')],
    [...document.querySelectorAll('.topbar .userbox > *')],
    [...document.querySelectorAll('.pagehead > *')],
    [...document.querySelectorAll('.pagehead .tabs > a')],
  ];
  for (const group of groups) {
    const items = group.filter(shown);
    for (let i = 0; i < items.length; i++) {
      for (let j = i + 1; j < items.length; j++) {
        if (overlap(items[i], items[j])) problems.push('overlap: ' + name(items[i]) + ' / ' + name(items[j]));
      }
    }
  }
  for (const e of [...document.querySelectorAll('.topbar, .mainnav, .pagehead .tabs, .pagehead h1')].filter(shown)) {
    if (e.scrollWidth > e.clientWidth + 1) problems.push('clipped: ' + name(e) + ' ' + e.scrollWidth + ' > ' + e.clientWidth);
  }
  if (document.documentElement.scrollWidth > window.innerWidth) problems.push('page wider than the window');
  return problems;
}"""

#: Every text of every drawn chart (SVG) inside its chart's box.
CHART_LABELS_OUTSIDE = """() => {
  const problems = [];
  for (const chart of document.querySelectorAll('.chart[data-rendered="1"]')) {
    const box = chart.getBoundingClientRect();
    for (const t of chart.querySelectorAll('svg text')) {
      const r = t.getBoundingClientRect();
      if (!t.textContent.trim() || r.width === 0) continue;
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) {
        problems.push(chart.id + ': "' + t.textContent + '" at ' + [r.left, r.top, r.right, r.bottom].map(Math.round)
          + ' outside ' + [box.left, box.top, box.right, box.bottom].map(Math.round));
      }
    }
  }
  return problems;
}"""

#: For each KPI chart drawn with bars: the numbers its table shows for the bar series (in
#: order) and the bars drawn (SVG paths of the bars' colour inside the plot area): their
#: length along the value axis, their centre across it, in the order they are drawn.
KPI_BARS = """([colour]) => {
  const data = JSON.parse(document.getElementById('kpi-data').textContent);
  const out = {};
  const probe = document.createElement('span'); probe.style.color = colour; document.body.appendChild(probe);
  const want = getComputedStyle(probe).color; probe.remove();
  for (const [key, f] of Object.entries(data)) {
    const el = document.getElementById('chart-' + key);
    if (!el || el.dataset.rendered !== '1' || !['bar', 'funnel'].includes(f.chart)) continue;
    const funnel = f.chart === 'funnel';
    const column = Object.keys(f.labels).indexOf(f.series[0]);
    const shown = [...document.querySelectorAll('#table-' + key + ' tbody tr')].map(tr => {
      const text = tr.children[column].textContent.trim().replace(/[,%\\s]/g, '');
      return text === '—' || text === '' ? null : Number(text);
    });
    const gridModel = window.echarts.getInstanceByDom(el).getModel().getComponent('grid');
    if (!gridModel) { out[key] = { funnel, shown, bars: [], labels: [] }; continue; }  // not drawn as bars
    const grid = gridModel.coordinateSystem.getRect();
    const origin = el.getBoundingClientRect();
    const bars = [...el.querySelectorAll('svg path')].filter(p => getComputedStyle(p).fill === want).map(p => {
      const r = p.getBoundingClientRect();
      return { x: r.left - origin.left, y: r.top - origin.top, w: r.width, h: r.height };
    }).filter(b => b.x + b.w / 2 >= grid.x - 1 && b.x + b.w / 2 <= grid.x + grid.width + 1
      && b.y + b.h / 2 >= grid.y - 1 && b.y + b.h / 2 <= grid.y + grid.height + 1);
    bars.sort((a, b) => funnel ? a.y - b.y : a.x - b.x);
    out[key] = { funnel, shown, bars: bars.map(b => funnel
      ? { length: b.w, centre: b.x + b.w / 2 } : { length: b.h, centre: b.x + b.w / 2 }) };
    if (funnel) {
      out[key].labels = [...el.querySelectorAll('svg text')].map(t => t.textContent);
    }
  }
  return out;
}"""
