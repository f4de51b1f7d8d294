#!/usr/bin/env node
// Thin launcher: everything, including the exit code, is decided in main().
import { main } from '../dist/src/main.js';

await main(process.argv);
