#!/usr/bin/env bash
# A short end-to-end run of the CLI itself, on whatever `node` is first on PATH (CI runs it under
# `npm run with-node -- 24 --`), installed as a user installs it: `npm pack`, then a global install (into a
# scratch prefix), run from a directory outside the clone. On a private local stack on a free port: init,
# upload a photo and wait for the function to resize it, list the metadata (the later commands without
# --local: they follow the settings file init wrote), stop the stack.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
prefix="$work/global"
cli() { img-resizer "$@"; }
cleanup() { (cd "$work/photos" && cli local stop --port "${port:-0}" >/dev/null 2>&1) || true; rm -rf "$work"; }
trap cleanup EXIT
(cd "$root" && npm pack --silent --pack-destination "$work" >/dev/null)
npm install --global --prefix "$prefix" --no-audit --no-fund --loglevel=error "$work"/img-resizer-*.tgz
export PATH="$prefix/bin:$PATH"
mkdir "$work/photos"
cd "$work/photos"
echo "installed $(cli --version) from the packed package into $prefix"
echo "CLI end-to-end on node $(node --version)"
port="$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")"
cli local start --port "$port"
# The stack runs its functions on the default runtime's Node (nodejs24.x: Node 24), whatever node runs the CLI.
cli local status --port "$port" --json | node -e "
const status = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
if (!/^v24\./.test(status.functionNodeVersion ?? '')) { console.error('expected functions on Node 24, got', status.functionNodeVersion); process.exit(1); }
console.log('local stack runs functions on Node', status.functionNodeVersion);
"
# --local-port: this private stack (plain --local would mean the default port's shared stack); later commands follow the settings file.
cli init --local-port "$port" --yes --stack-name e2e | tee init.out
# The next step it prints is the installed command, which works when pasted (no --local: the settings file has it).
grep -q 'Try it: img-resizer upload <image> --wait' init.out
# A photo-like JPEG (noise, so the encoder has real work), drawn with the installed package's sharp.
node -e "require('$prefix/lib/node_modules/img-resizer/node_modules/sharp')({ create: { width: 1200, height: 800, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg().toFile('photo.jpg')"
cli upload photo.jpg --wait --timeout 120
cli metadata list --json > items.json
node -e "
const items = require('./items.json');
const done = items.filter((i) => i.Status === 'SUCCEEDED');
if (items.length !== 1 || done.length !== 1) { console.error('expected one SUCCEEDED item, got', JSON.stringify(items)); process.exit(1); }
console.log('CLI end-to-end: photo.jpg resized, metadata SUCCEEDED');
"
