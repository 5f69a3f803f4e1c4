/**
 * The page routes of the metrics port (issue 16), as a pure function of the run table and the request path:
 * `/` (run list) and `/runs/{id}` (one run), each with `?fragment=1` for the live part the page re-fetches.
 * src/server/sidecarServer.ts checks the bearer token and --ui before calling it.
 */
import type { Run } from '../server/runTable.js';
import { notFoundPage, runFragment, runListFragment, runListPage, runPage } from './pages.js';
import { runPageData, runRow } from './runView.js';

export interface UiResponse {
  status: number;
  contentType: string;
  body: string;
}

/** True for the paths the pages answer. */
export function isUiPath(path: string): boolean {
  return path === '/' || path.startsWith('/runs/');
}

const HTML = 'text/html; charset=utf-8';

/** The page (or fragment) for `path`; runs are read from `runs` (the run table) at call time. */
export function uiResponse(runs: { values(): Iterable<Run>; get(id: string): Run | undefined }, path: string, query: string, version: string): UiResponse {
  const fragment = new URLSearchParams(query).get('fragment') === '1';
  if (path === '/') {
    const rows = [...runs.values()].map(runRow).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { status: 200, contentType: HTML, body: fragment ? runListFragment(rows) : runListPage(rows, version) };
  }
  let id: string;
  try {
    id = decodeURIComponent(path.slice('/runs/'.length));
  } catch {
    return { status: 400, contentType: 'text/plain; charset=utf-8', body: 'bad run id in the path: percent-encode it as one path segment (/runs/<encodeURIComponent(id)>)\n' };
  }
  const run = id ? runs.get(id) : undefined;
  if (!run) return { status: 404, contentType: HTML, body: notFoundPage(id) };
  const data = runPageData(run);
  return { status: 200, contentType: HTML, body: fragment ? runFragment(data) : runPage(data, version) };
}
