#!/usr/bin/env node
// Prints the raw and gzip (level 9) size of a wasm file; exits 1 above the gzip budget.
// Usage: node scripts/wasm-size.mjs <file.wasm> <gzip budget in bytes>
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const [file, budgetArg] = process.argv.slice(2);
if (!file || !budgetArg) {
  console.error('usage: wasm-size.mjs <file.wasm> <gzip budget in bytes>');
  process.exit(2);
}
const budget = Number(budgetArg);
const raw = readFileSync(file);
const gz = gzipSync(raw, { level: 9 }).length;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`${file}: ${raw.length} bytes raw (${kib(raw.length)}), ${gz} bytes gzip (${kib(gz)}); budget ${kib(budget)} gzip`);
if (gz > budget) {
  console.error(`${file}: gzip size ${gz} exceeds the budget of ${budget} bytes`);
  process.exit(1);
}
