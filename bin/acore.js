#!/usr/bin/env node
'use strict';
// Thin launcher: everything lives in the bundled CLI, which never throws for a user mistake.
// CommonJS (bin/package.json): an ES module entry point costs Node ~10 ms more to start. The
// name stays bin/acore.js: npx keeps links to a project's bin in its cache across upgrades.
// It exits as soon as the command is done: its output is written synchronously and it leaves
// nothing running, and a one-file `acore validate` then skips the garbage collection V8 would
// schedule before a natural exit (~5 ms of ~170).
require('./load.cjs')
  .loadCli()
  .main(process.argv.slice(2))
  .then((code) => {
    process.exit(code);
  });
