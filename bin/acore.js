#!/usr/bin/env node
// Thin launcher: everything lives in the bundled CLI, which never throws for a user mistake.
import { main } from '../dist/acore.js';

process.exitCode = await main(process.argv.slice(2));
