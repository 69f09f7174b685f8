// The dashboard's HTML pages: fixed markup, no data in it and no inline script or style (the
// Content-Security-Policy forbids both). Each page loads the style sheet and its one module (the host
// page uPlot too, before its module);
// the module reads the URL (range, filters) and fetches the JSON it draws.

// The pages, by the module that drives each.
export type PageName = 'overview' | 'host' | 'alerts' | 'workers';

const TITLES: Readonly<Record<PageName, string>> = { overview: 'Fleet overview', host: 'Host', alerts: 'Alerts', workers: 'Workers' };

/** The HTML of a page. */
export function pageHtml(page: PageName): string {
  const nav = (['overview', 'alerts', 'workers'] as const)
    .map((p) => `<a href="${p === 'overview' ? '/' : `/${p}`}"${p === page ? ' aria-current="page"' : ''}>${TITLES[p]}</a>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${TITLES[page]} · fleetpoll</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
${page === 'host' ? '<link rel="stylesheet" href="/assets/uplot/uPlot.min.css">\n' : ''}<link rel="stylesheet" href="/assets/dashboard.css">
${page === 'host' ? '<script src="/assets/uplot/uPlot.iife.min.js"></script>\n' : ''}<script type="module" src="/assets/web/client/${page}-page.js"></script>
</head>
<body data-page="${page}">
<header><span class="brand">fleetpoll</span><nav aria-label="Pages">${nav}</nav></header>
<main id="main" aria-busy="true"><p class="loading">Loading…</p></main>
</body>
</html>
`;
}
