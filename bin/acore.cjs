#!/usr/bin/env node
'use strict';
// Thin launcher: everything lives in the bundled CLI, which never throws for a user mistake.
require('./load.cjs')
  .loadCli()
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
