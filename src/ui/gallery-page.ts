/** The gallery page: one self-contained HTML document (inline CSS, no scripts); only the images are fetched. */
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { escapeHtml, type OutputAddress } from '../operations/delivery.js';

export interface GalleryEntry {
  item: MetadataItem;
  addresses: OutputAddress[];
}

export interface GalleryPage {
  stackName: string;
  generatedAt: Date;
  entries: GalleryEntry[];
  /** When presigned image URLs stop working; undefined when every image comes through the CDN. */
  expiresAt: Date | undefined;
  filter: string | undefined;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222;background:#fafafa}
h1{font-size:1.4rem;margin:0 0 .25rem}
.meta{color:#666;margin:0 0 1.5rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:1rem}
figure{margin:0;padding:.75rem;background:#fff;border:1px solid #ddd;border-radius:6px}
figure.failed{border-color:#d33;background:#fff5f5}
.thumbs{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}
.thumbs img{max-width:100%;height:auto;background:#eee}
figcaption{margin-top:.5rem;word-break:break-all}
.status{font-weight:600}
.failed .status{color:#b00}
.error code{background:#fee;padding:0 .2rem}
`;

function entryHtml({ item, addresses }: GalleryEntry): string {
  const failed = item.Status === 'FAILED';
  const thumbs = addresses
    .map(
      (a) =>
        `<a href="${escapeHtml(a.url)}"><img src="${escapeHtml(a.url)}" width="${a.output.Width}" height="${a.output.Height}" ` +
        `alt="${escapeHtml(`${item.OriginalFile} (${a.output.Size})`)}" data-size="${escapeHtml(a.output.Size)}" loading="eager"></a>`,
    )
    .join('');
  const sizes = item.Outputs.map((o) => `${escapeHtml(o.Size)} ${o.Width}×${o.Height}`).join(', ');
  const error = failed
    ? `<div class="error"><code class="error-code">${escapeHtml(item.ErrorCode ?? 'FAILED')}</code> ${escapeHtml(item.ErrorMessage ?? '')}</div>`
    : '';
  return [
    `<figure class="${failed ? 'failed' : 'ok'}" data-status="${escapeHtml(item.Status)}">`,
    thumbs ? `<div class="thumbs">${thumbs}</div>` : '',
    `<figcaption><div class="source">${escapeHtml(item.OriginalFile)}</div>`,
    `<div><span class="status">${escapeHtml(item.Status)}</span> · ${escapeHtml(item.ProcessedAt)}</div>`,
    sizes ? `<div class="sizes">${sizes}</div>` : '',
    error,
    '</figcaption></figure>',
  ].join('');
}

export function renderGalleryPage(page: GalleryPage): string {
  const expiry = page.expiresAt
    ? `Image links are presigned and stop working at ${page.expiresAt.toISOString()} (UTC); run <code>img-resizer gallery</code> again for fresh ones.`
    : 'Images load through the stack\'s CDN; their links do not expire.';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>img-resizer gallery: ${escapeHtml(page.stackName)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>img-resizer gallery: ${escapeHtml(page.stackName)}</h1>
<p class="meta">${page.entries.length} image${page.entries.length === 1 ? '' : 's'}${page.filter ? ` with status ${escapeHtml(page.filter)}` : ''}, newest first. Generated ${page.generatedAt.toISOString()}. <span class="expiry">${expiry}</span></p>
<div class="grid">
${page.entries.map(entryHtml).join('\n')}
</div>
</body>
</html>
`;
}
