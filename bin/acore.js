#!/usr/bin/env node
// Thin launcher: everything lives in the bundled CLI, which never throws for a user mistake.
import { loadCli } from './load.js';

process.exitCode = await loadCli().main(process.argv.slice(2));
