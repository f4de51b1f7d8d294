import { readFileSync } from 'node:fs';
import { decodeDcImage } from '../lambda-src/core/jpeg/dc-decode.js';
const input = readFileSync(process.argv[2]!);
for (let i = 0; i < 8; i++) { const c = process.cpuUsage(); const t = performance.now(); decodeDcImage(input); const u = process.cpuUsage(c); console.log((performance.now() - t).toFixed(1), ((u.user + u.system) / 1000).toFixed(1)); }
